import dataclasses
from datetime import date

import pandas as pd
import pytest

from stock_assets.alphavantage.api import DAILY, DAILY_ADJUSTED
from stock_assets.prices.schema import QUARANTINE
from stock_assets.prices.validate import CleanedAnswer, NoValidRows, clean_answer
from stock_assets_tests import real_answers
from stock_assets_tests.prices.sample import (
    clean_sample,
    days,
    edited,
    rows_of,
    sample_answer,
    with_extra_row,
    with_rows,
)

BOTH_FORMATS = pytest.mark.parametrize("datatype", ["json", "csv"])


def compact(datatype="json", symbol="AAPL", function=DAILY):
    return sample_answer(symbol, function=function, outputsize="compact", datatype=datatype)


def assert_quarantined(
    result: CleanedAnswer, reasons: dict[str, str], datatype="json", poisoned: str | None = None
):
    """Exactly the poisoned rows are quarantined, with these reasons; every other row is clean,
    exactly as in the unedited answer (`poisoned`: the day edited, when its date was)."""
    assert dict(zip(days(result.quarantine), result.quarantine["reason"], strict=True)) == reasons
    baseline = clean_sample(outputsize="compact", datatype=datatype)
    survivors = baseline[~baseline["trade_date"].astype(str).isin([*reasons, poisoned])]
    pd.testing.assert_frame_equal(result.clean, survivors.reset_index(drop=True))


@pytest.mark.parametrize(
    ("symbol", "rows"), [("AAPL", 3270), ("MSFT", 3270), ("IBM", 3270), ("GOOG", 2148), ("FB", 196)]
)
def test_the_real_sample_has_nothing_to_quarantine(symbol, rows):
    result = clean_answer(sample_answer(symbol))
    assert len(result.clean) == rows
    assert result.quarantine.empty
    assert result.last_refreshed == date(2013, 3, 1)


@pytest.mark.parametrize(
    ("symbol", "function", "datatype"),
    [("AAPL", DAILY, "csv"), ("AAPL", DAILY_ADJUSTED, "json"), ("MSFT", DAILY_ADJUSTED, "csv")],
)
def test_csv_and_adjusted_sample_answers_have_nothing_to_quarantine(symbol, function, datatype):
    result = clean_answer(sample_answer(symbol, function=function, datatype=datatype))
    assert len(result.clean) == 3270
    assert result.quarantine.empty


def test_real_market_closures_are_absent_from_the_sample_not_quarantined():
    aapl = days(clean_sample())
    assert "2001-09-10" in aapl and "2001-09-17" in aapl
    assert not {"2001-09-11", "2001-09-12", "2001-09-13", "2001-09-14"} & set(aapl)


@BOTH_FORMATS
@pytest.mark.parametrize(
    ("values", "reason"),
    [
        (
            {"high": "440.0000"},
            "high 440.0000 below open 444.0500; high 440.0000 below close 441.4000; "
            "high 440.0000 below low 441.4000",
        ),
        (
            {"low": "445.0000"},
            "low 445.0000 above open 444.0500; low 445.0000 above close 441.4000",
        ),
    ],
)
def test_inconsistent_ohlc_is_quarantined(datatype, values, reason):
    result = clean_answer(edited(compact(datatype), "2013-02-28", **values))
    assert len(result.clean) == 99
    assert_quarantined(result, {"2013-02-28": reason}, datatype)


@BOTH_FORMATS
@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"close": "n/a"}, "close 'n/a' is not a number"),
        ({"open": "1.2.3"}, "open '1.2.3' is not a number"),
        ({"volume": ""}, "volume '' is not a number"),
    ],
)
def test_unparseable_number_is_quarantined_with_symbol_day_and_text(datatype, values, reason):
    result = clean_answer(edited(compact(datatype), "2013-02-27", **values))
    assert_quarantined(result, {"2013-02-27": reason}, datatype)
    row = result.quarantine.iloc[0]
    assert row["symbol"] == "AAPL"
    assert {k: row[k] for k in values} == values


