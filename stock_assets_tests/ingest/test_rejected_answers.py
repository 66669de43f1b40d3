"""Answers that parse but must not be stored (another symbol's, an empty or list series, JSON
nested too deep, implausibly many days), through real runs: rejected once in the fetch, with a
message naming the symbol; the victim's stored answer and history stay byte for byte, the refused
answer is kept apart as evidence; the other symbol of the batch is stored."""

import datetime
import json

import dagster as dg
import pytest

from stock_assets.alphavantage.answers import Answer
from stock_assets.alphavantage.api import DAILY, SERIES_KEY
from stock_assets.alphavantage.sample import Reply, SampleAnswers, bundled_series
from stock_assets.alphavantage.sample_server import SampleServer
from stock_assets.definitions import ASSETS
from stock_assets.partitions import RANGE_END_TAG, RANGE_START_TAG
from stock_assets_tests.helpers import loopback_resources

AAPL_AND_MSFT = {RANGE_START_TAG: "AAPL", RANGE_END_TAG: "MSFT"}
DEEP = 100_000  # far beyond Python's recursion limit


def _aapl(series) -> dict:
    return {"Meta Data": bundled_series(DAILY, "AAPL")["Meta Data"], SERIES_KEY: series}


def _reaching_before_1677(days: int = 200_000) -> dict:
    row = {"1. open": "10", "2. high": "11", "3. low": "9", "4. close": "10", "5. volume": "100"}
    last = datetime.date(2013, 3, 1)
    return _aapl({(last - datetime.timedelta(days=i)).isoformat(): row for i in range(days)})


class _DeeplyNested(SampleAnswers):
    """AAPL's daily series as JSON nested `DEEP` levels (too deep for `json.dumps` to write)."""

    def answer(self, params: dict[str, str], **kwargs) -> Reply:
        if params.get("function") == DAILY and params.get("symbol") == "AAPL":
            return Reply(200, "application/json", b'{"a": ' + b"[" * DEEP + b"]" * DEEP + b"}")
        return super().answer(params, **kwargs)


HOSTILE = {
    "another symbol": (
        lambda: SampleAnswers(extra={(DAILY, "AAPL"): bundled_series(DAILY, "MSFT")}),
        "AAPL: Alpha Vantage answer for another symbol: the answer is for 'MSFT', not AAPL",
    ),
    "empty series": (
        lambda: SampleAnswers(extra={(DAILY, "AAPL"): _aapl({})}),
        "AAPL: Alpha Vantage unusable answer: 'Time Series (Daily)' holds no day",
    ),
    "series as a list": (
        lambda: SampleAnswers(extra={(DAILY, "AAPL"): _aapl([{"1. open": "1"}])}),
        "AAPL: Alpha Vantage unusable answer: 'Time Series (Daily)' is a list, not an object",
    ),
    "deeply nested": (
        _DeeplyNested,
        "AAPL: Alpha Vantage unusable answer: JSON nested too deeply",
    ),
    "200 k days before 1677": (
        lambda: SampleAnswers(extra={(DAILY, "AAPL"): _reaching_before_1677()}),
        "AAPL: Alpha Vantage unusable answer: 200000 days",
    ),
}


def _stored_bytes(tmp_path) -> dict[str, bytes]:
    objects = tmp_path / "objects"
    return {
        name: (objects / name).read_bytes()
        for name in ("raw_quotes/AAPL.json", "cleaned_daily_prices/AAPL.parquet")
    }


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_rejected_answer_is_never_stored_and_never_retried(
    tmp_path, sample_server, instance, case
):
    resources = loopback_resources(tmp_path, sample_server)
    assert dg.materialize(ASSETS, resources=resources, partition_key="AAPL").success
    before = _stored_bytes(tmp_path)

    answers, message = HOSTILE[case]
    with SampleServer(answers()) as hostile:
        result = dg.materialize(
            ASSETS, resources=loopback_resources(tmp_path, hostile), instance=instance,
            tags=AAPL_AND_MSFT, raise_on_error=False,
        )
        aapl_requests = [r for r in hostile.series_requests if r["symbol"] == "AAPL"]

    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure).step_failure_data
    assert failure.user_failure_data.description.startswith(message)
    assert "(1 other symbols were stored)" in failure.user_failure_data.description
    assert len(aapl_requests) == 1  # not retried: asked again, the server answers the same
    assert _stored_bytes(tmp_path) == before
    assert (tmp_path / "objects" / "raw_quotes" / "MSFT.json").exists()
    [evidence] = (tmp_path / "objects" / "raw_quotes" / "_rejected" / "AAPL").iterdir()
    refused = Answer.from_record(json.loads(evidence.read_bytes()))  # checks its SHA-256
    assert (refused.symbol, refused.function) == ("AAPL", DAILY)
    assert refused.body and "test-key" not in refused.url
