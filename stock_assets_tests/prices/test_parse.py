import json

import pandas as pd
import pytest

from stock_assets.ingest.answers import Answer
from stock_assets.ingest.sample_source import DAILY, DAILY_ADJUSTED, SampleAnswers
from stock_assets.prices.parse import UnparseableAnswer, parse_answer
from stock_assets.prices.schema import DATE


def sample_answer(symbol="AAPL", *, function=DAILY, outputsize="full", datatype="json", body=None):
    reply = SampleAnswers().answer(
        {"function": function, "symbol": symbol, "outputsize": outputsize, "datatype": datatype}
    )
    return Answer(
        symbol=symbol,
        function=function,
        outputsize=outputsize,
        datatype=datatype,
        source="test",
        url="",
        fetched_at="2026-01-01T00:00:00+00:00",
        status_code=200,
        content_type=reply.content_type,
        body=reply.body if body is None else body,
    )


def close_on(frame: pd.DataFrame, day: str) -> float:
    return frame.loc[frame["trade_date"].astype(str) == day, "close"].item()


def test_full_json_answer_becomes_typed_sorted_rows():
    frame = parse_answer(sample_answer())
    assert len(frame) == 3270
    assert frame["trade_date"].dtype == DATE
    assert frame["volume"].dtype == "int64"
    assert frame["trade_date"].is_monotonic_increasing and frame["trade_date"].is_unique
    assert str(frame["trade_date"].iloc[0]) == "2000-03-01"
    assert close_on(frame, "2005-02-28") == pytest.approx(44.86)
    assert set(frame["symbol"]) == {"AAPL"}


def test_csv_and_json_answers_parse_to_the_same_frame():
    from_json = parse_answer(sample_answer())
    from_csv = parse_answer(sample_answer(datatype="csv"))
    pd.testing.assert_frame_equal(from_json, from_csv)


def test_adjusted_answer_keeps_adjustment_columns():
    frame = parse_answer(sample_answer("MSFT", function=DAILY_ADJUSTED, datatype="csv"))
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
    payload["Time Series (Daily)"] = reformatted
    again = parse_answer(sample_answer(outputsize="compact", body=json.dumps(payload).encode()))
    pd.testing.assert_frame_equal(parse_answer(sample_answer(outputsize="compact")), again)


def test_unparseable_value_names_symbol_and_day():
    payload = json.loads(sample_answer(outputsize="compact").body)
    payload["Time Series (Daily)"]["2013-02-28"]["4. close"] = "n/a"
    with pytest.raises(UnparseableAnswer, match=r"AAPL: 1 row.*2013-02-28"):
        parse_answer(sample_answer(outputsize="compact", body=json.dumps(payload).encode()))
