"""A loopback HTTP server on raw sockets, independent of `SampleServer`, for the hostile corpus.

`http.server` would fix the framing (a status line, headers, a Content-Length that matches), and
the corpus needs the framing wrong on purpose: a Content-Length that lies, broken chunked
encoding, a gzip header over plain bytes, headers sent a byte at a time, a reset. So each
request is read off the socket here, and what goes back is exactly the bytes a case says.

Every symbol is served by a `Behaviour` (what to send for one request), looked up per symbol
for the daily series; corporate actions (SPLITS, DIVIDENDS) are AAPL's real ones, relabelled.
A symbol with no behaviour gets the good answer: AAPL's bundled history relabelled as its own.
"""

import copy
import gzip
import json
import socket
import struct
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import parse_qs, urlsplit

from stock_assets.alphavantage.api import ACTION_FIELDS, DAILY, SERIES_KEY
from stock_assets.alphavantage.sample import bundled_actions, bundled_series, render

MODEL = "AAPL"  # the real history every case symbol's answers are built from
# Its newest days only: a run's cost grows with the history, and 300 real days hold weekends,
# a holiday and every kind of day a case alters.
MODEL_DAYS = 300
REASONS = {200: "OK", 204: "No Content", 302: "Found", 404: "Not Found", 429: "Too Many Requests",
           500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


@cache
def _model() -> dict:
    full = bundled_series(DAILY, MODEL)
    return {"Meta Data": full["Meta Data"],
            SERIES_KEY: dict(list(full[SERIES_KEY].items())[:MODEL_DAYS])}


@cache
def _model_json() -> str:
    return render(_model()).body.decode()


def model_days() -> list[str]:
    """The good answer's days, newest first."""
    return list(_model()[SERIES_KEY])


def good_payload(symbol: str) -> dict:
    """AAPL's real daily history, its Meta Data naming `symbol` (a deep copy, to alter)."""
    payload = copy.deepcopy(_model())
    payload["Meta Data"]["2. Symbol"] = symbol
    return payload


def good_json(symbol: str) -> bytes:
    """The good answer as Alpha Vantage sends it, for `symbol`."""
    return _model_json().replace(f'"2. Symbol": "{MODEL}"', f'"2. Symbol": "{symbol}"').encode()


@cache
def good_csv() -> bytes:
    """The good answer as `datatype=csv` (CSV names no symbol)."""
    return render(_model(), datatype="csv").body


def actions_json(symbol: str, function: str) -> bytes:
    events = bundled_actions().get((function, MODEL), [])
    return json.dumps({"symbol": symbol, "data": events}).encode()


def head(status: int, headers: dict[str, str] | None = None, *, length: int | None = None,
         version: str = "HTTP/1.1") -> bytes:
    """A status line and headers (Connection: close; Content-Length when `length` is given)."""
    lines = [f"{version} {status} {REASONS.get(status, 'Status')}"]
    all_headers = {"Connection": "close", **(headers or {})}
    if length is not None:
        all_headers["Content-Length"] = str(length)
    lines += [f"{name}: {value}" for name, value in all_headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class Behaviour:
    """What the server does with one request's connection."""

    def serve(self, conn: socket.socket, server: "HostileServer") -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class Reply(Behaviour):
    """A well-framed reply: status, body, content type and any extra headers."""

    body: bytes
    status: int = 200
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()

    def serve(self, conn: socket.socket, server: "HostileServer") -> None:
        headers = {"Content-Type": self.content_type, **dict(self.headers)}
        conn.sendall(head(self.status, headers, length=len(self.body)) + self.body)


@dataclass(frozen=True)
class Raw(Behaviour):
    """Exactly these bytes (or those `make` returns, built when first served), then a close."""

    data: bytes = b""
    make: Callable[[], bytes] | None = None

    def serve(self, conn: socket.socket, server: "HostileServer") -> None:
        conn.sendall(self.make() if self.make is not None else self.data)


@dataclass(frozen=True)
class Reset(Behaviour):
    """Send `before` (maybe nothing), then reset the connection (RST, not a clean close)."""

    before: bytes = b""

    def serve(self, conn: socket.socket, server: "HostileServer") -> None:
        if self.before:
            conn.sendall(self.before)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


@dataclass(frozen=True)
class Drip(Behaviour):
    """Send `data` a few bytes every `every` seconds until done or the client leaves."""

    data: bytes
    every: float = 0.05
    step: int = 1

    def serve(self, conn: socket.socket, server: "HostileServer") -> None:
        for start in range(0, len(self.data), self.step):
            if server.stopping.wait(self.every):
                return
            conn.sendall(self.data[start:start + self.step])


@dataclass(frozen=True)
class Stall(Behaviour):
    """Send `before` (maybe nothing), then hold the connection open, silent, until the client
    gives up (or the server stops)."""

    before: bytes = b""

    def serve(self, conn: socket.socket, server: "HostileServer") -> None:
        if self.before:
            conn.sendall(self.before)
        conn.settimeout(0.2)
        while not server.stopping.is_set():
            try:
                if not conn.recv(1024):
                    return
            except TimeoutError:
                continue


@dataclass(frozen=True)
class Then(Behaviour):
    """The n-th request for the symbol gets the n-th behaviour; the last one repeats."""

    steps: tuple[Behaviour, ...]

    def serve(self, conn: socket.socket, server: "HostileServer") -> None:
        raise AssertionError("resolved by the server per request")


@dataclass
class HostileServer:
    """Serves each symbol's daily series by its behaviour (`behaviours`), on 127.0.0.1."""

    behaviours: dict[str, Behaviour] = field(default_factory=dict)
    stopping: threading.Event = field(default_factory=threading.Event)
    series_requests: Counter = field(default_factory=Counter)
    keys_received: set[str] = field(default_factory=set)

    def __enter__(self) -> "HostileServer":
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/query"
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self._listener.close()
        self._thread.join(timeout=5)

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            with conn:
                params = _read_request(conn)
                if params is not None:
                    self._behaviour_for(params).serve(conn, self)
        except OSError:
            pass  # the client left: what a hostile server shrugs off

    def _behaviour_for(self, params: dict[str, str]) -> Behaviour:
        symbol, function = params.get("symbol", ""), params.get("function", "")
        with self._lock:
            self.keys_received.add(params.get("apikey", ""))
            if function in ACTION_FIELDS:
                return Reply(actions_json(symbol, function))
            self.series_requests[symbol] += 1
            count = self.series_requests[symbol]
        behaviour = self.behaviours.get(symbol)
        if behaviour is None:
            if params.get("datatype") == "csv":
                return Reply(good_csv(), content_type="application/x-download")
            return Reply(good_json(symbol))
        if isinstance(behaviour, Then):
            return behaviour.steps[min(count, len(behaviour.steps)) - 1]
        return behaviour


def _read_request(conn: socket.socket) -> dict[str, str] | None:
    """The query of a GET, once its headers are in (None if the client left first)."""
    conn.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
    target = data.split(b"\r\n", 1)[0].split(b" ")[1].decode("latin-1")
    return {k: v[-1] for k, v in parse_qs(urlsplit(target).query).items()}


def gzipped(body: bytes) -> bytes:
    return gzip.compress(body, mtime=0)


def chunked(body: bytes, size: int = 4096) -> bytes:
    """`body` in well-formed chunked encoding, the last chunk included."""
    parts = [b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size])
             for i in range(0, len(body), size)]
    return b"".join(parts) + b"0\r\n\r\n"
