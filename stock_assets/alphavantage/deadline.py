"""An HTTP GET held to a total deadline: connecting, the headers and the whole body.

`requests`' read timeout bounds each socket read, not the answer, so a server that sends one
byte every few seconds (a drip) is never timed out; urllib3's `Timeout(total=...)` bounds only
the connect and the start of each read of the headers, so headers sent a byte at a time (a
slowloris) are not timed out either. Here the body is read one socket read at a time (`read1`),
each read's timeout cut to what is left of the deadline, and the connection is closed once it
passes; and a watch shuts the request's socket down shortly after the deadline, which ends
whatever read is still waiting, the headers' too (`DeadlineAdapter` tells it the socket). The
body is decoded here, after it is all in: urllib3's decoder keeps reading while a compressed
stream yields nothing, which a drip could make last forever.
"""

import contextlib
import gzip
import socket
import threading
import time
import zlib
from dataclasses import dataclass, field

import requests
import requests.adapters
import urllib3
import urllib3.connection
import urllib3.connectionpool

_CHUNK = 1 << 16
# Only the encodings decoded below are asked for (requests would also offer br and zstd).
_ACCEPT = {"Accept-Encoding": "gzip, deflate"}
# How long after the deadline the watch shuts the socket: the reads' own timeouts, cut to the
# deadline, end first whenever they can, with a message saying how far the answer had come.
_WATCH_GRACE = 0.25
_requests_in_flight = threading.local()


class _SocketWatch:
    """The socket of this thread's request in flight, shut down when `fire` is called."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self.fired = False

    def _shut(self) -> None:
        with contextlib.suppress(OSError):  # closed already
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes a read waiting on it, in any thread

    def watch(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._sock = sock
            if self.fired and sock is not None:
                self._shut()

    def fire(self) -> None:
        with self._lock:
            self.fired = True
            if self._sock is not None:
                self._shut()


class _Watched:
    """A connection that hands its socket to the calling thread's watch, if any, on each
    request (a kept-alive connection serves many)."""

    def request(self, *args, **kwargs) -> None:
        super().request(*args, **kwargs)
        watch = getattr(_requests_in_flight, "watch", None)
        if watch is not None:
            watch.watch(self.sock)


class _HTTPConnection(_Watched, urllib3.connection.HTTPConnection):
    pass


class _HTTPSConnection(_Watched, urllib3.connection.HTTPSConnection):
    pass


class _HTTPPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class DeadlineAdapter(requests.adapters.HTTPAdapter):
    """An adapter whose connections let `get_within` shut a request's socket at its deadline."""

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


class DeadlinePassed(Exception):
    """The deadline passed; `phase` says how far the answer had come."""

    def __init__(self, seconds: float, phase: str):
        self.seconds = seconds
        self.phase = phase
        super().__init__(f"timed out after {seconds:g} s (deadline): {phase}")


@dataclass(frozen=True)
class Deadline:
    """`seconds` from when it was made, on the monotonic clock."""

    seconds: float
    ends: float = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ends", time.monotonic() + self.seconds)

    def remaining(self) -> float:
        return self.ends - time.monotonic()

    def passed(self, phase: str) -> DeadlinePassed:
        return DeadlinePassed(self.seconds, phase)


def get_within(
    session: requests.Session, url: str, params: dict[str, str], deadline: Deadline,
    timeout: tuple[float, float],
) -> tuple[requests.Response, bytes]:
    """The response and its decoded body, or `DeadlinePassed`; other failures are `requests`
    exceptions, as from `session.get`."""
    watch = _SocketWatch()
    timer = threading.Timer(max(deadline.remaining(), 0) + _WATCH_GRACE, watch.fire)
    timer.daemon = True
    _requests_in_flight.watch = watch
    timer.start()
    try:
        response = _get_headers(session, url, params, deadline, timeout, watch)
        if watch.fired:  # cut short, the headers may have read as ended: they had not
            response.close()
            raise deadline.passed("the headers were still arriving")
        try:
            body = _read_body(response.raw, deadline, timeout[1])
        except requests.ConnectionError:
            if watch.fired:
                raise deadline.passed("the answer was still arriving") from None
            raise
        except BaseException:
            response.close()  # a half-read connection must not go back to the pool
            raise
    finally:
        timer.cancel()
        _requests_in_flight.watch = None
    return response, _decoded(body, response.headers.get("Content-Encoding", ""))


def _get_headers(
    session: requests.Session, url: str, params: dict[str, str], deadline: Deadline,
    timeout: tuple[float, float], watch: _SocketWatch,
) -> requests.Response:
    """The response, once its headers are in (the body not read yet)."""
    connect, read = timeout
    limits = urllib3.Timeout(total=max(deadline.remaining(), 0.001), connect=connect, read=read)
    try:
        return session.get(url, params=params, headers=_ACCEPT, stream=True, timeout=limits)
    except requests.Timeout:
        if deadline.remaining() <= 0.01:
            raise deadline.passed("no answer arrived") from None
        raise
    except requests.ConnectionError:
        if watch.fired:
            raise deadline.passed("the headers were still arriving") from None
        raise


def _read_body(raw: urllib3.BaseHTTPResponse, deadline: Deadline, read: float) -> bytes:
    """The raw body, one socket read at a time, each given what is left of the deadline."""
    chunks = []
    while True:
        remaining = deadline.remaining()
        if remaining <= 0:
            raise deadline.passed("the answer was still arriving")
        sock = getattr(raw.connection, "sock", None)
        if sock is not None:
            sock.settimeout(min(read, remaining))
        try:
            chunk = raw.read1(_CHUNK, decode_content=False)
        except urllib3.exceptions.ReadTimeoutError:
            if deadline.remaining() <= 0.01:
                raise deadline.passed("the answer was still arriving") from None
            raise requests.ReadTimeout("the answer stalled past the read timeout") from None
        except urllib3.exceptions.ProtocolError as exc:
            raise requests.exceptions.ChunkedEncodingError(exc) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise requests.ConnectionError(exc) from None
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _decoded(body: bytes, encoding: str) -> bytes:
    """The body without its content encoding (only those asked for are decoded)."""
    encoding = encoding.strip().lower()
    try:
        if encoding in {"gzip", "x-gzip"}:
            return gzip.decompress(body)
        if encoding == "deflate":
            try:
                return _inflated(body, zlib.MAX_WBITS)
            except zlib.error:
                return _inflated(body, -zlib.MAX_WBITS)  # raw deflate, as some servers send
    except (OSError, EOFError, zlib.error) as exc:
        raise requests.exceptions.ContentDecodingError(f"{encoding}: {exc}") from None
    return body


def _inflated(body: bytes, wbits: int) -> bytes:
    """The whole deflate stream, which must be the whole body: `zlib.decompress` drops bytes
    after the stream's end, so a deflate header over a plain body read as one byte."""
    inflater = zlib.decompressobj(wbits)
    data = inflater.decompress(body)
    if not inflater.eof:
        raise zlib.error("the compressed stream ends before its end")
    if inflater.unused_data:
        raise zlib.error(f"{len(inflater.unused_data)} bytes after the compressed stream's end")
    return data