@BOTH_FORMATS
def test_unparseable_date_is_quarantined(datatype):
    result = clean_answer(edited(compact(datatype), "2013-02-28", trade_date="2013-02-30"))
    reason = "trade_date '2013-02-30' is not a YYYY-MM-DD date"
    assert_quarantined(result, {"2013-02-30": reason}, datatype, poisoned="2013-02-28")
    assert len(result.clean) == 99


def test_missing_field_is_quarantined():
    rows = rows_of(compact())
    del rows[1]["volume"]
    result = clean_answer(with_rows(compact(), rows))
    assert_quarantined(result, {"2013-02-28": "volume is missing"})
    assert pd.isna(result.quarantine["volume"].iloc[0])


def test_non_positive_price_is_quarantined():
    result = clean_answer(edited(compact(), "2013-02-28", low="0.0000"))
    assert_quarantined(result, {"2013-02-28": "low 0.0000 is not positive"})


@pytest.mark.parametrize(
    ("volume", "reason"),
    [("-100", "volume -100 is negative"), ("100.5", "volume 100.5 is not a whole number")],
)
def test_negative_or_fractional_volume_is_quarantined(volume, reason):
    result = clean_answer(edited(compact(), "2013-02-28", volume=volume))
    assert_quarantined(result, {"2013-02-28": reason})


def test_zero_volume_is_kept():
    result = clean_answer(edited(compact(), "2013-02-28", volume="0"))
    assert result.quarantine.empty
    assert result.clean["volume"].iloc[-2] == 0


def test_a_row_breaking_several_rules_lists_every_reason():
    answer = edited(compact(), "2013-02-28", open="-1.0", volume="-5")
    result = clean_answer(answer)
    assert_quarantined(
        result,
        {
            "2013-02-28": "open -1.0 is not positive; volume -5 is negative; "
            "low 441.4000 above open -1.0"
        },
    )


@BOTH_FORMATS
def test_a_day_sent_twice_with_different_values_is_quarantined_both_times(datatype):
    answer = with_extra_row(compact(datatype), "2013-02-28", like="2013-02-28", close="442.0000")
    result = clean_answer(answer)
    assert len(result.clean) == 99
    assert days(result.quarantine) == ["2013-02-28", "2013-02-28"]
    assert set(result.quarantine["close"]) == {"441.4000", "442.0000"}
    assert set(result.quarantine["reason"]) == {"day sent 2 times with different values"}
    baseline = clean_sample(outputsize="compact", datatype=datatype)
    expected = baseline[baseline["trade_date"].astype(str) != "2013-02-28"]
    pd.testing.assert_frame_equal(result.clean, expected.reset_index(drop=True))


@BOTH_FORMATS
@pytest.mark.parametrize("close", ["441.4000", "441.4"])
def test_identical_duplicates_collapse_into_one_good_row(datatype, close):
    answer = with_extra_row(compact(datatype), "2013-02-28", like="2013-02-28", close=close)
    result = clean_answer(answer)
    assert result.quarantine.empty
    baseline = clean_sample(outputsize="compact", datatype=datatype)
    pd.testing.assert_frame_equal(result.clean, baseline)


@pytest.mark.parametrize(
    ("day", "like", "reason"),
    [
        ("2013-02-23", "2013-02-22", "2013-02-23 is not an NYSE session (Saturday)"),
        ("2013-02-24", "2013-02-22", "2013-02-24 is not an NYSE session (Sunday)"),
        ("2012-12-25", "2012-12-24", "2012-12-25 is not an NYSE session (market closed)"),
        ("2012-10-29", "2012-10-26", "2012-10-29 is not an NYSE session (market closed)"),
    ],
)
def test_weekend_holiday_and_closure_days_are_quarantined(day, like, reason):
    result = clean_answer(with_extra_row(compact(), day, like=like))
    assert_quarantined(result, {day: reason})


def test_the_september_2001_closure_is_quarantined_in_a_full_answer():
    result = clean_answer(with_extra_row(sample_answer(), "2001-09-12", like="2001-09-10"))
    assert days(result.quarantine) == ["2001-09-12"]
    assert result.quarantine["reason"].item() == "2001-09-12 is not an NYSE session (market closed)"
    assert len(result.clean) == 3270


