"""`AlphaVantageAPIClient` against the loopback server: answers, retries, classification, the
budget, symbol validation, and the API key kept out of every error, log line and stored record.

Over 300 lines: one test per real answer, fault and error class the client must tell apart.
"""

import json
import logging
import socket
import time
from collections.abc import Iterator
from datetime import datetime

import pytest

from stock_assets.alphavantage.answers import Answer
from stock_assets.alphavantage.api import DAILY, DAILY_ADJUSTED
from stock_assets.alphavantage.api_client import AlphaVantageAPIClient
from stock_assets.alphavantage.errors import (
    AlphaVantageError,
    HttpRefused,
    InvalidApiKey,
    MalformedAnswer,
    PlanError,
    QuotaExhausted,
    SymbolRejected,
    Throttled,
    Unavailable,
)
from stock_assets.alphavantage.sample import SampleAnswers, bundled_series
from stock_assets.alphavantage.sample_server import FAULTS, SampleServer
from stock_assets.ingest.budget import RequestBudget
from stock_assets.watchlist import InvalidSymbolError

CANARY = "canary-KEY-123"
LOGGER = "stock_assets.alphavantage.api_client"
TRANSIENT = {
    "http_500": Unavailable,
    "http_503": Unavailable,
    "html": MalformedAnswer,
    "truncated": MalformedAnswer,
    "cut": Unavailable,
    "slow": Unavailable,
    "drip": Unavailable,
    "drip_headers": Unavailable,
    "stall": Unavailable,
    "information_burst": Throttled,
    "information_burst_pattern": Throttled,
    "note_rate_limit_per_minute_legacy": Throttled,
}
PERMANENT = {
    "error_invalid_call": SymbolRejected,
    "error_apikey_missing": InvalidApiKey,
    "information_rate_limit_daily": QuotaExhausted,
    "information_outputsize_full_premium": PlanError,
    "information_premium_endpoint": PlanError,
    "information_demo": PlanError,
}
FAST_TIMEOUT = (2.0, 0.25)  # read timeout: ample for a real answer, well under a slow one
CONTENT_TYPES = {"json": "application/json", "csv": "application/x-download"}
INVALID_SYMBOLS = ["aapl", "Aapl", "ABCDEFGHIJK", "../x", "..", "", "A B", "A;DROP", "AAPL\n"]


def test_full_refused_rejects_only_full_requests(sample_server, make_client):
    sample_server.fail("AAPL", "full_refused", sticky=True)
    client = make_client()
    with pytest.raises(SymbolRejected, match="Invalid API call"):
        client.fetch_daily("AAPL", outputsize="full")
    assert client.fetch_daily("AAPL", outputsize="compact").outputsize == "compact"


@pytest.fixture
def server(sample_server):
    """The loopback server, its slow and drip faults far beyond `FAST_TIMEOUT`."""
    sample_server.slow_seconds = 1.0
    sample_server.drip_seconds = 0.5
    return sample_server


@pytest.fixture
def keyed_server() -> Iterator[SampleServer]:
    """A loopback server that accepts only the canary key."""
    with SampleServer(api_key=CANARY, slow_seconds=1.0, drip_seconds=0.5) as server:
        yield server


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/query"


# A well-formed answer with bad rows: the client delivers it, validation quarantines the rows.
DATA_FAULTS = {"poisoned"}
# "Invalid API call" to outputsize=full only, as Alpha Vantage answers for some symbols.
OUTPUTSIZE_FAULTS = {"full_refused"}


def test_faults_are_split_into_transient_and_permanent():
    assert set(TRANSIENT) | set(PERMANENT) | DATA_FAULTS | OUTPUTSIZE_FAULTS == FAULTS
    assert all(cls.retryable for cls in TRANSIENT.values())
    assert not any(cls.retryable for cls in PERMANENT.values())


