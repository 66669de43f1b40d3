"""The bundled sample renders Alpha Vantage's wire format: the reference files, byte for byte."""

import json

import pytest
import requests

from stock_assets.ingest.client import OFFLINE_URL, AlphaVantageClient
from stock_assets.ingest.errors import NotInSample
from stock_assets.ingest.sample_source import (
    COMPACT_ROWS,
    DAILY,
    DAILY_ADJUSTED,
    SAMPLE_DATA,
    SampleAdapter,
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


def test_adapter_answers_a_plain_requests_session(reference_sample):
    session = requests.Session()
    session.mount(OFFLINE_URL, SampleAdapter())
    response = session.get(
        OFFLINE_URL, params=daily_params("AAPL", outputsize="full", datatype="csv"), timeout=1
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/x-download"
    assert response.content == (reference_sample / "csv" / "daily_AAPL.csv").read_bytes()
    assert response.url.startswith(OFFLINE_URL)


def test_offline_client_serves_the_sample_without_a_key(reference_sample):
    answer = AlphaVantageClient.offline().fetch_daily("AAPL", outputsize="compact")
    assert answer.source == "offline-sample"
    compact = reference_sample / "TIME_SERIES_DAILY" / "AAPL.compact.json"
    assert answer.body == compact.read_bytes()
    assert answer.url == (
        f"{OFFLINE_URL}?function=TIME_SERIES_DAILY&symbol=AAPL&outputsize=compact&datatype=json"
    )


@pytest.mark.parametrize(
    ("symbol", "adjusted", "holds"),
    [
        ("NVDA", False, "holds AAPL, FB, GOOG, IBM, MSFT;"),
        ("IBM", True, "holds TIME_SERIES_DAILY_ADJUSTED for AAPL, MSFT only;"),
    ],
)
def test_offline_client_names_a_symbol_the_sample_lacks(symbol, adjusted, holds):
    """Offline, Alpha Vantage is never asked, so its "Invalid API call" would mislead."""
    with pytest.raises(NotInSample) as raised:
        AlphaVantageClient.offline().fetch_daily(symbol, adjusted=adjusted)
    message = str(raised.value)
    assert message.startswith(f"{symbol} is not in the offline sample, which {holds}")
    assert f"set ALPHAVANTAGE_API_KEY to fetch {symbol} for real" in message
    assert "Please retry" not in message and not raised.value.retryable
