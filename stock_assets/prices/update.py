"""Bringing a price history up to date with answers: clean, merge, adjust.

The one path both a fetch (the stored history plus the latest answer) and a replay (nothing plus
every archived answer, oldest first) take, so a replay of a clean run's archive rebuilds the
same history, value for value.
"""

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from stock_assets.alphavantage.answers import Answer
from stock_assets.prices.adjust import as_received, fill_from_actions
from stock_assets.prices.history import MergeStats, merge_history
from stock_assets.prices.validate import CleanedAnswer, clean_answer
from stock_assets.settings import DEFAULT_MOST_PLAUSIBLE_PRICE


@dataclass(frozen=True, eq=False)
class HistoryUpdate:
    """The adjusted history after the answers, and the last answer as judged and merged."""

    history: pd.DataFrame
    latest: CleanedAnswer
    merge: MergeStats
    answers: int


def update_history(
    history: pd.DataFrame | None, answers: Iterable[Answer], actions: dict | None = None, *,
    most_plausible_price: float = DEFAULT_MOST_PLAUSIBLE_PRICE,
) -> HistoryUpdate:
    """Fold `answers`, oldest first, into `history` (None: start empty); adjust once at the end,
    from the answers' own adjustments and, where they carry none, the symbol's corporate
    `actions` (parsed SPLITS and DIVIDENDS events; None: not known).

    Each answer's clean rows are merged as `merge_history` does (a later answer wins a day, no day
    is dropped). Merging drops the computed adjustments, so adjusting after the last merge gives
    what adjusting after every merge would. Raises `validate.NoValidRows` for an answer without a
    single valid row, and ValueError when `answers` is empty.
    """
    count = 0
    history = None if history is None else as_received(history)
    for answer in answers:
        latest = clean_answer(answer, most_plausible_price=most_plausible_price)
        history, merge = merge_history(history, latest.clean)
        count += 1
    if count == 0:
        raise ValueError("no answer to update the history with")
    return HistoryUpdate(fill_from_actions(history, actions), latest, merge, count)