@pytest.mark.parametrize(
    "symbol, adjusted, outputsize, datatype, name",
    [
        ("AAPL", False, "full", "json", "TIME_SERIES_DAILY/AAPL.json"),
        ("AAPL", False, "compact", "json", "TIME_SERIES_DAILY/AAPL.compact.json"),
        ("AAPL", True, "full", "json", "TIME_SERIES_DAILY_ADJUSTED/AAPL.json"),
        ("AAPL", False, "full", "csv", "csv/daily_AAPL.csv"),
        ("MSFT", True, "full", "csv", "csv/daily_adjusted_MSFT.csv"),
    ],
)
def test_answers_are_the_served_bytes_with_their_provenance(
    server, make_client, reference_sample, symbol, adjusted, outputsize, datatype, name
):
    answer = make_client().fetch_daily(
        symbol, adjusted=adjusted, outputsize=outputsize, datatype=datatype
    )
    function = DAILY_ADJUSTED if adjusted else DAILY
    assert answer.body == (reference_sample / name).read_bytes()
    assert (answer.symbol, answer.function, answer.outputsize, answer.datatype) == (
        symbol,
        function,
        outputsize,
        datatype,
    )
    assert answer.source == "alphavantage"
    assert answer.status_code == 200
    assert answer.content_type == CONTENT_TYPES[datatype]
    assert answer.url == (
        f"{server.url}?function={function}&symbol={symbol}"
        f"&outputsize={outputsize}&datatype={datatype}"
    )
    assert datetime.fromisoformat(answer.fetched_at).tzinfo is not None
    assert server.requests == [
        {
            "function": function,
            "symbol": symbol,
            "outputsize": outputsize,
            "datatype": datatype,
            "apikey": "test-key",
        }
    ]


def test_without_a_key_no_apikey_parameter_is_sent(server, make_client):
    make_client(api_key="").fetch_daily("FB")
    assert "apikey" not in server.requests[0]


@pytest.mark.parametrize("datatype", ["json", "csv"])
@pytest.mark.parametrize("fault", sorted(TRANSIENT))
def test_transient_faults_are_retried_then_succeed(server, make_client, fault, datatype):
    server.fail("IBM", fault)
    client = make_client(timeout=FAST_TIMEOUT)
    answer = client.fetch_daily("IBM", datatype=datatype)
    expected = SampleAnswers().answer(
        {"function": DAILY, "symbol": "IBM", "outputsize": "full", "datatype": datatype}
    )
    assert answer.body == expected.body
    assert len(server.requests) == 2


def test_a_run_of_different_faults_is_retried_up_to_the_attempts(server, make_client, caplog):
    server.fail("IBM", "http_500", "html", "truncated", "information_burst")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        answer = make_client(attempts=5).fetch_daily("IBM")
    assert json.loads(answer.body)["Meta Data"]["2. Symbol"] == "IBM"
    assert len(server.requests) == 5
    retries = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert len(retries) == 4
    assert retries[0].startswith("IBM: Alpha Vantage service unavailable: HTTP 500")
    assert "(attempt 1); retrying in" in retries[0]
    assert "(attempt 4)" in retries[3] and "rate limit" in retries[3]


# The legacy note names a daily limit ("5 calls per minute and 500 calls per day"): when it
# outlasts every retry, that limit was the day's quota.
OUTLASTING = {"note_rate_limit_per_minute_legacy": QuotaExhausted}


@pytest.mark.parametrize("fault", sorted(TRANSIENT))
def test_a_sticky_transient_fault_fails_clearly_after_the_attempts(server, make_client, fault):
    server.fail("IBM", fault, sticky=True)
    with pytest.raises(AlphaVantageError) as caught:
        make_client(attempts=3, timeout=FAST_TIMEOUT).fetch_daily("IBM")
    error = caught.value
    assert type(error) is OUTLASTING.get(fault, TRANSIENT[fault])
    assert error.symbol == "IBM"
    assert str(error).startswith(f"IBM: Alpha Vantage {error.kind}: ")
    assert len(server.requests) == 3


@pytest.mark.parametrize("datatype", ["json", "csv"])
@pytest.mark.parametrize("fault", sorted(PERMANENT))
def test_permanent_faults_are_not_retried(server, make_client, fault, datatype):
    server.fail("IBM", fault)
    with pytest.raises(AlphaVantageError) as caught:
        make_client(attempts=5).fetch_daily("IBM", datatype=datatype)
    assert type(caught.value) is PERMANENT[fault]
    assert caught.value.symbol == "IBM"
    assert len(server.requests) == 1


def test_outputsize_full_premium_error_says_what_to_change(server, make_client):
    server.fail("IBM", "information_outputsize_full_premium")
    with pytest.raises(PlanError, match="outputsize=full is premium-only"):
        make_client().fetch_daily("IBM")


def test_unknown_symbol_is_rejected_once(server, make_client):
    with pytest.raises(SymbolRejected, match=r"^ZZZZ: Alpha Vantage rejected symbol: Invalid API"):
        make_client().fetch_daily("ZZZZ")
    assert len(server.requests) == 1


