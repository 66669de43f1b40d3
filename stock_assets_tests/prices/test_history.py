from functools import cache

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from stock_assets.alphavantage.api import DAILY_ADJUSTED
from stock_assets.prices import schema
from stock_assets.prices.adjust import adjust_for_corporate_actions
from stock_assets.prices.history import _merged_with_repeats, merge_history
from stock_assets_tests.prices.sample import clean_sample

WINDOW = 300


def test_first_answer_is_the_history():
    full = clean_sample()
    merged, stats = merge_history(None, full)
    assert len(merged) == 3270
    assert (stats.inserted, stats.updated, stats.unchanged) == (3270, 0, 0)


def test_compact_answer_extends_and_revises_but_never_truncates():
    full = clean_sample()
    older = full.iloc[:-10]
    compact = clean_sample(outputsize="compact")
    compact.loc[compact.index[0], "close"] += 1.0

    merged, stats = merge_history(older, compact)

    assert len(merged) == 3270
    assert (stats.inserted, stats.updated, stats.unchanged) == (10, 1, 89)
    assert merged["trade_date"].is_unique and merged["trade_date"].is_monotonic_increasing
    revised_day = compact["trade_date"].iloc[0]
    assert (
        merged.loc[merged["trade_date"] == revised_day, "close"].item()
        == (compact["close"].iloc[0])
    )


def test_merging_the_same_answer_again_changes_nothing():
    full = clean_sample()
    merged, _ = merge_history(None, full)
    again, stats = merge_history(merged, full)
    assert again.equals(merged)
    assert (stats.inserted, stats.updated, stats.unchanged) == (0, 0, 3270)


def test_computed_adjustments_are_dropped_to_be_recomputed_on_the_merged_history():
    adjusted = adjust_for_corporate_actions(clean_sample("AAPL", function=DAILY_ADJUSTED))
    merged, stats = merge_history(adjusted.iloc[:-5], adjusted.iloc[-100:])
    assert not set(schema.COMPUTED_ADJUSTMENTS) & set(merged.columns)
    assert (stats.inserted, stats.updated, stats.unchanged) == (5, 0, 95)
    pd.testing.assert_frame_equal(adjust_for_corporate_actions(merged), adjusted)


@cache
def _window() -> pd.DataFrame:
    """The first days of the real AAPL history: the days answers are cut from."""
    return clean_sample().iloc[:WINDOW].reset_index(drop=True)


def window() -> pd.DataFrame:
    return _window().copy()


slices = st.tuples(st.integers(0, WINDOW - 1), st.integers(1, 120))


def cut(frame: pd.DataFrame, start: int, length: int) -> pd.DataFrame:
    return frame.iloc[start : start + length]


def merge_all(history: pd.DataFrame | None, answers: list[pd.DataFrame]):
    totals = {"inserted": 0, "updated": 0}
    for answer in answers:
        history, stats = merge_history(history, answer)
        totals["inserted"] += stats.inserted
        totals["updated"] += stats.updated
    return history, totals


@settings(max_examples=40, deadline=None)
@given(
    stored=st.one_of(st.none(), slices),
    cuts=st.lists(slices, min_size=2, max_size=5),
    revised_days=st.sets(st.integers(0, WINDOW - 1), max_size=30),
    data=st.data(),
)
def test_merging_agreeing_answers_in_any_order_gives_the_same_history(
    stored, cuts, revised_days, data
):
    """Answers agree with each other on every day they share (a revised day is revised in all
    of them), so the order they arrive in cannot matter: not for the history, not for the count
    of days added or revised."""
    original = window()
    revised = original.copy()
    revised.loc[sorted(revised_days), "close"] += 0.01
    history = None if stored is None else cut(original, *stored)
    answers = [cut(revised, *c) for c in cuts]
    order = data.draw(st.permutations(range(len(answers))), label="order")

    in_order, in_order_totals = merge_all(history, answers)
    shuffled, shuffled_totals = merge_all(history, [answers[i] for i in order])

    pd.testing.assert_frame_equal(shuffled, in_order)
    assert shuffled_totals == in_order_totals
    answered = pd.concat(answers)["trade_date"].unique()
    kept = [] if history is None else [history[~history["trade_date"].isin(answered)]]
    expected = schema.conform(pd.concat([*kept, revised[revised["trade_date"].isin(answered)]]))
    pd.testing.assert_frame_equal(in_order, expected)


@settings(max_examples=30, deadline=None)
@given(cuts=st.lists(slices, min_size=2, max_size=5), data=st.data())
def test_when_answers_disagree_the_last_merged_wins(cuts, data):
    original = window()
    answers = []
    for number, (start, length) in enumerate(cuts, start=1):
        answer = cut(original, start, length).copy()
        answer["close"] += number / 100
        answers.append(answer)
    order = data.draw(st.permutations(range(len(answers))), label="order")

    merged, _ = merge_all(None, [answers[i] for i in order])

    winner = {}
    for i in order:
        winner.update(dict(zip(answers[i]["trade_date"], answers[i]["close"], strict=True)))
    assert dict(zip(merged["trade_date"], merged["close"], strict=True)) == winner
    assert merged["trade_date"].is_unique and merged["trade_date"].is_monotonic_increasing


@settings(max_examples=40, deadline=None)
@given(stored=slices, answer=slices, revised_days=st.sets(st.integers(0, WINDOW - 1), max_size=30),
       repeated=st.booleans())
def test_merging_by_day_numbers_gives_what_a_join_gives(stored, answer, revised_days, repeated):
    """The merge pairs days by their numbers, the join (kept for repeated days) by the column:
    the same history and the same counts, for any overlap and any revised or repeated days."""
    original = window()
    revised = original.copy()
    revised.loc[sorted(revised_days), ["close", "volume"]] += [0.01, 1]
    history, new = cut(original, *stored), cut(revised, *answer)
    if repeated:
        history = pd.concat([history, history.iloc[:1]])
    merged, stats = merge_history(history, new)
    joined, join_stats = _merged_with_repeats(
        schema.conform(history), schema.conform(new)
    )
    pd.testing.assert_frame_equal(merged, joined)
    assert stats == join_stats
