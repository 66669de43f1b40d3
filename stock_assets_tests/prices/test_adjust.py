import numpy as np
import pandas as pd
import pytest

from stock_assets.actions.events import parse_actions
from stock_assets.alphavantage.api import DAILY_ADJUSTED, DIVIDENDS, SPLITS
from stock_assets.prices import schema
from stock_assets.prices.adjust import (
    FROM_ACTIONS,
    FROM_NOTHING,
    FROM_PREMIUM,
    MISMATCH_COLUMNS,
    SOURCE,
    adjust_for_corporate_actions,
    adjusted_close_mismatches,
    adjustment_factors,
    as_received,
    fill_from_actions,
)
from stock_assets.prices.update import update_history
from stock_assets.prices.validate import clean_answer
from stock_assets_tests import real_answers
from stock_assets_tests.prices.sample import clean_sample, edited, sample_answer


def on(frame: pd.DataFrame, day: str) -> pd.Series:
    return frame.loc[frame["trade_date"].astype(str) == day].iloc[0]


@pytest.fixture(scope="module")
def aapl() -> pd.DataFrame:
    return clean_sample("AAPL", function=DAILY_ADJUSTED)


@pytest.fixture(scope="module")
def msft() -> pd.DataFrame:
    return clean_sample("MSFT", function=DAILY_ADJUSTED, datatype="csv")


def test_recomputed_adjusted_close_matches_the_real_aapl_answer(aapl):
    mismatches = adjusted_close_mismatches(aapl, rtol=1e-6)
    assert list(mismatches.columns) == MISMATCH_COLUMNS
    assert mismatches.empty


def test_msft_matches_within_the_rounding_of_its_four_decimal_dividends(msft):
    assert adjusted_close_mismatches(msft, rtol=1e-5).empty
    # At 1e-6 some days differ: MSFT's 37 dividends are sent with 4 decimals, and each rounding
    # error (up to 0.00005 / previous close) carries into every earlier day. None goes beyond.
    mismatches = adjusted_close_mismatches(msft, rtol=1e-6)
    previous_close = msft["close"].shift().to_numpy()
    rounding = np.where(msft["dividend_amount"] > 0, 0.00005 / previous_close, 0.0)
    bound = pd.Series(np.append(rounding[1:], 0.0)[::-1].cumsum()[::-1], index=msft.index)
    bound.index = msft["trade_date"].astype(str)
    assert not mismatches.empty
    within = mismatches["relative_error"].to_numpy() <= bound[days_of(mismatches)].to_numpy()
    assert within.all()


def days_of(frame: pd.DataFrame) -> list[str]:
    return frame["trade_date"].astype(str).tolist()


def test_a_wrong_dividend_shows_as_mismatches_on_every_earlier_day():
    answer = sample_answer("MSFT", function=DAILY_ADJUSTED, datatype="csv")
    wrong = clean_answer(edited(answer, "2004-11-15", dividend_amount="3.0000")).clean
    mismatches = adjusted_close_mismatches(wrong, rtol=1e-5)
    before = wrong.loc[wrong["trade_date"].astype(str) < "2004-11-15", "trade_date"]
    assert days_of(mismatches) == [str(d) for d in before]


def test_adjusted_prices_are_continuous_across_the_splits(aapl):
    adjusted = adjust_for_corporate_actions(aapl)
    last = adjusted.iloc[-1]
    assert (last["adjusted_open"], last["adjusted_low"]) == (last["open"], last["low"])
    for split_day, day_before in [("2005-02-28", "2005-02-25"), ("2000-06-21", "2000-06-20")]:
        jump = on(adjusted, day_before)["adjusted_close"] / on(adjusted, split_day)["adjusted_open"]
        assert jump == pytest.approx(1.0, abs=0.01)


def test_the_backward_factor_steps_at_splits_and_dividends(aapl):
    factors = adjustment_factors(aapl)["price"]
    factors.index = aapl["trade_date"].astype(str)

    def factor(day: str) -> float:
        return factors[day]

    assert factor("2013-03-01") == 1.0
    assert factor("2005-02-25") / factor("2005-02-28") == pytest.approx(0.5, rel=1e-12)
    dividend = on(aapl, "2013-02-07")["dividend_amount"]
    step = 1 - dividend / on(aapl, "2013-02-06")["close"]
    assert factor("2013-02-06") / factor("2013-02-07") == pytest.approx(step, rel=1e-12)