def test_a_wrong_key_is_an_invalid_key_error_without_retry(server, make_client):
    server.api_key = "the-right-key"
    with pytest.raises(InvalidApiKey, match="apikey is invalid or missing"):
        make_client(api_key="a-wrong-key").fetch_daily("IBM")
    assert len(server.requests) == 1


def test_an_http_4xx_is_refused_without_retry(server, make_client, caplog):
    caplog.set_level(logging.DEBUG, logger="urllib3")
    client = make_client(base_url=server.url.replace("/query", "/nothing-here"), attempts=4)
    with pytest.raises(HttpRefused, match=r"^IBM: Alpha Vantage HTTP error: HTTP 404 from "):
        client.fetch_daily("IBM")
    sent = [r for r in caplog.records if "GET /nothing-here" in r.getMessage()]
    assert len(sent) == 1


def test_connection_refused_is_unavailable_after_the_attempts(make_client, caplog):
    caplog.set_level(logging.WARNING, logger=LOGGER)
    with pytest.raises(Unavailable) as caught:
        make_client(base_url=closed_port_url(), attempts=2).fetch_daily("IBM")
    assert str(caught.value).startswith("IBM: Alpha Vantage service unavailable: ConnectionError")
    assert len([r for r in caplog.records if r.name == LOGGER]) == 1


def test_every_attempt_spends_the_daily_budget(server, make_client, budget_engine):
    server.fail("IBM", "http_503", sticky=True)
    budget = RequestBudget(budget_engine, per_second=0, per_minute=0, per_day=2)
    client = make_client(attempts=5, budget=budget)
    with pytest.raises(QuotaExhausted, match="budget of 2 requests per day is used up"):
        client.fetch_daily("IBM")
    assert len(server.requests) == 2
    with pytest.raises(QuotaExhausted):
        client.fetch_daily("FB")
    assert len(server.requests) == 2


def test_a_generous_budget_lets_requests_through(server, make_client, budget_engine):
    budget = RequestBudget(budget_engine, per_second=100, per_minute=100, per_day=100)
    client = make_client(budget=budget)
    for symbol in ("AAPL", "MSFT", "FB"):
        assert client.fetch_daily(symbol, outputsize="compact").symbol == symbol
    assert [r["symbol"] for r in server.requests] == ["AAPL", "MSFT", "FB"]


@pytest.mark.parametrize("symbol", INVALID_SYMBOLS)
def test_invalid_symbols_are_refused_before_any_request(server, make_client, symbol):
    with pytest.raises(InvalidSymbolError, match="invalid ticker symbol"):
        make_client().fetch_daily(symbol)
    assert server.requests == []


@pytest.mark.parametrize("symbol", ["BRK.B", "BF-B"])
def test_symbols_with_dot_or_dash_are_fetched_unchanged(server, make_client, symbol):
    fb = bundled_series(DAILY, "FB")
    named = dict(fb, **{"Meta Data": dict(fb["Meta Data"], **{"2. Symbol": symbol})})
    server.answers = SampleAnswers(extra={(DAILY, symbol): named})
    answer = make_client().fetch_daily(symbol, outputsize="compact")
    assert answer.symbol == symbol
    assert [r["symbol"] for r in server.requests] == [symbol]


