"""How a check that warned or failed reads on the main command's screen: its name, its
severity and its key figure, taken from the metadata its function returns."""

from collections.abc import Callable, Sequence

import dagster as dg

from stock_assets.listing import plural


def _listed(days: Sequence[str] | None, before: str = "") -> str:
    return f"{before} ({', '.join(days)})" if days else ""


# The key figure of each check, from the metadata its function returns (prices/quality.py,
# warehouse/reconcile.py); a check missing here, or whose metadata changed, falls back to its
# plain values.
_KEY_FIGURES: dict[str, Callable[[dict], str]] = {
    "no_undeclared_splits": lambda m: (
        plural(len(m["undeclared_splits"]), "suspected split") + _listed(m["undeclared_splits"])
        + _listed(m.get("declared_splits_without_jump"), ", declared without a jump")
    ),
    "ohlc_consistent": lambda m: (
        plural(m["inconsistent_rows"], "inconsistent row") + _listed(m["first_inconsistent_days"])
    ),
    "unique_trading_dates": lambda m: (
        plural(m["duplicate_rows"], "duplicate row") + _listed(m["first_duplicate_days"])
    ),
    "no_gaps_beyond_holidays": lambda m: (
        plural(m["missing_sessions"], "missing session") + _listed(m["first_missing_days"])
    ),
    "quarantine_share": lambda m: (
        f"{m['quarantine_share']:.1%} of the answer's rows quarantined ({m['quarantined_rows']} "
        f"of {m['clean_rows'] + m['quarantined_rows']}, limit {m['threshold']:.0%})"
    ),
    "history_never_shrinks": lambda m: (
        f"history shrank from {m['previous_rows']} to {m['rows']} days"
    ),
    "fresh_against_last_refreshed": lambda m: (
        f"last day {m['last_trade_date']}, Last Refreshed {m['last_refreshed']}"
    ),
    "adjusted_close_matches_actions": lambda m: (
        f"{plural(m['days_over_tolerance'], 'day')} over {m['tolerance']:g}; largest "
        f"{m['largest_relative_deviation']:.4%} on {m['largest_deviation_day']}"
    ),
    "table_matches_stored_prices": lambda m: (
        f"{m['table_rows']} rows in the table, {m['stored_rows']} stored; first differing days: "
        f"{m['first_differing_days']}"
    ),
}


def _key_figure(name: str, metadata: dict) -> str:
    try:
        return _KEY_FIGURES[name](metadata)
    except (KeyError, TypeError, ValueError):
        plain = (str, int, float, bool)
        return ", ".join(f"{k} {v}" for k, v in metadata.items() if isinstance(v, plain))


def describe_checks(evaluations: Sequence[dg.AssetCheckEvaluation]) -> list[str]:
    """One phrase per check that warned or failed, with its key figure.

    A run holds one symbol, so a check's evaluation is that symbol's whether or not it names
    its partition; a check evaluated twice counts by its last evaluation.
    """
    latest = {(e.asset_key, e.check_name): e for e in evaluations}
    phrases = []
    for evaluation in latest.values():
        if evaluation.passed:
            continue
        status = "warning" if evaluation.severity == dg.AssetCheckSeverity.WARN else "FAILED"
        blocking = " (blocking)" if evaluation.blocking else ""
        metadata = {k: v.value for k, v in evaluation.metadata.items()}
        phrases.append(
            f"{status} {evaluation.check_name}{blocking}: "
            f"{_key_figure(evaluation.check_name, metadata)}"
        )
    return phrases
