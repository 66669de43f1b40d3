"""A loopback TCP proxy in front of an HTTP server (the loopback Alpha Vantage, moto's S3) that
injects network faults on a schedule, for the fault campaign (`bench.fault_campaign`).

It reads each message's framing (Content-Length, chunked, or until close), so it can pick out
single requests on a keep-alive connection; otherwise it forwards the bytes both ways untouched.
A rule (`inject`) names a fault, which requests it hits (those whose first line matches a
pattern, after skipping some) and how many. The faults:

- ``reset``: the client's connection is reset (``SO_LINGER`` 0, then close); the request never
  reaches the upstream;
- ``stall``: the request is forwarded, and nothing ever comes back;
- ``drip``: the upstream's answer one byte every `drip_seconds`: its status line and headers
  too, or (``drip_head=False``) only its body, the head sent at once;
- ``truncate``: the first half of the upstream's answer, then the connection is closed;
- ``5xx``: the proxy answers itself with `status` (500 or 503); in front of S3, with S3's own
  error body (``SlowDown`` for a 503), so botocore sees a throttle and retries it as one.

`counts` says how many of each it injected, `requests` how many requests it saw.
"""

import contextlib
import re
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from bench.http_exchange import Closed, Head, Reader, exchange

FAULTS = ("reset", "stall", "drip", "truncate", "5xx")
_S3_ERRORS = {
    503: ("SlowDown", "Please reduce your request rate."),
    500: ("InternalError", "We encountered an internal error. Please try again."),
}
_REASONS = {500: "Internal Server Error", 503: "Service Unavailable"}


@dataclass
class Rule:
    """Fault `times` requests (None: every one) whose first line matches `pattern`, once `skip`
    matching ones went through."""

    fault: str
    pattern: re.Pattern | None = None
    skip: int = 0
    times: int | None = 1
    status: int = 503
    drip_head: bool = True

    def take(self, first_line: str) -> bool:
        """Whether this rule faults the request (the caller holds the proxy's lock)."""
        if self.pattern is not None and not self.pattern.search(first_line):
            return False
        if self.skip > 0:
            self.skip -= 1
            return False
        if self.times is None:
            return True
        if self.times > 0:
            self.times -= 1
            return True
        return False


class FaultProxy:
    """Forward 127.0.0.1:`port` to `upstream_url`'s host and port, faulting as the rules say."""

    def __init__(self, upstream_url: str, *, s3: bool = False, drip_seconds: float = 0.05):
        parts = urlsplit(upstream_url)
        self._upstream_url = parts
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.s3 = s3
        self.drip_seconds = drip_seconds
        self.counts: Counter[str] = Counter()
        self.requests = 0
        self._rules: list[Rule] = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._open: set[socket.socket] = set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        """The upstream's URL with the proxy's address in it (same path)."""
        return urlunsplit(self._upstream_url._replace(netloc=f"127.0.0.1:{self.port}"))

    def inject(self, fault: str, *, match: str | None = None, skip: int = 0,
               times: int | None = 1, status: int = 503, drip_head: bool = True) -> Rule:
        """Fault the next `times` requests (None: all) whose first line matches `match`."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}")
        pattern = re.compile(match) if match else None
        rule = Rule(fault, pattern, skip, times, status, drip_head)
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        """No more faults: forward everything from now on."""
        with self._lock:
            self._rules.clear()

    def start(self) -> "FaultProxy":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)
        self._listener.close()
        with self._lock:
            for sock in list(self._open):
                _close(sock)

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _rule_for(self, first_line: str) -> Rule | None:
        """The first rule that faults this request, counted; None to forward it."""
        with self._lock:
            self.requests += 1
            for rule in self._rules:
                if rule.take(first_line):
                    self.counts[rule.fault] += 1
                    return rule
        return None

    def _track(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            self._open.add(sock)
        return sock

    def _serve(self, client: socket.socket) -> None:
        """One client connection: its requests one after the other, each forwarded or faulted."""
        upstream = None
        try:
            reader, upstream_reader = Reader(self._track(client)), None
            while not self._stopped.is_set():
                raw = reader.until(b"\r\n\r\n")
                if raw is None:
                    return
                request = Head.parse(raw)
                rule = self._rule_for(request.first_line)
                fault = rule.fault if rule else None
                if fault == "reset":
                    _reset(client)
                    return
                if rule is not None and fault == "5xx":
                    if not self._answer_itself(client, reader, request, rule.status):
                        return
                    continue
                if upstream is None:
                    upstream = self._track(socket.create_connection(self.upstream, timeout=30))
                    upstream.settimeout(None)
                    upstream_reader = Reader(upstream)
                answer, keep = exchange(reader, upstream_reader, client, request)
                if not self._deliver(client, answer, rule):
                    return
                if not keep:
                    return
        except (OSError, Closed, ValueError, IndexError):
            return
        finally:
            for sock in (client, upstream):
                if sock is not None:
                    _close(sock)
                    with self._lock:
                        self._open.discard(sock)

    def _deliver(self, client: socket.socket, answer: bytes, rule: Rule | None) -> bool:
        """Send the answer as the rule says; whether the connection may carry another request."""
        if rule is None:
            client.sendall(answer)
            return True
        if rule.fault == "truncate":
            client.sendall(answer[: len(answer) // 2])
        elif rule.fault == "drip":
            start = 0 if rule.drip_head else answer.index(b"\r\n\r\n") + 4
            client.sendall(answer[:start])
            for index in range(start, len(answer)):
                if self._stopped.wait(self.drip_seconds):
                    break
                client.sendall(answer[index : index + 1])
        elif rule.fault == "stall":
            _wait_for_close(client, self._stopped)
        return False

    def _answer_itself(
        self, client: socket.socket, reader: Reader, request: Head, status: int
    ) -> bool:
        """Answer with a 5xx; keep the connection only if the request's body was read."""
        expects = request.headers.get("expect", "").lower() == "100-continue"
        if not expects:
            request.body(reader, until_close=False)
        body = b"" if request.first_line.startswith("HEAD ") else self._error_body(status)
        kind = "application/xml" if self.s3 else "text/plain"
        head = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}",
                f"Content-Type: {kind}", f"Content-Length: {len(body)}"]
        if expects:
            head.append("Connection: close")
        client.sendall("\r\n".join([*head, "", ""]).encode() + body)
        return not expects

    def _error_body(self, status: int) -> bytes:
        if not self.s3:
            return f"{status} {_REASONS.get(status, 'Error')} (fault proxy)".encode()
        code, message = _S3_ERRORS.get(status, _S3_ERRORS[500])
        return (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message><RequestId>FAULTPROXY{time.monotonic_ns()}</RequestId>"
            f"<HostId>fault-proxy</HostId></Error>"
        ).encode()


def _reset(sock: socket.socket) -> None:
    """Close with an RST instead of a FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _wait_for_close(sock: socket.socket, stopped: threading.Event) -> None:
    """Hold the connection, sending nothing, until the peer closes it or the proxy stops."""
    sock.settimeout(0.05)
    while not stopped.is_set():
        try:
            if not sock.recv(1 << 16):
                return
        except TimeoutError:
            continue
        except OSError:
            return


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.close()
