"""The fault proxy over real sockets, in front of a tiny HTTP/1.1 server: each fault, its
schedule, and transparent keep-alive forwarding otherwise."""

import http.client
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.etree import ElementTree

import pytest

from bench.fault_proxy import FaultProxy

BODY = b"0123456789" * 20


class _Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[tuple[int, str]]  # (client port, request line) per request

    def _answer(self, body: bytes) -> None:
        self.seen.append((self.client_address[1], self.requestline))
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer(BODY)

    def do_PUT(self) -> None:
        length = int(self.headers["Content-Length"])
        self._answer(b"got %d bytes" % len(self.rfile.read(length)))

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def upstream():
    handler = type("Handler", (_Upstream,), {"seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                     daemon=True).start()
    yield server, handler.seen
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy(upstream):
    server, _ = upstream
    with FaultProxy(f"http://127.0.0.1:{server.server_address[1]}/query",
                    drip_seconds=0.002) as proxy:
        yield proxy


def connect(proxy: FaultProxy, timeout: float = 5.0) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=timeout)


def get(connection: http.client.HTTPConnection, path: str = "/query?a=1") -> tuple[int, bytes]:
    connection.request("GET", path)
    response = connection.getresponse()
    return response.status, response.read()


def test_forwards_requests_on_one_kept_alive_connection(proxy, upstream):
    _, seen = upstream
    assert proxy.url.endswith(f":{proxy.port}/query")
    connection = connect(proxy)
    assert [get(connection) for _ in range(3)] == [(200, BODY)] * 3
    connection.request("PUT", "/object", body=b"x" * 1000, headers={"Expect": "100-continue"})
    response = connection.getresponse()
    assert (response.status, response.read()) == (200, b"got 1000 bytes")
    assert len({port for port, _ in seen}) == 1  # one upstream connection for all four
    assert proxy.requests == 4
    assert sum(proxy.counts.values()) == 0


def test_reset_sends_an_rst_and_the_request_never_reaches_the_upstream(proxy, upstream):
    _, seen = upstream
    proxy.inject("reset")
    with pytest.raises(ConnectionResetError):
        get(connect(proxy))
    assert seen == []
    assert get(connect(proxy)) == (200, BODY)  # one request only
    assert proxy.counts == {"reset": 1}


def test_stall_forwards_the_request_and_sends_nothing_back(proxy, upstream):
    _, seen = upstream
    proxy.inject("stall")
    with pytest.raises(TimeoutError):
        get(connect(proxy, timeout=0.3))
    assert [line for _, line in seen] == ["GET /query?a=1 HTTP/1.1"]
    assert proxy.counts == {"stall": 1}


def test_drip_sends_the_answer_a_byte_at_a_time(proxy):
    proxy.inject("drip")
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
        sock.sendall(b"GET /query HTTP/1.1\r\nHost: x\r\n\r\n")
        started = time.monotonic()
        chunks = []
        while chunk := sock.recv(1 << 16):
            chunks.append(chunk)
    answer = b"".join(chunks)
    assert answer.startswith(b"HTTP/1.0 200") or answer.startswith(b"HTTP/1.1 200")
    assert answer.endswith(BODY)
    assert max(len(chunk) for chunk in chunks) <= 2  # a byte at a time (two if a read lags)
    assert time.monotonic() - started >= len(answer) * 0.002
    assert proxy.counts == {"drip": 1}


def test_a_body_drip_sends_the_head_at_once(proxy):
    proxy.inject("drip", drip_head=False)
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
        sock.sendall(b"GET /query HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.05)
        first = sock.recv(1 << 16)
        while sock.recv(1 << 16):
            pass
    assert first.startswith(b"HTTP/1.")
    assert b"\r\n\r\n" in first and len(first.partition(b"\r\n\r\n")[2]) < len(BODY)


def test_truncate_sends_half_the_answer_then_closes(proxy):
    proxy.inject("truncate")
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
        sock.sendall(b"GET /query HTTP/1.1\r\nHost: x\r\n\r\n")
        chunks = []
        while chunk := sock.recv(1 << 16):
            chunks.append(chunk)
    whole = get(connect(proxy))[1]
    assert whole == BODY
    answer = b"".join(chunks)
    assert answer.startswith(b"HTTP/1.")
    assert len(answer) < len(BODY)  # half of status line, headers and body together
    proxy.inject("truncate")
    with pytest.raises(http.client.IncompleteRead):
        get(connect(proxy))
    assert proxy.counts == {"truncate": 2}


def test_a_5xx_burst_is_answered_by_the_proxy_then_forwarding_resumes(proxy, upstream):
    _, seen = upstream
    proxy.inject("5xx", times=2, status=503)
    connection = connect(proxy)
    statuses = [get(connection)[0] for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert len(seen) == 1
    assert proxy.counts == {"5xx": 2}


def test_in_front_of_s3_a_503_is_a_slowdown_error(upstream):
    server, _ = upstream
    with FaultProxy(f"http://127.0.0.1:{server.server_address[1]}", s3=True) as proxy:
        proxy.inject("5xx", times=3)
        connection = connect(proxy)
        connection.request("PUT", "/bucket/key", body=b"data")
        response = connection.getresponse()
        error = ElementTree.fromstring(response.read())  # noqa: S314 (our own bytes)
        assert response.status == 503
        assert response.getheader("Content-Type") == "application/xml"
        assert error.findtext("Code") == "SlowDown"
        connection.request("HEAD", "/bucket/key")  # no body for a HEAD, and the next still works
        head = connection.getresponse()
        assert (head.status, head.read()) == (503, b"")
        connection.request("PUT", "/bucket/key", body=b"data", headers={"Expect": "100-continue"})
        assert connection.getresponse().status == 503  # then closed: the body was never sent
        assert get(connect(proxy), "/bucket/key")[0] == 200


def test_a_rule_hits_the_nth_matching_request_only(proxy, upstream):
    proxy.inject("5xx", match=r"symbol=AAPL", skip=1, times=1, status=500)
    connection = connect(proxy)
    paths = ["/query?symbol=AAPL", "/query?symbol=MSFT", "/query?symbol=AAPL",
             "/query?symbol=AAPL"]
    assert [get(connection, path)[0] for path in paths] == [200, 200, 500, 200]
    proxy.inject("5xx", match=r"MSFT", times=None)
    assert [get(connection, "/query?symbol=MSFT")[0] for _ in range(3)] == [503] * 3
    proxy.clear()
    assert get(connection, "/query?symbol=MSFT")[0] == 200
    assert proxy.counts == {"5xx": 4}
