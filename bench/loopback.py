"""The end-to-end bench's servers, each in a child process: the loopback Alpha Vantage over a
`SyntheticSample`, and moto's S3.

They run in spawned children so the measured process holds only what the pipeline holds (moto
keeps every object in memory, and the sample server its pre-rendered answers) and does not share
its interpreter lock with them. Each child is driven by calls over a pipe and reports its own
peak RSS when stopped.
"""

import logging
import multiprocessing
import resource
import time
from collections.abc import Callable
from datetime import date
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench.ports import free_port
from bench.synthetic_sample import SyntheticSample
from stock_assets.alphavantage.api import DAILY
from stock_assets.alphavantage.sample import Reply, SampleAnswers
from stock_assets.alphavantage.sample_server import Arrival, SampleServer


def _status_mib(field: str) -> float | None:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return None


def peak_rss_mib() -> float:
    """This process's peak resident set size in MiB.

    Linux's VmHWM is the current program's own; `ru_maxrss` would carry over, across the exec
    that starts a spawned child, the parent's RSS at the fork.
    """
    peak = _status_mib("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mib() -> float:
    """This process's resident set size now, in MiB (0 where /proc is not there)."""
    return _status_mib("VmRSS") or 0.0


class RenderedAnswers(SampleAnswers):
    """A `SyntheticSample`'s answers rendered ahead (`prepare`), so serving one costs no CPU."""

    def __init__(self, sample: SyntheticSample):
        super().__init__(provider=sample)
        self.sample = sample
        self._rendered: dict[tuple[str, str, str], Reply] = {}

    def prepare(self, as_of: date | None, outputsizes: list[str]) -> float:
        """Serve the histories as of `as_of`, rendered for these output sizes; seconds taken."""
        started = time.perf_counter()
        self._rendered.clear()  # before rendering the new ones: one day's bodies at a time
        self.sample.as_of = as_of
        for symbol in self.sample.symbols:
            for outputsize in outputsizes:
                params = {"function": DAILY, "symbol": symbol, "outputsize": outputsize}
                self._rendered[(symbol, outputsize, "json")] = super().answer(params)
        return time.perf_counter() - started

    def answer(
        self, params: dict[str, str], *, alter: Callable[[dict], dict] | None = None
    ) -> Reply:
        key = (
            params.get("symbol", ""),
            params.get("outputsize", "compact"),
            params.get("datatype", "json"),
        )
        if params.get("function") == DAILY and key in self._rendered and alter is None:
            return self._rendered[key]
        return super().answer(params, alter=alter)


class SampleService:
    """In the child: the loopback server over `count` synthetic symbols ending on `last_session`."""

    def __init__(self, count: int, last_session: date, seed: int):
        self.answers = RenderedAnswers(SyntheticSample(count, seed=seed, last_session=last_session))
        self.server = SampleServer(self.answers).start()

    def url(self) -> str:
        return self.server.url

    def prepare(self, as_of: date | None, outputsizes: list[str]) -> float:
        return self.answers.prepare(as_of, outputsizes)

    def set_latency(self, seconds: float) -> None:
        self.server.latency = seconds

    def arrivals(self) -> list[Arrival]:
        return self.server.arrivals()

    def clear(self) -> None:
        self.server.clear()

    def stop(self) -> None:
        self.server.stop()


class MotoService:
    """In the child: moto's S3 server on a free loopback port."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.port = free_port()
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.stop()


def _serve(connection: Connection, factory: Callable[..., Any], args: tuple) -> None:
    """The child's loop: build the service, then answer (method, args) calls until 'stop'."""
    try:
        service = factory(*args)
        connection.send(service.url())
    except Exception as error:
        connection.send(error)
        return
    while True:
        method, call_args = connection.recv()
        try:
            result = getattr(service, method)(*call_args)
        except Exception as error:
            connection.send(error)
            continue
        if method == "stop":
            connection.send(peak_rss_mib())
            return
        connection.send(result)


class ChildServer:
    """A service started in a spawned child process; `call` runs one of its methods there."""

    def __init__(self, factory: Callable[..., Any], *args: Any):
        context = multiprocessing.get_context("spawn")
        self._connection, child_end = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(child_end, factory, args), daemon=True
        )
        self._process.start()
        self.url: str = self._receive()
        self.peak_rss_mib: float | None = None

    def _receive(self) -> Any:
        reply = self._connection.recv()
        if isinstance(reply, BaseException):
            raise reply
        return reply

    def call(self, method: str, *args: Any) -> Any:
        self._connection.send((method, args))
        return self._receive()

    def stop(self) -> None:
        """Stop the service and the child, keeping the child's peak RSS."""
        if self.peak_rss_mib is not None or not self._process.is_alive():
            return
        try:
            self.peak_rss_mib = self.call("stop")
        finally:
            self._process.join(timeout=30)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join(timeout=5)
