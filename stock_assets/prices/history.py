"""Merging a new answer into the stored price history without ever losing a day."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from stock_assets.prices import schema


@dataclass(frozen=True)
class MergeStats:
    inserted: int
    updated: int
    unchanged: int

    def as_metadata(self) -> dict[str, int]:
        return {
            "rows_inserted": self.inserted,
            "rows_updated": self.updated,
            "rows_unchanged": self.unchanged,
        }


def _without_computed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=schema.COMPUTED_ADJUSTMENTS, errors="ignore")


def merge_history(
    history: pd.DataFrame | None, new: pd.DataFrame
) -> tuple[pd.DataFrame, MergeStats]:
    """History plus the new answer's days: new days inserted, changed days updated, none dropped.

    A compact answer (last 100 days) therefore extends a full history instead of truncating it.
    Where the two disagree on a day, the new answer wins. Computed adjustments
    (`schema.COMPUTED_ADJUSTMENTS`) are dropped, since each depends on every later day: recompute
    them on the merged history with `adjust.adjust_for_corporate_actions`.
    """
    new = _without_computed(schema.conform(new))
    if history is None or history.empty:
        return new, MergeStats(len(new), 0, 0)
    history = _without_computed(schema.conform(history))
    old_days, new_days = schema.day_numbers(history), schema.day_numbers(new)
    if not (_distinct(old_days) and _distinct(new_days)):
        return _merged_with_repeats(history, new)
    _, old_rows, new_rows = np.intersect1d(old_days, new_days, assume_unique=True,
                                           return_indices=True)
    columns = [c for c in schema.VALUES if c in new.columns and c in history.columns]
    old = history[columns].to_numpy(dtype="float64")[old_rows]
    fresh = new[columns].to_numpy(dtype="float64")[new_rows]
    same = ((old == fresh) | (np.isnan(old) & np.isnan(fresh))).all(axis=1)
    stats = MergeStats(
        inserted=len(new) - len(new_rows), updated=int((~same).sum()), unchanged=int(same.sum())
    )
    kept = history[~np.isin(old_days, new_days)]
    merged = pd.concat([kept, new], ignore_index=True)
    return schema.conform(merged), stats


def _distinct(days: np.ndarray) -> bool:
    return not np.isnat(days).any() and len(np.unique(days)) == len(days)


def _merged_with_repeats(
    history: pd.DataFrame, new: pd.DataFrame
) -> tuple[pd.DataFrame, MergeStats]:
    """`merge_history` when a day repeats or is missing in either frame (never in a cleaned
    answer or a merged history): every pair of rows on a day is compared, as a join pairs them."""
    joined = history.merge(new, on="trade_date", how="outer", suffixes=("_old", ""), indicator=True)
    both = joined["_merge"] == "both"
    columns = [c for c in schema.VALUES if c in new.columns and f"{c}_old" in joined.columns]
    old = joined.loc[both, [f"{c}_old" for c in columns]].to_numpy(dtype="float64")
    fresh = joined.loc[both, columns].to_numpy(dtype="float64")
    same = ((old == fresh) | (np.isnan(old) & np.isnan(fresh))).all(axis=1)
    stats = MergeStats(
        inserted=int((joined["_merge"] == "right_only").sum()),
        updated=int((~same).sum()),
        unchanged=int(same.sum()),
    )
    kept = history[~history["trade_date"].isin(new["trade_date"])]
    merged = pd.concat([kept, new], ignore_index=True)
    return schema.conform(merged), stats
