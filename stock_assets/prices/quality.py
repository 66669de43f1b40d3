"""Quality checks on one symbol's cleaned prices, as pure functions for Dagster asset checks.

Each returns `(passed, metadata)`; metadata values are JSON-ready (ints, floats, strings and
lists of strings), so the Dagster layer can pass them on as they are.
"""

from datetime import date

import pandas as pd

from stock_assets.exchanges import Exchange, exchange_of
from stock_assets.prices import schema
from stock_assets.prices.adjust import adjusted_close_mismatches
from stock_assets.prices.splits import detect_splits, unexplained
from stock_assets.trading_calendar import sessions_between

EXAMPLES = 10

CheckResult = tuple[bool, dict]


def _days(values: pd.Series) -> list[str]:
    """The first few days of a series, as ISO strings."""
    return [str(d) for d in values.head(EXAMPLES)]


def _as_date(value) -> date:
    return pd.Timestamp(value).date()


def _exchange(frame: pd.DataFrame) -> Exchange:
    """The exchange of the symbol whose prices these are (one symbol per frame)."""
    return exchange_of(str(frame["symbol"].iloc[0]))


def check_ohlc_consistency(frame: pd.DataFrame) -> CheckResult:
    """Every row's high is its highest price and low its lowest."""
    prices = frame[["open", "close"]]
    broken = (
        (frame["high"] < prices.max(axis=1))
        | (frame["low"] > prices.min(axis=1))
        | (frame["high"] < frame["low"])
    )
    return not broken.any(), {
        "rows_checked": len(frame),
        "inconsistent_rows": int(broken.sum()),
        "first_inconsistent_days": _days(frame.loc[broken, "trade_date"]),
    }


def check_unique_dates(frame: pd.DataFrame) -> CheckResult:
    """No trading day appears twice."""
    repeated = frame.duplicated(subset=[c for c in schema.KEY if c in frame.columns])
    return not repeated.any(), {
        "rows_checked": len(frame),
        "duplicate_rows": int(repeated.sum()),
        "first_duplicate_days": _days(frame.loc[repeated, "trade_date"].drop_duplicates()),
    }


def check_no_gaps(frame: pd.DataFrame) -> CheckResult:
    """Every session of the symbol's exchange between the first and the last day has a row."""
    if frame.empty:
        return True, {"missing_sessions": 0, "first_missing_days": []}
    days = schema.as_datetimes(frame["trade_date"])
    exchange = _exchange(frame)
    sessions = sessions_between(_as_date(days.min()), _as_date(days.max()), exchange)
    missing = sessions.difference(pd.DatetimeIndex(days))
    return missing.empty, {
        "exchange": exchange.name,
        "first_day": str(_as_date(days.min())),
        "last_day": str(_as_date(days.max())),
        "sessions_expected": len(sessions),
        "missing_sessions": len(missing),
        "first_missing_days": [d.date().isoformat() for d in missing[:EXAMPLES]],
    }


def check_quarantine_share(
    clean_rows: int, quarantined_rows: int, threshold: float = 0.05
) -> CheckResult:
    """Under `threshold` of an answer's rows were quarantined."""
    total = clean_rows + quarantined_rows
    share = quarantined_rows / total if total else 0.0
    return share < threshold, {
        "clean_rows": clean_rows,
        "quarantined_rows": quarantined_rows,
        "quarantine_share": round(share, 6),
        "threshold": threshold,
    }


def check_history_not_shrunk(previous_rows: int | None, rows: int) -> CheckResult:
    """The stored history has at least as many days as before (None: there was none)."""
    passed = previous_rows is None or rows >= previous_rows
    metadata: dict = {"rows": rows}
    if previous_rows is not None:
        metadata |= {"previous_rows": previous_rows, "rows_change": rows - previous_rows}
    return passed, metadata


def check_freshness(frame: pd.DataFrame, last_refreshed: date | None) -> CheckResult:
    """The last day is the answer's 'Last Refreshed' day, or at most one session (of the
    symbol's exchange) before it.

    Without a 'Last Refreshed' day (CSV answers) there is nothing to compare: passes, saying so.
    """
    if frame.empty:
        return False, {"last_trade_date": "none", "reason": "no rows"}
    last_day = _as_date(frame["trade_date"].max())
    if last_refreshed is None:
        return True, {
            "last_trade_date": last_day.isoformat(),
            "last_refreshed": "unknown",
            "reason": "the answer states no Last Refreshed day (CSV); not compared",
        }
    behind = (
        len(sessions_between(last_day, last_refreshed, _exchange(frame))) - 1
        if last_day <= last_refreshed
        else -1
    )
    return 0 <= behind <= 1, {
        "last_trade_date": last_day.isoformat(),
        "last_refreshed": last_refreshed.isoformat(),
        "sessions_behind": behind,
    }


def check_splits(frame: pd.DataFrame) -> CheckResult:
    """Warning: declared splits and the raw prices' jumps disagree, either way.

    With split_coefficient (from a premium answer or from the SPLITS corporate actions), a jump
    that no declared split explains fails, and so does a declared split whose day shows no jump
    of its ratio. Without it (a free key before its corporate actions are known) any probable
    split fails, since the prices jump there unexplained.
    """
    splits = detect_splits(frame)
    declared: dict[str, float] = {}
    if "split_coefficient" in frame.columns:
        rows = frame.loc[frame["split_coefficient"].notna() & (frame["split_coefficient"] != 1)]
        declared = dict(zip(rows["trade_date"].astype(str), rows["split_coefficient"],
                            strict=True))
    undeclared = unexplained(splits, declared)
    explained = set(splits["trade_date"].astype(str)) - {u.split()[0] for u in undeclared}
    without_jump = [f"{day} {ratio:g}:1" for day, ratio in declared.items()
                    if day not in explained]
    return not (undeclared or without_jump), {
        "probable_splits": len(splits),
        "declared_splits": len(declared),
        "undeclared_splits": undeclared,
        "declared_splits_without_jump": without_jump,
        "has_split_coefficient": "split_coefficient" in frame.columns,
    }


def check_adjusted_close(frame: pd.DataFrame, rtol: float = 1e-5) -> CheckResult:
    """Warning: the answer's adjusted close differs from the one its own splits and dividends
    give (the textbook backward factor) by more than `rtol`. The adjusted columns follow the
    answer either way; this says where the source and the textbook disagree, and by how much."""
    if "adjusted_close" not in frame.columns or frame["adjusted_close"].isna().all():
        return True, {"compared_days": 0}
    compared = adjusted_close_mismatches(frame, rtol=-1.0)  # every day, with its deviation
    over = compared.loc[~(compared["relative_error"] <= rtol)]
    metadata: dict = {"compared_days": len(compared), "days_over_tolerance": len(over),
                      "tolerance": rtol}
    if compared["relative_error"].notna().any():
        worst = compared.loc[compared["relative_error"].idxmax()]
        metadata |= {"largest_relative_deviation": round(float(worst["relative_error"]), 8),
                     "largest_deviation_day": str(worst["trade_date"])}
    return over.empty, metadata
