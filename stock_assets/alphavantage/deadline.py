"""An HTTP GET held to a total deadline: connecting, the headers and the whole body.

`requests`' read timeout bounds each socket read, not the answer, so a server that sends one
byte every few seconds (a drip) is never timed out; urllib3's `Timeout(total=...)` bounds only
the connect and the wait for the headers. Here the body is read one socket read at a time
(`read1`), each read's timeout cut to what is left of the deadline, and the connection is closed
once it passes. The body is decoded here, after it is all in: urllib3's decoder keeps reading
while a compressed stream yields nothing, which a drip could make last forever.
"""

import gzip
import time
import zlib
from dataclasses import dataclass, field

import requests
import urllib3

_CHUNK = 1 << 16
# Only the encodings decoded below are asked for (requests would also offer br and zstd).
_ACCEPT = {"Accept-Encoding": "gzip, deflate"}


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
    connect, read = timeout
    limits = urllib3.Timeout(total=max(deadline.remaining(), 0.001), connect=connect, read=read)
    try:
        response = session.get(url, params=params, headers=_ACCEPT, stream=True, timeout=limits)
    except requests.Timeout:
        if deadline.remaining() <= 0.01:
            raise deadline.passed("no answer arrived") from None
        raise
    try:
        body = _read_body(response.raw, deadline, read)
    except BaseException:
        response.close()  # a half-read connection must not go back to the pool
        raise
    return response, _decoded(body, response.headers.get("Content-Encoding", ""))


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
