"""Values that parse but cannot be true or cannot be stored as they are: prices beyond any real
share, volumes no 64-bit integer holds, days outside the exchange calendar's range. Each row is
quarantined with its reason, and `schema.conform` refuses a cast that would change a value."""

import pandas as pd
import pytest

from stock_assets.exchanges import SUFFIXES
from stock_assets.prices import schema
from stock_assets.prices.validate import clean_answer
from stock_assets.settings import DEFAULT_MOST_PLAUSIBLE_PRICE
from stock_assets.trading_calendar import EARLIEST_DAY, plausible_days
from stock_assets_tests.prices.sample import (
    days,
    edited,
    sample_answer,
    with_extra_row,
)

BOTH_FORMATS = pytest.mark.parametrize("datatype", ["json", "csv"])


def compact(datatype="json"):
    return sample_answer("AAPL", outputsize="compact", datatype=datatype)


def _reasons(result) -> dict[str, str]:
    return dict(zip(days(result.quarantine), result.quarantine["reason"], strict=True))


@BOTH_FORMATS
def test_a_price_beyond_any_real_share_is_quarantined(datatype):
    result = clean_answer(edited(compact(datatype), "2013-02-28", high="1e308"))
    assert _reasons(result) == {
        "2013-02-28": "high 1e308 is above the plausible 10,000,000 "
        "(STOCK_ASSETS_MOST_PLAUSIBLE_PRICE)"
    }
    assert len(result.clean) == 99


def test_a_price_like_brk_a_is_plausible():
    price = "700000.0000"
    answer = edited(compact(), "2013-02-28", open=price, high=price, low=price, close=price)
    assert float(price) < DEFAULT_MOST_PLAUSIBLE_PRICE
    assert clean_answer(answer).quarantine.empty


@BOTH_FORMATS
def test_a_volume_no_int64_holds_is_quarantined_and_never_wrapped(datatype):
    result = clean_answer(edited(compact(datatype), "2013-02-28", volume="1e20"))
    assert _reasons(result) == {"2013-02-28": "volume 1e20 does not fit a 64-bit integer"}
    assert result.clean["volume"].min() > 0


def test_the_largest_volume_that_fits_is_stored_exactly():
    result = clean_answer(edited(compact(), "2013-02-28", volume="9000000000000000000"))
    assert result.quarantine.empty
    assert result.clean["volume"].max() == 9_000_000_000_000_000_000


@BOTH_FORMATS
@pytest.mark.parametrize(
    ("day", "reason"),
    [
        ("1900-01-02", "1900-01-02 is before the first day NYSE's calendar holds (1970-01-01)"),
        ("1500-01-04", "1500-01-04 is before the first day NYSE's calendar holds (1970-01-01)"),
        ("2199-01-02", "2199-01-02 is after the last day NYSE's calendar holds"),
    ],
)
def test_days_outside_the_calendars_range_are_quarantined(datatype, day, reason):
    result = clean_answer(with_extra_row(compact(datatype), day, like="2013-02-28"))
    assert list(_reasons(result)) == [day]
    assert _reasons(result)[day].startswith(reason)
    assert len(result.clean) == 100


def test_the_calendar_range_starts_at_a_recorded_first_day_or_1970():
    assert plausible_days()[0] == EARLIEST_DAY == pd.Timestamp("1970-01-01")
    assert plausible_days(SUFFIXES["BSE"])[0] == pd.Timestamp("1997-01-01")
    assert plausible_days()[1] > pd.Timestamp.now() + pd.Timedelta(days=365)
    # XBOM records holidays to the end of a year near now; its range still reaches past it.
    assert plausible_days(SUFFIXES["BSE"])[1] == plausible_days()[1]


def test_conform_refuses_a_cast_that_would_change_a_value():
    frame = pd.DataFrame({
        "symbol": ["AAPL"], "trade_date": ["2013-02-28"], "open": [1.0], "high": [2.0],
        "low": [1.0], "close": [2.0], "volume": [1e20],
    })
    with pytest.raises(ValueError, match=r"volume 1e\+20 would change as int64"):
        schema.conform(frame)
    assert schema.conform(frame.assign(volume=[3.0]))["volume"].tolist() == [3]
