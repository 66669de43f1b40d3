"""The loopback server speaks Alpha Vantage over real HTTP and injects exactly the faults asked.

Over 300 lines: one test per fault the server injects, and for how it serves and logs.
"""

import json
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import urllib3

from bench.synthetic_sample import SyntheticSample
from stock_assets.alphavantage.api import DAILY
from stock_assets.alphavantage.sample import SampleAnswers, error_payload
from stock_assets.alphavantage.sample_server import FAULTS, SampleServer

ERROR_FAULTS = sorted(f for f in FAULTS if f.startswith(("error_", "information_rate", "note_")))


def get(server: SampleServer, symbol: str = "IBM", **params: str) -> requests.Response:
    query = {"function": DAILY, "symbol": symbol, "outputsize": "full", **params}
    return requests.get(server.url, params=query, timeout=60)


def normal_body(symbol: str = "IBM", **params: str) -> bytes:
    query = {"function": DAILY, "symbol": symbol, "outputsize": "full", **params}
    return SampleAnswers().answer(query).body


def test_serves_the_sample_and_records_each_request(sample_server, reference_sample):
    response = get(sample_server, "AAPL", outputsize="compact", apikey="k")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    compact = reference_sample / "TIME_SERIES_DAILY" / "AAPL.compact.json"
    assert response.content == compact.read_bytes()
    assert sample_server.requests == [
        {"function": DAILY, "symbol": "AAPL", "outputsize": "compact", "apikey": "k"}
    ]


def test_csv_is_served_with_alpha_vantages_download_type(sample_server, reference_sample):
    response = get(sample_server, "AAPL", datatype="csv")
    assert response.headers["Content-Type"] == "application/x-download"
    assert response.content == (reference_sample / "csv" / "daily_AAPL.csv").read_bytes()


def test_other_paths_are_404_and_not_recorded(sample_server):
    response = requests.get(sample_server.url.replace("/query", "/other"), timeout=5)
    assert response.status_code == 404
    assert sample_server.requests == []


def test_a_configured_key_is_enforced():
    with SampleServer(api_key="right") as server:
        assert get(server, apikey="wrong").content == error_payload("error_apikey_missing")
        assert get(server).content == error_payload("error_apikey_missing")
        assert get(server, apikey="right").content == normal_body()
        assert [r.get("apikey") for r in server.requests] == ["wrong", None, "right"]


@pytest.mark.parametrize("fault", ERROR_FAULTS)
def test_error_faults_send_the_bundled_payload(sample_server, fault):
    sample_server.fail("IBM", fault)
    response = get(sample_server)
    assert (response.status_code, response.headers["Content-Type"]) == (200, "application/json")
    assert response.content == error_payload(fault)


@pytest.mark.parametrize(
    "fault, expected",
    [("information_burst", "(1 request per second)"), ("information_demo", "**demo** API key")],
)
def test_notice_faults_send_an_information_object(sample_server, fault, expected):
    sample_server.fail("IBM", fault)
    assert expected in json.loads(get(sample_server).content)["Information"]


@pytest.mark.parametrize("fault, status", [("http_500", 500), ("http_503", 503)])
def test_http_faults_send_the_status(sample_server, fault, status):
    sample_server.fail("IBM", fault)
    response = get(sample_server)
    assert response.status_code == status
    assert response.content == b"upstream error"


def test_html_fault_sends_a_gateway_page_with_status_200(sample_server):
    sample_server.fail("IBM", "html")
    response = get(sample_server)
    assert (response.status_code, response.headers["Content-Type"]) == (200, "text/html")
    assert response.content.startswith(b"<html>")