def test_juneteenth_is_a_tsx_venture_session_so_gpv_trv_keeps_it():
    """Issue 12 item 12: the NYSE was closed on 2023-06-19, the TSX Venture Exchange was not."""
    [gpv] = [entry for entry in real_answers.DATA if entry["symbol"] == "GPV.TRV"]
    result = clean_answer(real_answers.answer(gpv))
    assert days(result.clean) == ["2023-06-19", "2023-06-20"]
    assert result.quarantine.empty


def test_a_london_symbol_is_judged_on_the_london_calendar():
    """Boxing Day 2012 was an NYSE session but not a London one; Martin Luther King Day 2013 the
    other way round."""
    answer = with_extra_row(compact(), "2013-01-21", like="2013-01-18")
    result = clean_answer(dataclasses.replace(answer, symbol="TSCO.LON"))
    assert dict(zip(days(result.quarantine), result.quarantine["reason"], strict=True)) == {
        "2012-12-26": "2012-12-26 is not a London Stock Exchange session (market closed)"
    }
    assert "2013-01-21" in days(result.clean)
    assert set(result.clean["symbol"]) == {"TSCO.LON"}


def test_a_toronto_symbol_names_its_exchange_for_weekends_and_holidays():
    answer = dataclasses.replace(
        with_extra_row(compact(), "2013-02-23", like="2013-02-22"), symbol="SHOP.TRT"
    )
    assert clean_answer(answer).quarantine["reason"].tolist() == [
        "2012-10-08 is not a Toronto Stock Exchange session (market closed)",  # Thanksgiving
        "2012-12-26 is not a Toronto Stock Exchange session (market closed)",  # Boxing Day
        "2013-02-23 is not a Toronto Stock Exchange session (Saturday)",
    ]


def test_a_day_after_last_refreshed_is_quarantined():
    result = clean_answer(with_extra_row(compact(), "2013-03-04", like="2013-03-01"))
    assert_quarantined(result, {"2013-03-04": "after the answer's Last Refreshed 2013-03-01"})


def test_csv_states_no_last_refreshed_so_a_later_session_is_kept():
    result = clean_answer(with_extra_row(compact("csv"), "2013-03-04", like="2013-03-01"))
    assert result.last_refreshed is None
    assert result.quarantine.empty
    assert days(result.clean)[-1] == "2013-03-04"


def test_adjusted_answer_quarantine_keeps_every_field_as_text():
    answer = compact("csv", "MSFT", DAILY_ADJUSTED)
    result = clean_answer(edited(answer, "2013-02-28", split_coefficient="0.0"))
    assert list(result.quarantine.columns) == QUARANTINE
    assert all(str(t) == "string" for t in result.quarantine.dtypes)
    row = result.quarantine.iloc[0].to_dict()
    assert row == {
        "symbol": "MSFT",
        "trade_date": "2013-02-28",
        "open": "27.8800",
        "high": "27.9700",
        "low": "27.7400",
        "close": "27.8000",
        "volume": "35840200",
        "adjusted_close": "27.8",
        "dividend_amount": "0.0000",
        "split_coefficient": "0.0",
        "reason": "split_coefficient 0.0 is not positive",
    }
    assert len(result.clean) == 99


def test_daily_quarantine_has_no_adjustment_columns():
    result = clean_answer(edited(compact(), "2013-02-28", close="x"))
    assert list(result.quarantine.columns) == [
        "symbol",
        "trade_date",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "reason",
    ]


def test_no_valid_row_raises_naming_the_symbol_and_the_count():
    rows = rows_of(compact())[:2]
    rows[0]["close"] = "n/a"
    rows[1]["low"] = "-1"
    with pytest.raises(
        NoValidRows, match=r"^AAPL: no valid rows; all 2 row\(s\) quarantined"
    ) as err:
        clean_answer(with_rows(compact(), rows))
    assert err.value.symbol == "AAPL"
    assert len(err.value.quarantine) == 2
    assert isinstance(err.value, ValueError)
