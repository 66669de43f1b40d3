import pandas as pd
import pytest

from stock_assets.alphavantage.api import DAILY_ADJUSTED
from stock_assets.prices.adjust import adjust_for_corporate_actions
from stock_assets.prices.splits import COLUMNS, OPEN_TOLERANCE, detect_splits
from stock_assets_tests.prices.sample import SYMBOLS, clean_sample, days

REAL_SPLITS = {
    "AAPL": [("2000-06-21", "2:1"), ("2005-02-28", "2:1")],
    "MSFT": [("2003-02-18", "2:1")],
    "IBM": [],
    "GOOG": [],
    "FB": [],
}


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_exactly_the_real_splits_are_found_in_the_raw_sample(symbol):
    splits = detect_splits(clean_sample(symbol))
    assert list(splits.columns) == COLUMNS
    assert list(zip(days(splits), splits["label"], strict=True)) == REAL_SPLITS[symbol]
    assert (splits["ratio"] == 2.0).all()
    assert set(splits["symbol"]) <= {symbol}


def test_split_rows_carry_their_evidence():
    split = detect_splits(clean_sample("MSFT")).iloc[0]
    assert (split["close_before"], split["open_after"], split["close_after"]) == (
        48.30,
        24.62,
        24.96,
    )
    assert split["open_jump"] == pytest.approx(48.30 / 24.62)
    assert split["deviation"] == pytest.approx(0.0193, abs=1e-4)


def test_the_september_2000_crash_is_an_ordinary_move_not_a_split():
    aapl = clean_sample("AAPL")
    loose = detect_splits(aapl, open_tolerance=0.1)
    crash = loose[loose["trade_date"].astype(str) == "2000-09-29"].iloc[0]
    # 53.50 -> open 28.19 is nearly a halving, but 5 % away from it: beyond the tolerance.
    assert crash["label"] == "2:1" and crash["deviation"] > OPEN_TOLERANCE
    assert "2000-09-29" not in days(detect_splits(aapl))


def scaled_from(frame: pd.DataFrame, day: str, factor: float) -> pd.DataFrame:
    """Prices from `day` on multiplied by `factor`, as a split of 1/factor would leave them."""
    out = frame.copy()
    later = out["trade_date"].astype(str) >= day
    out.loc[later, ["open", "high", "low", "close"]] *= factor
    return out


@pytest.mark.parametrize(
    ("symbol", "day", "factor", "label", "ratio"),
    [
        ("FB", "2012-10-01", 10.0, "1:10", 0.1),
        ("FB", "2012-12-03", 2.0, "1:2", 0.5),
        ("IBM", "2010-01-04", 1 / 1.5, "3:2", 1.5),
        ("GOOG", "2008-06-02", 1 / 4, "4:1", 4.0),
        ("IBM", "2006-03-01", 1 / 3, "3:1", 3.0),
    ],
)
def test_forward_and_reverse_splits_of_common_ratios_are_found(symbol, day, factor, label, ratio):
    splits = detect_splits(scaled_from(clean_sample(symbol), day, factor))
    assert days(splits) == [day]
    assert splits["label"].item() == label
    assert splits["ratio"].item() == pytest.approx(ratio)


def test_a_bad_opening_print_alone_is_not_a_split():
    ibm = clean_sample("IBM")
    day = ibm["trade_date"].astype(str) == "2010-01-04"
    ibm.loc[day, "open"] = ibm.loc[day, "open"] / 2
    assert detect_splits(ibm).empty


def test_split_adjusted_prices_show_no_split():
    adjusted = adjust_for_corporate_actions(clean_sample("AAPL", function=DAILY_ADJUSTED))
    as_raw = adjusted.drop(columns=["open", "close"]).rename(
        columns={"adjusted_open": "open", "adjusted_close": "close"}
    )
    assert detect_splits(as_raw).empty