def test_truncated_fault_sends_a_consistent_half_body(sample_server):
    sample_server.fail("IBM", "truncated")
    response = get(sample_server)
    full = normal_body()
    assert response.content == full[: len(full) // 2]
    assert int(response.headers["Content-Length"]) == len(full) // 2


def test_cut_fault_drops_the_connection_mid_body(sample_server):
    sample_server.fail("IBM", "cut")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        get(sample_server)
    assert get(sample_server).content == normal_body()  # only the next request was cut


def test_slow_fault_and_latency_delay_the_answer(sample_server):
    sample_server.slow_seconds = 0.3
    sample_server.fail("IBM", "slow")
    started = time.monotonic()
    assert get(sample_server).content == normal_body()
    assert time.monotonic() - started >= 0.3
    sample_server.latency = 0.1
    started = time.monotonic()
    get(sample_server, "FB")
    assert time.monotonic() - started >= 0.1


def held(server: SampleServer, read_timeout: float) -> requests.Response:
    query = {"function": DAILY, "symbol": "IBM", "outputsize": "full"}
    return requests.get(server.url, params=query, stream=True, timeout=(2, read_timeout))


def test_drip_fault_sends_the_headers_then_a_byte_every_drip_seconds(sample_server):
    sample_server.drip_seconds = 0.2
    sample_server.fail("IBM", "drip")
    started = time.monotonic()
    with held(sample_server, read_timeout=5) as response:
        assert int(response.headers["Content-Length"]) == len(normal_body())
        dripped = [response.raw.read1(1000) for _ in range(3)]
    assert dripped == [normal_body()[i : i + 1] for i in range(3)]
    assert time.monotonic() - started >= 0.6
    assert get(sample_server, "FB").status_code == 200


def test_stall_fault_sends_the_headers_then_nothing(sample_server):
    sample_server.fail("IBM", "stall")
    with held(sample_server, read_timeout=0.3) as response:
        assert response.status_code == 200
        with pytest.raises(urllib3.exceptions.ReadTimeoutError):
            response.raw.read1(1000)
    assert get(sample_server, "FB").status_code == 200


def test_queued_faults_are_used_in_order_per_symbol(sample_server):
    sample_server.fail("IBM", "http_500", "html")
    assert get(sample_server, "AAPL").status_code == 200  # other symbols untouched
    assert get(sample_server).status_code == 500
    assert get(sample_server).headers["Content-Type"] == "text/html"
    assert get(sample_server).content == normal_body()


def test_symbol_queue_comes_before_wildcard_and_wildcard_before_sticky(sample_server):
    sample_server.fail("IBM", "http_503", sticky=True)
    sample_server.fail("*", "http_500")
    sample_server.fail("IBM", "html")
    assert get(sample_server).headers["Content-Type"] == "text/html"
    assert get(sample_server).status_code == 500
    assert [get(sample_server).status_code for _ in range(3)] == [503, 503, 503]
    assert get(sample_server, "FB").status_code == 200


def test_sticky_wildcard_fails_every_symbol_until_cleared(sample_server):
    sample_server.fail("*", "error_invalid_call", sticky=True)
    for symbol in ("AAPL", "MSFT"):
        assert get(sample_server, symbol).content == error_payload("error_invalid_call")
    sample_server.clear()
    assert sample_server.requests == []
    assert get(sample_server, "AAPL").status_code == 200
    assert get(sample_server, "AAPL").content == normal_body("AAPL")


def test_unknown_faults_are_refused_with_the_known_list(sample_server):
    with pytest.raises(ValueError, match=r"unknown fault\(s\) \['http_418'\]; known: .*'slow'"):
        sample_server.fail("IBM", "http_418")


def test_request_lines_are_not_logged_since_they_carry_the_key(sample_server, capfd):
    get(sample_server, apikey="canary-KEY-123")
    requests.get(sample_server.url.replace("/query", "/x?apikey=canary-KEY-123"), timeout=5)
    out, err = capfd.readouterr()
    assert "canary-KEY-123" not in out + err


@pytest.mark.slow
def test_command_line_server_applies_its_options():
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "stock_assets.alphavantage.sample_server",
            "--port",
            "0",
            "--api-key",
            "cli-key",
            "--fail",
            "IBM=http_503",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        banner = process.stdout.readline()
        url = banner.split(" on ", 1)[1].split(" ", 1)[0]
        assert url.startswith("http://127.0.0.1:")
        query = {"function": DAILY, "outputsize": "full", "apikey": "cli-key"}
        assert requests.get(url, params={**query, "symbol": "IBM"}, timeout=5).status_code == 503
        fb = requests.get(url, params={**query, "symbol": "FB"}, timeout=5)
        assert fb.content == normal_body("FB")
        no_key = requests.get(url, params={"function": DAILY, "symbol": "FB"}, timeout=5)
        assert no_key.content == error_payload("error_apikey_missing")
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_client_giving_up_on_a_slow_answer_is_not_a_server_error(sample_server, capfd):
    sample_server.slow_seconds = 0.3
    sample_server.fail("IBM", "slow")
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(
            sample_server.url,
            params={"function": DAILY, "symbol": "IBM", "outputsize": "full"},
            timeout=(2, 0.05),
        )
    time.sleep(0.5)  # the handler wakes up and writes to the closed connection
    assert "Traceback" not in capfd.readouterr().err
    assert get(sample_server, "FB").status_code == 200


def test_stop_closes_the_port():
    server = SampleServer().start()
    get(server, "FB")
    server.stop()
    with pytest.raises(requests.ConnectionError):
        get(server, "FB")


SERIES = "Time Series (Daily)"


def test_arrivals_are_logged_with_their_time_and_what_was_asked(sample_server):
    before = time.monotonic()
    get(sample_server, "AAPL", outputsize="compact")
    get(sample_server, "IBM")
    arrivals = sample_server.arrivals()
    assert [(a.function, a.symbol, a.outputsize) for a in arrivals] == [
        (DAILY, "AAPL", "compact"),
        (DAILY, "IBM", "full"),
    ]
    assert before <= arrivals[0].monotonic <= arrivals[1].monotonic <= time.monotonic()
    assert abs(arrivals[0].wall - time.time()) < 5
    sample_server.clear()
    assert sample_server.arrivals() == []


class _AllAtOnce(SampleAnswers):
    """Answers only once `parties` requests are being answered together: a server that served
    them one at a time would break the barrier (its wait is a bound, not a measurement)."""

    def __init__(self, parties: int):
        super().__init__()
        self.barrier = threading.Barrier(parties, timeout=30)

    def answer(self, params, *, alter=None):
        self.barrier.wait()
        return super().answer(params, alter=alter)


def test_requests_are_served_concurrently_and_each_arrival_is_logged():
    with SampleServer(_AllAtOnce(10)) as server, ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(lambda s: get(server, s, outputsize="compact").status_code,
                                 ["FB"] * 10))
        assert not server.answers.barrier.broken
        arrivals = server.arrivals()
    assert statuses == [200] * 10
    assert len(arrivals) == len(server.requests) == 10


