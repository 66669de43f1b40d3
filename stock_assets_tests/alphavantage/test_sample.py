"""The bundled sample renders Alpha Vantage's wire format: the reference files, byte for byte."""

import json

import pytest

from stock_assets.alphavantage.api import COMPACT_ROWS, DAILY, DAILY_ADJUSTED
from stock_assets.alphavantage.sample import (
    SAMPLE_DATA,
    SampleAnswers,
    bundled_series,
    error_payload,
    query_params,
    sample_symbols,
)
from stock_assets.watchlist import SAMPLE_SYMBOLS

CONTENT_TYPES = {"json": "application/json", "csv": "application/x-download"}
SHARED_ANSWERS = [
    (DAILY, "AAPL", "full", "json", "TIME_SERIES_DAILY/AAPL.json"),
    (DAILY, "AAPL", "compact", "json", "TIME_SERIES_DAILY/AAPL.compact.json"),
    (DAILY, "MSFT", "full", "json", "TIME_SERIES_DAILY/MSFT.json"),
    (DAILY, "IBM", "full", "json", "TIME_SERIES_DAILY/IBM.json"),
    (DAILY, "GOOG", "full", "json", "TIME_SERIES_DAILY/GOOG.json"),
    (DAILY, "FB", "full", "json", "TIME_SERIES_DAILY/FB.json"),
    (DAILY_ADJUSTED, "AAPL", "full", "json", "TIME_SERIES_DAILY_ADJUSTED/AAPL.json"),
    (DAILY, "AAPL", "full", "csv", "csv/daily_AAPL.csv"),
    (DAILY_ADJUSTED, "MSFT", "full", "csv", "csv/daily_adjusted_MSFT.csv"),
]


def daily_params(symbol: str, **extra: str) -> dict[str, str]:
    return {"function": DAILY, "symbol": symbol, **extra}


@pytest.mark.parametrize("function, symbol, outputsize, datatype, name", SHARED_ANSWERS)
def test_answers_equal_the_reference_files_byte_for_byte(
    reference_sample, function, symbol, outputsize, datatype, name
):
    reply = SampleAnswers().answer(
        {"function": function, "symbol": symbol, "outputsize": outputsize, "datatype": datatype}
    )
    assert reply.status == 200
    assert reply.content_type == CONTENT_TYPES[datatype]
    assert reply.body == (reference_sample / name).read_bytes()


def test_error_payloads_equal_the_reference_files(reference_sample):
    names = sorted(p.name for p in (SAMPLE_DATA / "errors").iterdir())
    assert names == sorted(p.name for p in (reference_sample / "errors").iterdir())
    for name in names:
        reference = (reference_sample / "errors" / name).read_bytes()
        assert error_payload(name.removesuffix(".json")) == reference


def test_outputsize_defaults_to_compact_as_alpha_vantage_does(reference_sample):
    reply = SampleAnswers().answer(daily_params("AAPL"))
    assert reply.body == (reference_sample / "TIME_SERIES_DAILY" / "AAPL.compact.json").read_bytes()


def test_compact_csv_holds_the_newest_hundred_rows(reference_sample):
    reply = SampleAnswers().answer(daily_params("AAPL", outputsize="compact", datatype="csv"))
    full = (reference_sample / "csv" / "daily_AAPL.csv").read_bytes().split(b"\r\n")
    lines = reply.body.split(b"\r\n")
    assert lines[-1] == b""  # CRLF after the last row, as Alpha Vantage sends it
    assert lines[:-1] == full[: COMPACT_ROWS + 1]


def test_adjusted_json_rendered_from_the_bundled_csv_matches_the_adjusted_shape(reference_sample):
    msft = json.loads(
        SampleAnswers()
        .answer({"function": DAILY_ADJUSTED, "symbol": "MSFT", "outputsize": "full"})
        .body
    )
    aapl = json.loads((reference_sample / "TIME_SERIES_DAILY_ADJUSTED" / "AAPL.json").read_bytes())
    assert msft["Meta Data"] == dict(aapl["Meta Data"], **{"2. Symbol": "MSFT"})
    series = msft["Time Series (Daily)"]
    assert len(series) == 3270
    days = list(series)
    assert (days[0], days[-1]) == ("2013-03-01", "2000-03-01")
    assert list(series["2013-03-01"]) == list(aapl["Time Series (Daily)"]["2013-03-01"])
    assert series["2003-02-18"]["8. split coefficient"] == "2.0"  # the 2:1 split


@pytest.mark.parametrize(
    "params",
    [
        daily_params("ZZZZ"),
        {"function": "GLOBAL_QUOTE", "symbol": "AAPL"},
        {"function": "TIME_SERIES_INTRADAY", "symbol": "AAPL"},
        {"function": DAILY_ADJUSTED, "symbol": "IBM"},
        {},
    ],
)
def test_anything_not_bundled_gets_the_invalid_call_payload(params):
    reply = SampleAnswers().answer(params)
    assert (reply.status, reply.content_type) == (200, "application/json")
    assert reply.body == error_payload("error_invalid_call")


def test_extra_series_are_served_and_override_the_bundle():
    aapl = bundled_series(DAILY, "AAPL")
    answers = SampleAnswers(extra={(DAILY, "BRK.B"): aapl, (DAILY, "IBM"): aapl})
    brk = json.loads(answers.answer(daily_params("BRK.B", outputsize="full")).body)
    ibm = json.loads(answers.answer(daily_params("IBM", outputsize="full")).body)
    assert brk == ibm == aapl


def test_sample_symbols_are_the_watchlist_default():
    assert sample_symbols() == sorted(SAMPLE_SYMBOLS)


def test_query_params_flattens_to_the_last_value():
    url = "http://x/query?function=TIME_SERIES_DAILY&symbol=A&symbol=BRK.B&apikey=a%26b"
    assert query_params(url) == {"function": DAILY, "symbol": "BRK.B", "apikey": "a&b"}
    assert query_params("http://x/query") == {}
