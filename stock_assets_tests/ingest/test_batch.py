"""`fetch_batch`: answers in order, failures per symbol, and a stop that sends nothing more."""

import threading

import pytest

from stock_assets.alphavantage.answers import Answer
from stock_assets.alphavantage.errors import InvalidApiKey, QuotaExhausted, SymbolRejected
from stock_assets.ingest.batch import fetch_batch

SYMBOLS = [f"S{n:03d}" for n in range(20)]


def _answer(symbol: str) -> Answer:
    return Answer(
        symbol=symbol, function="TIME_SERIES_DAILY", outputsize="full", datatype="json",
        source="test", url="http://test/query", fetched_at="2026-01-01T00:00:00+00:00",
        status_code=200, content_type="application/json", body=b"{}",
    )


class FakeApi:
    """Answers every symbol, fails the ones it is told to, and counts what it was sent."""

    def __init__(self, failures: dict[str, Exception] | None = None):
        self.failures = failures or {}
        self.sent: list[str] = []
        self._lock = threading.Lock()

    def fetch(self, symbol: str) -> Answer:
        with self._lock:
            self.sent.append(symbol)
        if symbol in self.failures:
            raise self.failures[symbol]
        return _answer(symbol)


@pytest.mark.parametrize("workers", [1, 4])
def test_every_symbol_is_fetched_once_and_kept_in_order(workers):
    api = FakeApi()
    progress = []
    result = fetch_batch(api.fetch, SYMBOLS, workers=workers,
                         on_answer=lambda s, a, n: progress.append(n))
    assert list(result.fetched) == SYMBOLS
    assert sorted(api.sent) == SYMBOLS
    assert progress == list(range(1, 21))
    assert not result.unfetched and not result.quota_exhausted


@pytest.mark.parametrize("workers", [1, 4])
def test_a_rejected_symbol_fails_alone(workers):
    api = FakeApi({"S005": SymbolRejected("S005", "Invalid API call")})
    result = fetch_batch(api.fetch, SYMBOLS, workers=workers)
    assert len(result.fetched) == 19
    assert list(result.errors) == ["S005"]
    assert result.unfetched == ["S005"]
    assert not result.quota_exhausted


def test_the_quota_stops_the_batch_and_sends_nothing_more():
    api = FakeApi({"S007": QuotaExhausted("S007", "daily limit")})
    result = fetch_batch(api.fetch, SYMBOLS, workers=1)
    assert list(result.fetched) == SYMBOLS[:7]
    assert result.quota_exhausted and result.errors == {}
    assert result.unfetched == SYMBOLS[7:]
    assert api.sent == SYMBOLS[:8]


def test_with_several_in_flight_the_quota_still_stops_what_is_not_sent():
    api = FakeApi({s: QuotaExhausted(s, "daily limit") for s in SYMBOLS[10:]})
    result = fetch_batch(api.fetch, SYMBOLS, workers=4)
    assert list(result.fetched) == SYMBOLS[:10]
    assert set(result.unfetched) == set(SYMBOLS[10:])
    assert len(api.sent) <= 10 + 4


def test_a_bad_key_stops_the_batch_and_is_an_error():
    api = FakeApi({"S000": InvalidApiKey("S000", "the key is invalid")})
    result = fetch_batch(api.fetch, SYMBOLS, workers=1)
    assert result.fetched == {}
    assert list(result.errors) == ["S000"]
    assert result.not_sent == SYMBOLS[1:]


def test_an_unexpected_exception_propagates_and_stops_the_rest():
    api = FakeApi({"S002": RuntimeError("bug")})
    with pytest.raises(RuntimeError, match="bug"):
        fetch_batch(api.fetch, SYMBOLS, workers=1)
    assert api.sent == SYMBOLS[:3]
