import json
from datetime import date

import pandas as pd
import pytest

from stock_assets.alphavantage.api import DAILY_ADJUSTED
from stock_assets.prices import schema
from stock_assets.prices.adjust import adjust_for_corporate_actions
from stock_assets.prices.quality import (
    check_adjusted_close,
    check_freshness,
    check_history_not_shrunk,
    check_no_gaps,
    check_ohlc_consistency,
    check_quarantine_share,
    check_splits,
    check_unique_dates,
)
from stock_assets.prices.validate import clean_answer
from stock_assets_tests import real_answers
from stock_assets_tests.prices.sample import SYMBOLS, clean_sample

LAST_REFRESHED = date(2013, 3, 1)


def where(frame: pd.DataFrame, day: str) -> pd.Series:
    return frame["trade_date"].astype(str) == day


def assert_json_ready(metadata: dict) -> None:
    assert json.loads(json.dumps(metadata)) == metadata
    for value in metadata.values():
        assert isinstance(value, int | float | str | list)
        assert not isinstance(value, list) or all(isinstance(v, str) for v in value)


@pytest.fixture(scope="module")
def aapl() -> pd.DataFrame:
    return clean_sample()


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_the_real_sample_passes_every_data_check(symbol):
    frame = clean_sample(symbol)
    for check in (check_ohlc_consistency, check_unique_dates, check_no_gaps):
        passed, metadata = check(frame)
        assert passed, (check.__name__, metadata)
        assert_json_ready(metadata)
    passed, metadata = check_freshness(frame, LAST_REFRESHED)
    assert passed and metadata["sessions_behind"] == 0


def test_inconsistent_ohlc_fails_naming_the_day(aapl):
    bad = aapl.copy()
    bad.loc[where(bad, "2013-02-28"), "high"] = 400.0
    bad.loc[where(bad, "2013-02-27"), "low"] = 460.0
    passed, metadata = check_ohlc_consistency(bad)
    assert not passed
    assert metadata["inconsistent_rows"] == 2
    assert metadata["first_inconsistent_days"] == ["2013-02-27", "2013-02-28"]
    assert_json_ready(metadata)


def test_a_repeated_day_fails(aapl):
    doubled = pd.concat([aapl, aapl.iloc[[5]]], ignore_index=True)
    passed, metadata = check_unique_dates(doubled)
    assert not passed
    assert (metadata["duplicate_rows"], metadata["first_duplicate_days"]) == (1, ["2000-03-08"])


def test_missing_sessions_fail_but_market_closures_are_not_gaps(aapl):
    passed, metadata = check_no_gaps(aapl)
    assert passed and metadata["sessions_expected"] == 3270
    holed = aapl[~aapl["trade_date"].astype(str).isin(["2001-09-10", "2001-09-17", "2012-12-24"])]
    passed, metadata = check_no_gaps(holed)
    assert not passed
    assert metadata["missing_sessions"] == 3
    assert metadata["first_missing_days"] == ["2001-09-10", "2001-09-17", "2012-12-24"]
    assert_json_ready(metadata)


def prices_on(symbol: str, days: list[str]) -> pd.DataFrame:
    """A cleaned history of `symbol` with one sound row on each of `days`."""
    row = {"open": 10.0, "high": 11.0, "low": 9.0, "close": 10.5, "volume": 1000}
    return schema.conform(pd.DataFrame([{"symbol": symbol, "trade_date": d, **row} for d in days]))


@pytest.mark.parametrize(
    ("symbol", "days", "missing"),
    [
        # Juneteenth 2023: the NYSE closed, the TSX Venture Exchange open.
        ("GPV.TRV", ["2023-06-16", "2023-06-20"], ["2023-06-19"]),
        ("GPV.TRV", ["2023-06-16", "2023-06-19", "2023-06-20"], []),
        ("AAPL", ["2023-06-16", "2023-06-20"], []),
        # Canada Day, observed on Monday 2024-07-01: Toronto closed, the NYSE open.
        ("SHOP.TRT", ["2024-06-28", "2024-07-02"], []),
        ("AAPL", ["2024-06-28", "2024-07-02"], ["2024-07-01"]),
    ],
)
def test_gaps_are_sessions_of_the_symbols_own_exchange(symbol, days, missing):
    passed, metadata = check_no_gaps(prices_on(symbol, days))
    assert passed is (not missing)
    assert metadata["first_missing_days"] == missing
    assert_json_ready(metadata)


def test_freshness_counts_sessions_of_the_symbols_own_exchange():
    """GPV.TRV's 2023-06-16 is one TSX Venture session behind a Last Refreshed of 2023-06-19."""
    passed, metadata = check_freshness(prices_on("GPV.TRV", ["2023-06-16"]), date(2023, 6, 19))
    assert passed and metadata["sessions_behind"] == 1
    passed, metadata = check_freshness(prices_on("GPV.TRV", ["2023-06-15"]), date(2023, 6, 19))
    assert not passed and metadata["sessions_behind"] == 2


def test_only_the_first_few_missing_days_are_listed(aapl):
    passed, metadata = check_no_gaps(aapl.iloc[::2])
    assert not passed
    assert metadata["missing_sessions"] == 1634  # every other day; the last kept is 2013-02-28
    assert len(metadata["first_missing_days"]) == 10


