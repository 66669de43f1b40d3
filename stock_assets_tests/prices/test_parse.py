import dataclasses
import json
from datetime import date

import pandas as pd
import pytest

from stock_assets.alphavantage.api import DAILY_ADJUSTED
from stock_assets.prices.parse import UnparseableAnswer, answer_frame, parse_values
from stock_assets.prices.schema import DATE
from stock_assets.prices.validate import clean_answer
from stock_assets_tests.prices.sample import (
    clean_sample,
    rows_of,
    sample_answer,
    with_extra_row,
)


def close_on(frame: pd.DataFrame, day: str) -> float:
    return frame.loc[frame["trade_date"].astype(str) == day, "close"].item()


def test_full_json_answer_becomes_typed_sorted_rows():
    frame = clean_sample()
    assert len(frame) == 3270
    assert frame["trade_date"].dtype == DATE
    assert frame["volume"].dtype == "int64"
    assert frame["trade_date"].is_monotonic_increasing and frame["trade_date"].is_unique
    assert str(frame["trade_date"].iloc[0]) == "2000-03-01"
    assert close_on(frame, "2005-02-28") == pytest.approx(44.86)
    assert set(frame["symbol"]) == {"AAPL"}


def test_csv_and_json_answers_parse_to_the_same_frame():
    pd.testing.assert_frame_equal(clean_sample(), clean_sample(datatype="csv"))


def test_adjusted_answer_keeps_adjustment_columns():
    frame = clean_sample("MSFT", function=DAILY_ADJUSTED, datatype="csv")
    assert {"adjusted_close", "dividend_amount", "split_coefficient"} <= set(frame.columns)
    split = frame.loc[frame["trade_date"].astype(str) == "2003-02-18", "split_coefficient"]
    assert split.item() == 2.0


def test_order_and_number_formatting_do_not_matter():
    payload = json.loads(sample_answer(outputsize="compact").body)
    series = payload["Time Series (Daily)"]
    reformatted = {
        day: {k: (v.rstrip("0").rstrip(".") if "." in v else v) for k, v in row.items()}
        for day, row in reversed(list(series.items()))
    }
    assert reformatted["2013-02-28"]["4. close"] == "441.4"
    payload["Time Series (Daily)"] = reformatted
    again = clean_answer(sample_answer(outputsize="compact", body=json.dumps(payload).encode()))
    pd.testing.assert_frame_equal(clean_sample(outputsize="compact"), again.clean)


@pytest.mark.parametrize("datatype", ["json", "csv"])
def test_answer_frame_keeps_the_text_as_received_and_every_row_sent(datatype):
    answer = sample_answer(outputsize="compact", datatype=datatype)
    twice = with_extra_row(answer, "2013-02-28", like="2013-02-28", close="441.4")
    text, last_refreshed = answer_frame(twice)
    assert list(text.columns) == ["trade_date", "open", "high", "low", "close", "volume"]
    assert len(text) == 101
    assert sorted(text.loc[text["trade_date"] == "2013-02-28", "close"]) == ["441.4", "441.4000"]
    assert last_refreshed == (date(2013, 3, 1) if datatype == "json" else None)
    assert text.to_dict("records")[1:] == rows_of(answer)


def test_parse_values_turns_text_into_numbers_and_nan():
    text = pd.DataFrame(
        {
            "trade_date": ["2013-02-28", "2013-02-30", None],
            "close": ["3.6", "n/a", "inf"],
            "volume": ["100", "", None],
        }
    )
    typed = parse_values(text)
    assert typed["trade_date"].isna().tolist() == [False, True, True]
    assert typed["close"].tolist()[0] == 3.6 and typed["close"].isna().tolist() == [
        False,
        True,
        True,
    ]
    assert typed["volume"].isna().tolist() == [False, True, True]


def test_answer_without_series_or_columns_is_unparseable():
    no_series = sample_answer(body=b'{"Meta Data": {}}')
    with pytest.raises(UnparseableAnswer, match=r"AAPL: answer holds no 'Time Series \(Daily\)'"):
        answer_frame(no_series)
    narrow = sample_answer(
        datatype="csv", body=b"timestamp,open,high,low,close\r\n2013-03-01,1,2,1,1\r\n"
    )
    with pytest.raises(UnparseableAnswer, match=r"AAPL: answer lacks columns \['volume'\]"):
        answer_frame(narrow)


def test_unreadable_last_refreshed_is_unparseable():
    payload = json.loads(sample_answer(outputsize="compact").body)
    payload["Meta Data"]["3. Last Refreshed"] = "yesterday"
    with pytest.raises(UnparseableAnswer, match="AAPL: 'Last Refreshed' 'yesterday'"):
        answer_frame(sample_answer(outputsize="compact", body=json.dumps(payload).encode()))


def test_values_sent_as_json_numbers_or_null_are_read_as_text():
    payload = json.loads(sample_answer(outputsize="compact").body)
    payload["Time Series (Daily)"]["2013-02-28"]["4. close"] = 441.4
    payload["Time Series (Daily)"]["2013-02-27"]["5. volume"] = None
    text, _ = answer_frame(sample_answer(outputsize="compact", body=json.dumps(payload).encode()))
    assert text.loc[1, "close"] == "441.4"
    assert text.loc[2, "volume"] is None


@pytest.mark.parametrize(
    "repeat",
    [
        '"2013-02-28": {"4. close": "1.0"},',  # as the sample writes a key
        '"2013-02-28" : {"4. close": "1.0"},',  # a space before the colon
        '"2013\\u002d02-28": {"4. close": "1.0"},',  # an escaped character in the day
        '"2013-02-28": null,',  # not an object
        '"2013-02-28": {"4. close": {"value": "1.0"}},',  # a nested object
    ],
)
def test_a_day_sent_twice_is_seen_twice_however_it_is_written(repeat):
    """Plain `json.loads` keeps one value per key: the body is parsed again keeping every pair
    whenever its keys and objects do not add up to what was parsed."""
    answer = sample_answer(outputsize="compact")
    body = answer.body.replace(b'Series (Daily)": {', b'Series (Daily)": {' + repeat.encode())
    text, _ = answer_frame(dataclasses.replace(answer, body=body))
    assert len(text) == 101
    assert (text["trade_date"] == "2013-02-28").sum() == 2
    assert text.to_dict("records")[1:] == rows_of(answer)