def exception_chain(error: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def assert_key_absent(error: BaseException | None, caplog: pytest.LogCaptureFixture) -> None:
    for link in exception_chain(error) if error else []:
        assert CANARY not in str(link)
        assert CANARY not in repr(link)
        assert CANARY not in repr(vars(link))
    for record in caplog.records:
        assert CANARY not in record.getMessage()
    assert CANARY not in caplog.text


def fetch_catching(
    client: AlphaVantageAPIClient, symbol: str = "IBM", **options: str
) -> tuple[Answer | None, AlphaVantageError | None]:
    try:
        return client.fetch_daily(symbol, **options), None
    except AlphaVantageError as error:
        return None, error


@pytest.mark.parametrize("datatype", ["json", "csv"])
@pytest.mark.parametrize("fault", [None, *sorted(FAULTS)])
def test_api_key_never_leaves_the_request(keyed_server, make_client, caplog, fault, datatype):
    caplog.set_level(logging.DEBUG)
    if fault is not None:
        keyed_server.fail("IBM", fault, sticky=True)
    client = make_client(
        api_key=CANARY, base_url=keyed_server.url, attempts=2, timeout=FAST_TIMEOUT
    )
    answer, error = fetch_catching(client, datatype=datatype)
    assert (answer is None) == (fault is not None and fault not in DATA_FAULTS)
    assert_key_absent(error, caplog)
    if answer is not None:
        record = answer.to_record()
        assert CANARY not in json.dumps(record)
        assert CANARY not in repr(answer)
        assert record["url"].endswith("symbol=IBM&outputsize=full&datatype=" + datatype)
    assert keyed_server.requests and all(r["apikey"] == CANARY for r in keyed_server.requests)
    if fault not in {"slow", "drip_headers"}:  # urllib3 logs the request once answered
        sent = [r.getMessage() for r in caplog.records if r.name == "urllib3.connectionpool"]
        assert any("apikey=*** HTTP/1.1" in line for line in sent)


def test_api_key_never_leaves_a_rejected_key(server, make_client, caplog):
    caplog.set_level(logging.DEBUG)
    server.api_key = "the-right-key"
    _, error = fetch_catching(make_client(api_key=CANARY))
    assert isinstance(error, InvalidApiKey)
    assert_key_absent(error, caplog)
    assert server.requests[0]["apikey"] == CANARY


def test_api_key_never_leaves_a_refused_connection(make_client, caplog):
    caplog.set_level(logging.DEBUG)
    _, error = fetch_catching(make_client(api_key=CANARY, base_url=closed_port_url()))
    assert isinstance(error, Unavailable)
    assert_key_absent(error, caplog)
    assert any(r.name.startswith("urllib3") for r in caplog.records)


DEADLINE = 1.5  # seconds; the margin below is a fact checked, not a benchmark
MARGIN = 2.0


@pytest.mark.timeout(30)
@pytest.mark.parametrize("fault, drip_seconds, phase", [
    ("drip", 0.3, "the answer was still arriving"),
    ("stall", 0.3, "the answer was still arriving"),
    # A slowloris: each byte of the status line and headers reaches the socket well within its
    # read timeout, so only the deadline's watch on the socket ends it.
    ("drip_headers", 0.05, "the headers were still arriving"),
])
def test_a_drip_or_a_stall_ends_within_the_deadline(
    server, make_client, caplog, fault, drip_seconds, phase
):
    """A byte every 0.3 s never trips a read timeout; only a deadline on the whole answer ends
    it."""
    caplog.set_level(logging.DEBUG)
    server.drip_seconds = drip_seconds
    server.fail("AAPL", fault)
    client = make_client(api_key=CANARY, attempts=1, deadline_seconds=DEADLINE)
    started = time.monotonic()
    with pytest.raises(Unavailable) as caught:
        client.fetch_daily("AAPL", outputsize="compact")
    assert time.monotonic() - started < DEADLINE + MARGIN
    assert str(caught.value) == (
        f"AAPL: Alpha Vantage service unavailable: timed out after 1.5 s (deadline): {phase}"
    )
    assert_key_absent(caught.value, caplog)


def test_a_slow_but_steady_answer_within_the_deadline_is_read_whole(server, make_client):
    server.drip_seconds = 0.0005  # a compact answer's head, a byte at a time, in well under 1 s
    server.fail("AAPL", "drip_headers")
    client = make_client(attempts=1, deadline_seconds=30)
    answer = client.fetch_daily("AAPL", outputsize="compact")
    assert answer.symbol == "AAPL" and len(answer.body) > 1000


@pytest.mark.timeout(60)
def test_retries_of_a_dripping_symbol_share_its_budget(server, make_client):
    server.drip_seconds = 0.3
    server.fail("AAPL", "drip", sticky=True)
    client = make_client(attempts=10, deadline_seconds=DEADLINE, retry_budget_seconds=4.0)
    started = time.monotonic()
    with pytest.raises(Unavailable, match=r"^AAPL: .*timed out after [0-9.]+ s \(deadline"):
        client.fetch_daily("AAPL", outputsize="compact")
    assert time.monotonic() - started < 4.0 + MARGIN
    assert 2 <= len(server.requests) <= 3


@pytest.mark.timeout(30)
def test_no_answer_at_all_ends_within_the_deadline(server, make_client):
    """Headers that never come: the deadline bounds the wait for them too, however long the
    read timeout."""
    server.slow_seconds = 5.0
    server.fail("AAPL", "slow")
    client = make_client(attempts=1, deadline_seconds=DEADLINE, timeout=(5.0, 30.0))
    started = time.monotonic()
    with pytest.raises(Unavailable) as caught:
        client.fetch_daily("AAPL", outputsize="compact")
    assert time.monotonic() - started < DEADLINE + MARGIN
    assert str(caught.value) == (
        "AAPL: Alpha Vantage service unavailable: timed out after 1.5 s (deadline): "
        "no answer arrived"
    )
