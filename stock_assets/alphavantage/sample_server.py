"""A loopback Alpha Vantage-compatible HTTP server over the bundled sample, with fault injection.

Tests, benchmarks and hand checks point ``ALPHAVANTAGE_BASE_URL`` at it. It serves
``/query?function=…&symbol=…&outputsize=…&datatype=…&apikey=…`` like the real API and can be told
to answer a symbol with any error payload, a throttle note, a 5xx, an HTML page, a slow answer, a
truncated body, a body sent a byte every `drip_seconds` (``drip``) or never sent after the
headers (``stall``), the status line and headers sent a byte at a time too (``drip_headers``),
or serve the real series with three rows broken (``poisoned``). It serves requests concurrently,
can add a fixed latency to each, and logs when each request arrived, so a load test can measure
the rate a client achieved::

    python -m stock_assets.alphavantage.sample_server --port 8765 --fail IBM=error_invalid_call

Over 300 lines: every fault the server can inject is written here, beside the server, so a test
reads one module to know exactly what a fault sends.
"""

import argparse
import select
import socket
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from stock_assets.alphavantage.api import ACTION_FIELDS, SERIES_KEY
from stock_assets.alphavantage.sample import (
    Reply,
    SampleAnswers,
    SeriesProvider,
    error_payload,
    query_params,
)

_BURST = (
    b'{\n    "Information": "Thank you for using Alpha Vantage! Please consider spreading out '
    b'your free API requests more sparingly (1 request per second)."\n}'
)
# Alpha Vantage's throttle as sent in 2025: it names premium endpoints and a daily limit too.
_BURST_PATTERN = (
    b'{\n    "Information": "Burst pattern detected. Please consider spreading out your free API '
    b'requests more sparingly (1 request per second). You may subscribe to any of the premium '
    b'plans at https://www.alphavantage.co/premium/ to lift the free key rate limit (25 requests '
    b'per day), raise the per-minute limit to higher levels, and unlock all premium '
    b'endpoints"\n}'
)
_DEMO = (
    b'{\n    "Information": "The **demo** API key is for demo purposes only. Please claim your '
    b'free API key at (https://www.alphavantage.co/support/#api-key) to explore our full API '
    b'offerings."\n}'
)
FAULTS = {
    "error_invalid_call", "error_apikey_missing", "information_rate_limit_daily",
    "information_premium_endpoint", "information_outputsize_full_premium",
    "note_rate_limit_per_minute_legacy", "information_burst", "information_demo",
    "information_burst_pattern", "http_500", "http_503", "html", "slow", "truncated", "cut",
    "poisoned", "full_refused", "drip", "stall", "drip_headers",
}
# Faults that change how the real answer is sent, not what it says.
_DELIVERY_FAULTS = {"slow", "truncated", "cut", "poisoned", "drip", "stall", "drip_headers"}
_HELD = {"drip", "stall", "drip_headers"}  # sent through `hold`
POISONED_ROWS = {10: "high below low", 20: "negative volume", 30: "unparseable close"}


def poison(payload: dict) -> dict:
    """A copy of the payload with three rows broken (by position, newest first), for testing
    that validation quarantines exactly those rows."""
    series = {day: dict(row) for day, row in payload[SERIES_KEY].items()}
    days = list(series)
    fields = {name.split(". ", 1)[1]: name for name in series[days[0]]}
    broken = series[days[10]]
    broken[fields["high"]] = f"{float(broken[fields['low']]) - 1:.4f}"
    series[days[20]][fields["volume"]] = "-100"
    series[days[30]][fields["close"]] = "n/a"
    return {**payload, SERIES_KEY: series}


@dataclass(frozen=True)
class Arrival:
    """One request as the server received it: when (both clocks) and what it asked for."""

    monotonic: float
    wall: float
    function: str
    symbol: str
    outputsize: str