def test_volume_is_adjusted_for_splits_only_and_inversely(aapl, msft):
    adjusted = adjust_for_corporate_actions(aapl)
    for day, multiple in [
        ("2013-02-07", 1),
        ("2005-02-28", 1),
        ("2005-02-25", 2),
        ("2000-06-20", 4),
    ]:
        row = on(adjusted, day)
        assert row["adjusted_volume"] == row["volume"] * multiple, day
    adjusted = adjust_for_corporate_actions(msft)
    row = on(adjusted, "2003-02-14")
    assert row["adjusted_volume"] == row["volume"] * 2


def test_the_schema_keeps_the_computed_columns_as_floats(aapl):
    conformed = schema.conform(adjust_for_corporate_actions(aapl))
    assert list(conformed.columns[-4:]) == schema.COMPUTED_ADJUSTMENTS
    assert all(conformed[c].dtype == "float64" for c in schema.COMPUTED_ADJUSTMENTS)
    assert "computed_adjusted_close" not in conformed.columns


def test_a_frame_without_actions_is_returned_unchanged():
    daily = clean_sample()
    assert adjust_for_corporate_actions(daily) is daily
    assert adjusted_close_mismatches(daily).empty


def test_a_missing_action_leaves_earlier_days_unknown_not_guessed(aapl):
    gap = aapl.copy()
    gap.loc[gap["trade_date"].astype(str) == "2010-01-04", "dividend_amount"] = np.nan
    adjusted = adjust_for_corporate_actions(gap.drop(columns="adjusted_close"))
    earlier = adjusted["trade_date"].astype(str) < "2010-01-04"
    assert adjusted.loc[earlier, "adjusted_open"].isna().all()
    assert adjusted.loc[~earlier, "adjusted_open"].notna().all()
    assert len(adjusted_close_mismatches(gap)) == earlier.sum()


def test_row_order_does_not_matter(aapl):
    shuffled = aapl.sample(frac=1, random_state=7)
    adjusted = adjust_for_corporate_actions(shuffled).sort_values("trade_date")
    expected = adjust_for_corporate_actions(aapl)
    pd.testing.assert_frame_equal(adjusted.reset_index(drop=True), expected)


REAL_ADJUSTED = [e for e in real_answers.DATA if e["function"] == "TIME_SERIES_DAILY_ADJUSTED"]


@pytest.mark.parametrize("entry", REAL_ADJUSTED, ids=[e["id"] for e in REAL_ADJUSTED])
def test_every_adjusted_column_agrees_with_the_real_answers_adjusted_close(entry):
    """Alpha Vantage's own factor (adjusted_close / close) adjusts open, high and low, so the
    table never disagrees with its source (it did by up to 0.24 % on MSFT 2004-11-15)."""
    frame = adjust_for_corporate_actions(clean_answer(real_answers.answer(entry)).clean)
    ratio = frame["adjusted_close"] / frame["close"]
    for column in ("open", "high", "low"):
        received = (frame[column] * ratio).round(4)
        assert (frame[f"adjusted_{column}"].round(4) == received).all(), column
    assert (frame["adjusted_close"] / frame["close"]).notna().all()


def test_msft_special_dividend_day_uses_the_answers_own_factor(msft):
    adjusted = adjust_for_corporate_actions(msft)
    row = on(adjusted, "2004-11-12")
    assert row["adjusted_open"] / row["open"] == pytest.approx(
        row["adjusted_close"] / row["close"], rel=1e-12
    )


# Adjusted prices from corporate actions (a free key's answer carries no splits or dividends).

def sample_actions(symbol: str) -> dict:
    """The symbol's events as the corporate-actions asset parses them from the sample's answers."""
    answers = {f: sample_answer(symbol, function=f) for f in (SPLITS, DIVIDENDS)}
    return parse_actions(answers).as_record()


def test_aapl_adjusted_from_its_corporate_actions_matches_the_premium_answer_every_day():
    free = update_history(None, [sample_answer("AAPL")], sample_actions("AAPL")).history
    premium = update_history(None, [sample_answer("AAPL", function=DAILY_ADJUSTED)]).history
    assert free["trade_date"].tolist() == premium["trade_date"].tolist()
    relative = (free["adjusted_close"] / premium["adjusted_close"] - 1).abs()
    assert relative.max() <= 1e-6
    for column in ["split_coefficient", "dividend_amount", "adjusted_volume"]:
        assert np.allclose(free[column], premium[column], rtol=1e-12), column
    assert set(free[SOURCE]) == {FROM_ACTIONS} and set(premium[SOURCE]) == {FROM_PREMIUM}