@pytest.mark.parametrize(
    ("clean", "quarantined", "passed"),
    [(96, 4, True), (95, 5, False), (94, 6, False), (0, 0, True), (3270, 0, True)],
)
def test_quarantine_share(clean, quarantined, passed):
    result, metadata = check_quarantine_share(clean, quarantined)
    assert result is passed
    assert metadata["quarantined_rows"] == quarantined
    assert_json_ready(metadata)


def test_quarantine_share_threshold_is_configurable():
    assert check_quarantine_share(91, 9, threshold=0.1)[0]
    assert not check_quarantine_share(90, 10, threshold=0.1)[0]
    assert not check_quarantine_share(90, 10)[0]


@pytest.mark.parametrize(
    ("previous", "rows", "passed"),
    [(None, 100, True), (100, 100, True), (100, 101, True), (100, 99, False)],
)
def test_history_never_shrinks(previous, rows, passed):
    result, metadata = check_history_not_shrunk(previous, rows)
    assert result is passed
    assert metadata["rows"] == rows
    if previous is not None:
        assert metadata["rows_change"] == rows - previous
    assert_json_ready(metadata)


@pytest.mark.parametrize(
    ("rows_dropped", "last_refreshed", "passed", "behind"),
    [
        (0, date(2013, 3, 1), True, 0),
        (1, date(2013, 3, 1), True, 1),
        (2, date(2013, 3, 1), False, 2),
        (0, date(2013, 3, 2), True, 0),  # a Saturday: Friday is still the latest session
        (0, date(2013, 3, 4), True, 1),  # the Monday after: one session behind
        (0, date(2013, 3, 5), False, 2),
    ],
)
def test_freshness(aapl, rows_dropped, last_refreshed, passed, behind):
    frame = aapl.iloc[: len(aapl) - rows_dropped]
    result, metadata = check_freshness(frame, last_refreshed)
    assert result is passed
    assert metadata["sessions_behind"] == behind
    assert metadata["last_refreshed"] == last_refreshed.isoformat()
    assert_json_ready(metadata)


def test_freshness_fails_when_the_last_day_is_after_last_refreshed(aapl):
    passed, metadata = check_freshness(aapl, date(2013, 2, 28))
    assert not passed
    assert metadata["last_trade_date"] == "2013-03-01"


def test_freshness_without_last_refreshed_passes_saying_it_was_not_compared(aapl):
    passed, metadata = check_freshness(aapl, None)
    assert passed
    assert metadata["last_refreshed"] == "unknown"
    assert_json_ready(metadata)


def test_probable_splits_in_raw_prices_are_a_warning():
    passed, metadata = check_splits(clean_sample("AAPL"))
    assert not passed
    assert metadata["undeclared_splits"] == ["2000-06-21 2:1", "2005-02-28 2:1"]
    assert_json_ready(metadata)
    assert check_splits(clean_sample("IBM"))[0]


def test_splits_declared_by_split_coefficient_pass_and_undeclared_ones_fail():
    msft = clean_sample("MSFT", function=DAILY_ADJUSTED, datatype="csv")
    passed, metadata = check_splits(msft)
    assert passed and metadata["undeclared_splits"] == []
    assert metadata["probable_splits"] == 1
    msft.loc[where(msft, "2003-02-18"), "split_coefficient"] = 1.0
    passed, metadata = check_splits(msft)
    assert not passed
    assert metadata["undeclared_splits"] == ["2003-02-18 2:1"]


def test_a_declared_split_with_no_jump_fails_and_so_does_a_declared_ratio_the_jump_denies():
    msft = clean_sample("MSFT", function=DAILY_ADJUSTED, datatype="csv")
    msft.loc[where(msft, "2010-06-01"), "split_coefficient"] = 3.0  # declared, prices never jump
    passed, metadata = check_splits(msft)
    assert not passed
    assert metadata["undeclared_splits"] == []
    assert metadata["declared_splits_without_jump"] == ["2010-06-01 3:1"]
    assert metadata["declared_splits"] == 2
    assert_json_ready(metadata)

    msft = clean_sample("MSFT", function=DAILY_ADJUSTED, datatype="csv")
    msft.loc[where(msft, "2003-02-18"), "split_coefficient"] = 3.0  # a 2:1 jump declared 3:1
    passed, metadata = check_splits(msft)
    assert not passed
    assert metadata["undeclared_splits"] == ["2003-02-18 2:1"]
    assert metadata["declared_splits_without_jump"] == ["2003-02-18 3:1"]


def test_adjusted_close_check_reports_the_largest_deviation_and_its_day():
    """MSFT's real 2018 answer: Alpha Vantage's factor steps differ from the textbook one on the
    2004-11-15 special dividend, by up to about 0.24 %."""
    [entry] = [e for e in real_answers.DATA if e["id"] == "D10"]
    history = adjust_for_corporate_actions(clean_answer(real_answers.answer(entry)).clean)
    passed, metadata = check_adjusted_close(history)
    assert not passed
    assert 0.001 < metadata["largest_relative_deviation"] < 0.003
    assert metadata["largest_deviation_day"] < "2004-11-15"
    assert_json_ready(metadata)


def test_adjusted_close_check_passes_on_the_bundled_aapl_and_without_an_adjusted_close():
    aapl = adjust_for_corporate_actions(clean_sample("AAPL", function=DAILY_ADJUSTED))
    assert check_adjusted_close(aapl)[0]
    assert check_adjusted_close(clean_sample("AAPL")) == (True, {"compared_days": 0})
