"""`validate_answer` on answers that read but must not be stored: another symbol's, an empty or
list series, JSON nested too deep, more days than any real history. None is retried."""

import json

import pytest

from stock_assets.alphavantage.answers import MOST_DAYS, validate_answer
from stock_assets.alphavantage.errors import (
    AlphaVantageError,
    AnswerForAnotherSymbol,
    MalformedAnswer,
    UnusableAnswer,
)
from stock_assets_tests.alphavantage.test_answers import make_answer

DAY = {"1. open": "1", "2. high": "2", "3. low": "1", "4. close": "2", "5. volume": "10"}


def _body(series: object = None, meta: dict | None = None) -> bytes:
    payload = {} if meta is None else {"Meta Data": meta}
    payload["Time Series (Daily)"] = {"2013-03-01": DAY} if series is None else series
    return json.dumps(payload).encode()


def _error(body: bytes, *, datatype: str = "json") -> AlphaVantageError:
    with pytest.raises(AlphaVantageError) as caught:
        validate_answer(make_answer(body, datatype=datatype, symbol="AAPL"))
    assert not caught.value.retryable
    assert str(caught.value).startswith("AAPL: Alpha Vantage ")
    return caught.value


def test_an_answer_naming_another_symbol_is_refused():
    error = _error(_body(meta={"2. Symbol": "MSFT"}))
    assert type(error) is AnswerForAnotherSymbol
    assert "the answer is for 'MSFT', not AAPL" in error.detail


@pytest.mark.parametrize("meta", [None, {}, {"2. Symbol": "aapl"}, {"2. Symbol": "AAPL"}])
def test_an_answer_naming_this_symbol_or_none_is_accepted(meta):
    validate_answer(make_answer(_body(meta=meta), symbol="AAPL"))


@pytest.mark.parametrize(
    "series, detail",
    [
        ({}, "'Time Series (Daily)' holds no day"),
        ([DAY], "'Time Series (Daily)' is a list, not an object of days"),
        ("x", "'Time Series (Daily)' is a string, not an object of days"),
        (None, None),
    ],
)
def test_a_series_that_is_not_an_object_of_days_is_unusable(series, detail):
    if detail is None:  # JSON null, sent as such
        body = b'{"Time Series (Daily)": null}'
        detail = "'Time Series (Daily)' is null, not an object of days"
    else:
        body = _body(series)
    error = _error(body)
    assert type(error) is UnusableAnswer and error.detail == detail


def test_json_nested_too_deep_is_unusable_not_a_recursion_error():
    body = b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    error = _error(body)
    assert type(error) is UnusableAnswer
    assert error.detail.startswith("JSON nested too deeply to read")


@pytest.mark.parametrize("datatype", ["json", "csv"])
def test_more_days_than_any_real_history_are_unusable(datatype):
    days = [f"{2000 + i // 400:04d}-01-{i % 400:03d}" for i in range(MOST_DAYS + 1)]
    if datatype == "json":
        body = _body({day: DAY for day in days})
    else:
        body = ("timestamp,open,high,low,close,volume\r\n"
                + "".join(f"{day},1,2,1,2,10\r\n" for day in days)).encode()
    error = _error(body, datatype=datatype)
    assert type(error) is UnusableAnswer
    assert error.detail.startswith(f"{MOST_DAYS + 1} days, more than any real history")


def test_a_truncated_body_stays_a_retryable_malformed_answer():
    with pytest.raises(MalformedAnswer) as caught:
        validate_answer(make_answer(_body()[:-5], symbol="AAPL"))
    assert caught.value.retryable


@pytest.mark.parametrize(
    "rename, missing",
    [
        (str.upper, "['open', 'high', 'low', 'close', 'volume']"),
        (lambda field: field.replace("volume", "vol"), "['volume']"),
    ],
)
def test_days_without_a_price_field_are_unusable_before_they_are_stored(rename, missing):
    """Found by the hostile corpus: an answer whose days never carry a field (upper-case field
    names) was stored as the latest answer, then failed in cleaning with a raw exception."""
    error = _error(_body({"2013-03-01": {rename(k): v for k, v in DAY.items()}}))
    assert type(error) is UnusableAnswer
    assert error.detail.startswith(f"no day carries {missing}")


def test_a_last_refreshed_that_is_not_a_date_is_unusable_before_it_is_stored():
    error = _error(_body(meta={"2. Symbol": "AAPL", "3. Last Refreshed": "yesterday"}))
    assert type(error) is UnusableAnswer
    assert error.detail == "Meta Data's 'Last Refreshed' 'yesterday' is not a date"


def test_a_day_missing_a_field_is_left_to_the_quarantine():
    validate_answer(make_answer(_body({"2013-03-01": DAY, "2013-02-28": {"1. open": "1"}}),
                                symbol="AAPL"))