def test_a_series_provider_is_served_beside_the_bundle():
    sample = SyntheticSample(3)
    with SampleServer(sample) as server:
        synthetic = json.loads(get(server, "S0002").content)
        assert get(server, "IBM").content == normal_body("IBM")
        assert get(server, "S0004").content == error_payload("error_invalid_call")
    assert synthetic == json.loads(SampleAnswers(provider=sample).answer(
        {"function": DAILY, "symbol": "S0002", "outputsize": "full"}
    ).body)
    assert synthetic["Meta Data"]["2. Symbol"] == "S0002"


def test_each_reply_leaves_in_one_send_with_nagle_off(sample_server, monkeypatch):
    """Headers and body written apart on a keep-alive connection made every answer wait for the
    client's delayed ACK; one send per reply on a TCP_NODELAY socket cannot."""
    port = int(sample_server.url.split(":")[2].split("/")[0])
    sends: list[tuple[bytes, int]] = []
    sendall = socket.socket.sendall

    def recording_sendall(sock, data, *args):
        if sock.getsockname()[1] == port:  # the server's side of the connection
            sends.append((bytes(data), sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)))
        return sendall(sock, data, *args)

    monkeypatch.setattr(socket.socket, "sendall", recording_sendall)
    with requests.Session() as session:  # keep-alive: the case that stalled
        bodies = [
            session.get(sample_server.url, timeout=10, params={
                "function": DAILY, "symbol": symbol, "outputsize": "compact"
            }).content
            for symbol in ("IBM", "AAPL")
        ]
    assert len(sends) == 2
    for (data, nodelay), body in zip(sends, bodies, strict=True):
        assert data.startswith(b"HTTP/1.1 200 ") and data.endswith(b"\r\n\r\n" + body)
        assert nodelay