def test_msft_adjusted_from_its_corporate_actions_is_within_the_rounding_of_its_dividends():
    free = update_history(None, [sample_answer("MSFT")], sample_actions("MSFT")).history
    premium = update_history(
        None, [sample_answer("MSFT", function=DAILY_ADJUSTED, datatype="csv")]
    ).history
    # Each dividend is sent to 4 decimals: 0.00005 off at most, which moves every earlier day's
    # factor by at most 0.00005 / (previous close - dividend).
    previous_close = free["close"].shift()
    paid = free["dividend_amount"] > 0
    bound = (0.00005 / (previous_close - free["dividend_amount"]))[paid].sum()
    relative = (free["adjusted_close"] / premium["adjusted_close"] - 1).abs()
    assert 0 < relative.max() <= bound
    assert paid.sum() == len(sample_actions("MSFT")["dividends"]) == 37
    assert set(free[SOURCE]) == {FROM_ACTIONS}


def history_of(closes: list[float], volume: int = 1000) -> pd.DataFrame:
    days = pd.bdate_range("2024-01-01", periods=len(closes))
    return schema.conform(pd.DataFrame({
        "symbol": "X", "trade_date": days, "open": closes, "high": closes, "low": closes,
        "close": closes, "volume": volume,
    }))


def test_a_reverse_split_multiplies_earlier_prices_and_divides_earlier_volume():
    history = history_of([1.0, 1.0, 10.0, 10.0])
    actions = {"splits": [{"effective_date": "2024-01-03", "split_factor": 0.1}],
               "dividends": []}
    adjusted = fill_from_actions(history, actions)
    assert adjusted["adjusted_close"].tolist() == [10.0, 10.0, 10.0, 10.0]
    assert adjusted["adjusted_volume"].tolist() == [100.0, 100.0, 1000.0, 1000.0]
    assert adjusted["split_coefficient"].tolist() == [1.0, 1.0, 0.1, 1.0]


def test_a_special_dividend_scales_earlier_prices_by_one_minus_its_share_of_the_close():
    history = history_of([100.0, 100.0, 80.0, 80.0])
    actions = {"splits": [], "dividends": [{"ex_dividend_date": "2024-01-03", "amount": 20.0}]}
    adjusted = fill_from_actions(history, actions)
    assert adjusted["adjusted_close"].tolist() == pytest.approx([80.0, 80.0, 80.0, 80.0])
    assert adjusted["adjusted_volume"].tolist() == [1000.0] * 4  # a dividend trades no shares
    assert adjusted["dividend_amount"].tolist() == [0.0, 0.0, 20.0, 0.0]


def test_events_off_the_sessions_act_at_the_next_one_and_future_or_older_ones_not_at_all():
    history = history_of([4.0] * 5 + [2.0])  # 2024-01-01 (Mon) .. 2024-01-08 (Mon)
    actions = {"splits": [
        {"effective_date": "2023-06-01", "split_factor": 5.0},  # before the history
        {"effective_date": "2024-01-07", "split_factor": 2.0},  # a Sunday: acts on Monday
        {"effective_date": "2030-01-02", "split_factor": 3.0},  # announced, not yet due
    ], "dividends": []}
    adjusted = fill_from_actions(history, actions)
    assert adjusted["split_coefficient"].tolist() == [1.0] * 5 + [2.0]
    assert adjusted["adjusted_close"].tolist() == [2.0] * 6


def test_unknown_actions_leave_a_free_history_unadjusted_and_say_so():
    adjusted = fill_from_actions(history_of([1.0, 2.0]), None)
    assert "adjusted_close" not in adjusted.columns
    assert set(adjusted[SOURCE]) == {FROM_NOTHING}


def test_a_refresh_recomputes_instead_of_merging_computed_values():
    actions = sample_actions("AAPL")
    first = update_history(None, [sample_answer("AAPL")], actions)
    compact = sample_answer("AAPL", outputsize="compact")
    again = update_history(first.history, [compact], actions)
    assert again.merge.updated == 0 and again.merge.unchanged == 100
    pd.testing.assert_frame_equal(again.history, first.history)
    stripped = as_received(first.history)
    assert not set(stripped.columns) & {"adjusted_close", "split_coefficient", SOURCE}
