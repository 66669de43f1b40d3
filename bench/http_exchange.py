"""HTTP/1.1 messages read off a socket by their framing (Content-Length, chunked, or until the
connection closes), so `bench.fault_proxy` can pick out each request and answer on a keep-alive
connection and forward one exchange at a time."""

import socket
from dataclasses import dataclass


class Closed(Exception):
    """The peer closed the connection before a whole message arrived."""


class Reader:
    """Buffered reads of HTTP messages from one socket."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buffer = b""

    def _fill(self) -> bytes:
        chunk = self.sock.recv(1 << 16)
        self.buffer += chunk
        return chunk

    def until(self, marker: bytes) -> bytes | None:
        """Bytes up to and including `marker`; None if the peer closed before sending any."""
        while marker not in self.buffer:
            if not self._fill():
                if self.buffer:
                    raise Closed
                return None
        end = self.buffer.index(marker) + len(marker)
        data, self.buffer = self.buffer[:end], self.buffer[end:]
        return data

    def exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            if not self._fill():
                raise Closed
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def rest(self) -> bytes:
        """Everything until the peer closes."""
        while self._fill():
            pass
        data, self.buffer = self.buffer, b""
        return data

    def chunked(self) -> bytes:
        """A chunked body as sent, up to its last chunk and trailers."""
        parts = []
        while True:
            line = self.until(b"\r\n") or b""
            parts.append(line)
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                break
            parts.append(self.exactly(size + 2))
        while (line := self.until(b"\r\n")) not in (None, b"\r\n"):
            parts.append(line)
        parts.append(b"\r\n")
        return b"".join(parts)


@dataclass(frozen=True)
class Head:
    """A message's first line and headers (names lowercased)."""

    raw: bytes
    first_line: str
    headers: dict[str, str]

    @classmethod
    def parse(cls, raw: bytes) -> "Head":
        lines = raw.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name:
                headers[name.strip().lower()] = value.strip()
        return cls(raw, lines[0], headers)

    def body(self, reader: Reader, *, until_close: bool) -> bytes | None:
        """The body per the headers; None if it runs until the connection closes."""
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            return reader.chunked()
        if "content-length" in self.headers:
            return reader.exactly(int(self.headers["content-length"]))
        return reader.rest() if until_close else b""

    @property
    def closes(self) -> bool:
        return self.headers.get("connection", "").lower() == "close"


def status_of(head: Head) -> int:
    return int(head.first_line.split()[1])


def exchange(
    reader: Reader, upstream_reader: Reader, client: socket.socket, request: Head
) -> tuple[bytes, bool]:
    """Forward one request (its body once the upstream says to continue, if it was asked) and
    read the upstream's whole answer: the answer and whether the connection stays open."""
    upstream = upstream_reader.sock
    upstream.sendall(request.raw)
    if request.headers.get("expect", "").lower() == "100-continue":
        interim = Head.parse(upstream_reader.until(b"\r\n\r\n") or b"")
        if status_of(interim) != 100:  # refused before the body: the client will not send it
            body = interim.body(upstream_reader, until_close=True) or b""
            return interim.raw + body, False
        client.sendall(interim.raw)
    upstream.sendall(request.body(reader, until_close=False) or b"")
    while True:
        raw = upstream_reader.until(b"\r\n\r\n")
        if raw is None:
            raise Closed
        answer = Head.parse(raw)
        if status_of(answer) >= 200:
            break
        client.sendall(raw)  # another 1xx: pass it on
    status = status_of(answer)
    if request.first_line.startswith("HEAD ") or status in (204, 304):
        body = b""
    else:
        body = answer.body(upstream_reader, until_close=True) or b""
    framed = "content-length" in answer.headers or "transfer-encoding" in answer.headers
    keep = not (answer.closes or request.closes) and (framed or not body)
    return raw + body, keep