class SampleServer:
    """Serve the sample on 127.0.0.1; `fail()` queues faults per symbol ('*' for any).

    `answers` is a `SampleAnswers` or a `SeriesProvider` (served besides the bundle). Each
    request's arrival is logged (`arrivals()`); `latency` seconds are added to every reply.
    """

    def __init__(
        self,
        answers: SampleAnswers | SeriesProvider | None = None,
        *,
        api_key: str | None = None,
        latency: float = 0.0,
        slow_seconds: float = 3.0,
        drip_seconds: float = 1.0,
        port: int = 0,
    ):
        if answers is not None and not isinstance(answers, SampleAnswers):
            answers = SampleAnswers(provider=answers)
        self.answers = answers or SampleAnswers()
        self.api_key = api_key
        self.latency = latency
        self.slow_seconds = slow_seconds
        self.drip_seconds = drip_seconds
        self._stopped = threading.Event()
        self.requests: list[dict[str, str]] = []
        self._arrivals: list[Arrival] = []
        self._faults: dict[str, deque[str]] = defaultdict(deque)
        self._sticky: dict[str, str] = {}
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/query"

    def fail(self, symbol: str, *faults: str, sticky: bool = False) -> None:
        """Answer the next requests for `symbol` with these faults (forever if sticky)."""
        unknown = set(faults) - FAULTS
        if unknown:
            raise ValueError(f"unknown fault(s) {sorted(unknown)}; known: {sorted(FAULTS)}")
        with self._lock:
            if sticky:
                self._sticky[symbol] = faults[0]
            else:
                self._faults[symbol].extend(faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self._sticky.clear()
            self.requests.clear()
            self._arrivals.clear()

    @property
    def series_requests(self) -> list[dict[str, str]]:
        """The daily-series requests so far (not the SPLITS and DIVIDENDS ones), oldest first."""
        with self._lock:
            return [r for r in self.requests if r.get("function") not in ACTION_FIELDS]

    def arrivals(self) -> list[Arrival]:
        """A copy of the arrival log, oldest first (cleared by `clear()`)."""
        with self._lock:
            return list(self._arrivals)

    def _next_fault(self, symbol: str) -> str | None:
        with self._lock:
            for name in (symbol, "*"):
                if self._faults.get(name):
                    return self._faults[name].popleft()
            return self._sticky.get(symbol) or self._sticky.get("*")

    def reply(self, params: dict[str, str]) -> tuple[Reply, str | None]:
        """The reply for one request and the fault applied, if any."""
        arrival = Arrival(
            time.monotonic(), time.time(), params.get("function", ""),
            params.get("symbol", ""), params.get("outputsize", ""),
        )
        with self._lock:
            self.requests.append(params)
            self._arrivals.append(arrival)
        if self.api_key is not None and params.get("apikey") != self.api_key:
            return Reply(200, "application/json", error_payload("error_apikey_missing")), None
        fault = self._next_fault(params.get("symbol", ""))
        if fault == "full_refused":  # as Alpha Vantage does for some symbols (see the client)
            fault = "error_invalid_call" if params.get("outputsize") == "full" else None
        if fault is None or fault in _DELIVERY_FAULTS:
            alter = poison if fault == "poisoned" else None
            return self.answers.answer(params, alter=alter), fault
        if fault.startswith("http_"):
            return Reply(int(fault[5:]), "text/plain", b"upstream error"), fault
        if fault == "html":
            return Reply(200, "text/html", b"<html><body>502 Bad Gateway</body></html>"), fault
        body = {"information_burst": _BURST, "information_burst_pattern": _BURST_PATTERN,
                "information_demo": _DEMO}.get(fault)
        return Reply(200, "application/json", body or error_payload(fault)), fault

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        return type("Handler", (_Handler,), {"sample": self})

    def start(self) -> "SampleServer":
        # `stop()` waits for the serve loop's next poll; the default 0.5 s poll made every
        # test using the server half a second slower to tear down.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> "SampleServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    """Serves one connection's requests for `sample` (set per server by `_handler_class`)."""

    sample: "SampleServer"
    protocol_version = "HTTP/1.1"
    # Headers and body go out in one write (`write_reply`) and never wait for an ACK:
    # written apart on a keep-alive connection, the body's last segment waited for the
    # client's delayed ACK of the headers (compact answers took ~11 ms instead of ~3).
    disable_nagle_algorithm = True

    def write_reply(self, body: bytes) -> None:
        """`end_headers` and the body as one write, so one send carries both."""
        self._headers_buffer.append(b"\r\n")
        head, self._headers_buffer = b"".join(self._headers_buffer), []
        self.wfile.write(head + body)

    def do_GET(self) -> None:
        if not self.path.startswith("/query"):
            self.send_error(404)
            return
        reply, fault = self.sample.reply(query_params(self.path))
        time.sleep(self.sample.latency + (self.sample.slow_seconds if fault == "slow" else 0))
        body = reply.body
        length = len(body)
        if fault in {"truncated", "cut"}:
            body = body[: len(body) // 2]
            length = len(body) if fault == "truncated" else length
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(length))
        if fault == "cut":
            self.send_header("Connection", "close")
            self.close_connection = True
        try:
            if fault == "drip_headers":  # a slowloris answer: nothing is sent at once
                self._headers_buffer.append(b"\r\n")
                body, self._headers_buffer = b"".join(self._headers_buffer) + body, []
            else:
                self.write_reply(b"" if fault in _HELD else body)
            if fault in _HELD:
                self.hold(b"" if fault == "stall" else body)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up first (the point of the slow fault): not a server error,
            # so no traceback on stderr.
            self.close_connection = True

    def hold(self, body: bytes) -> None:
        """Send `body` a byte every `drip_seconds` (nothing, for a stall) until the
        client leaves or the server stops; the connection is not reused after."""
        self.close_connection = True
        sent = 0
        while not self.client_left(self.sample.drip_seconds) and (sent < len(body) or not body):
            if body:
                self.wfile.write(body[sent : sent + 1])
                sent += 1

    def client_left(self, seconds: float) -> bool:
        """Wait up to `seconds`; True once the client closed or the server stopped."""
        readable, _, _ = select.select([self.connection], [], [], seconds)
        if readable and not self.connection.recv(1, socket.MSG_PEEK):
            return True
        return self.sample._stopped.is_set()

    def log_message(self, format: str, *args: object) -> None:
        pass  # request lines carry the API key


def argument_parser(description: str) -> argparse.ArgumentParser:
    """The server's command-line options; a variant adds its own before parsing."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--api-key", help="answer other keys with the invalid-key payload")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to each reply")
    parser.add_argument(
        "--fail", action="append", default=[], metavar="SYMBOL=FAULT",
        help=f"always answer SYMBOL with FAULT, one of: {', '.join(sorted(FAULTS))}",
    )
    return parser


def serve(args: argparse.Namespace, answers: SampleAnswers | SeriesProvider | None = None) -> None:
    """Serve until Ctrl-C, as the parsed options say, announcing the URL on the first line."""
    server = SampleServer(answers, api_key=args.api_key, latency=args.latency, port=args.port)
    for item in args.fail:
        symbol, fault = item.split("=", 1)
        server.fail(symbol, fault, sticky=True)
    print(f"Alpha Vantage-compatible sample server on {server.url} (Ctrl-C to stop)", flush=True)
    try:
        server._httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._httpd.server_close()


def main() -> None:
    serve(argument_parser(__doc__.split("\n\n")[0]).parse_args())


if __name__ == "__main__":
    main()
