"""Cleaned daily prices and their quarantine: each symbol's answer validated, merged into the
stored history, adjusted for corporate actions, and checked."""

from dataclasses import dataclass
from datetime import date

import dagster as dg
import pandas as pd
from pydantic import Field

from stock_assets.alphavantage.answers import Answer
from stock_assets.asset_keys import CLEANED_KEY, QUARANTINE_KEY
from stock_assets.automation import FOLLOW_UPSTREAM
from stock_assets.catalog import GROUP, stage
from stock_assets.check_results import check_results_by_partition
from stock_assets.ingest.archived_answers import NoArchivedAnswers, archived_answers
from stock_assets.partitions import symbol_partitions
from stock_assets.prices import quality, schema
from stock_assets.prices.chart import METADATA_KEY as CHART_KEY
from stock_assets.prices.chart import price_chart_metadata
from stock_assets.prices.update import HistoryUpdate, update_history
from stock_assets.prices.validate import NoValidRows
from stock_assets.progress import Progress
from stock_assets.settings import Settings
from stock_assets.storage.io_manager import KEEP_STORED, AtomicIOManager, StoredPartitions

QUARANTINE_THRESHOLD = 0.05


def _spec(name: str, description: str, **kwargs) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        name, asset=CLEANED_KEY, description=description, partitions_def=symbol_partitions, **kwargs
    )


CHECKS = {
    "ohlc_consistent": _spec(
        "ohlc_consistent", "Each day's high is its highest price, low lowest."
    ),
    "unique_trading_dates": _spec("unique_trading_dates", "One row per trading day."),
    "no_gaps_beyond_holidays": _spec(
        "no_gaps_beyond_holidays", "No session of the symbol's exchange missing in its history."
    ),
    "quarantine_share": _spec(
        "quarantine_share",
        f"Under {QUARANTINE_THRESHOLD:.0%} of the answer's rows quarantined; blocks the symbol "
        "(in a batch, it alone is held back).",
        blocking=True,
    ),
    "history_never_shrinks": _spec(
        "history_never_shrinks", "The history holds at least as many days as before this run."
    ),
    "fresh_against_last_refreshed": _spec(
        "fresh_against_last_refreshed", "The last trading day is the answer's 'Last Refreshed'."
    ),
    "no_undeclared_splits": _spec(
        "no_undeclared_splits",
        "Warns of price jumps matching a split ratio (2:1, 3:2, 1:10, ...) in unadjusted data.",
    ),
    "adjusted_close_matches_actions": _spec(
        "adjusted_close_matches_actions",
        "Warns where the answer's adjusted close differs from what its own splits and dividends "
        "give (the adjusted columns follow the answer); reports the largest deviation and day.",
    ),
}
_WARNINGS = {"no_undeclared_splits", "adjusted_close_matches_actions"}


def _out(description: str, storage_format: str) -> dg.AssetOut:
    return dg.AssetOut(
        description=description,
        metadata={"format": storage_format},
        kinds={"pandas", storage_format},
        group_name=GROUP,
        tags=stage("prices"),
        owners=["team:data-engineering"],
        code_version="2",
        automation_condition=FOLLOW_UPSTREAM,
    )


def _check_results(outcomes: dict[str, tuple[bool, dict]]) -> list[dg.AssetCheckResult]:
    """One symbol's check results, from each check's (passed, metadata)."""
    return [
        dg.AssetCheckResult(
            check_name=name,
            asset_key=CLEANED_KEY,
            passed=passed,
            metadata=metadata,
            severity=(
                dg.AssetCheckSeverity.WARN if name in _WARNINGS else dg.AssetCheckSeverity.ERROR
            ),
        )
        for name, (passed, metadata) in outcomes.items()
    ]


class CleanedPricesConfig(dg.Config):
    """How a run brings each symbol's history up to date."""

    replay: bool = Field(
        default=False,
        description="Rebuild each history from every archived answer, oldest first (no API "
        "request), instead of merging the latest answer into the stored history.",
    )


@dg.multi_asset(
    outs={
        "cleaned_daily_prices": _out(
            "Typed daily prices per symbol, one row per session of its exchange, sorted, history "
            "kept; adjusted OHLCV when the answer carries splits and dividends.",
            Settings.from_env().prices_format,
        ),
        "quarantined_price_rows": _out(
            "Rows of the latest answer that failed validation, as received, with the reason "
            "per row.",
            "csv",
        ),
    },
    ins={"raw_quotes": dg.AssetIn()},
    partitions_def=symbol_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=list(CHECKS.values()),
    retry_policy=dg.RetryPolicy(max_retries=2, delay=1),
)
def cleaned_daily_prices(
    context: dg.AssetExecutionContext,
    config: CleanedPricesConfig,
    raw_quotes: StoredPartitions,
    io_manager: dg.ResourceParam[AtomicIOManager],
):
    """Validate each answer (bad rows to quarantine, never the whole symbol), merge the good rows
    into the stored history (no day ever dropped), adjust for splits and dividends, and check.

    The write is conditional on the history version read, so two runs on one symbol cannot
    silently lose each other's rows. Answers are read one at a time (a batch of hundreds of
    full answers would not fit beside their histories). With `replay` (the `replay` job), the
    history is rebuilt from every archived answer instead, oldest first, with no API request.
    """
    progress = Progress(context.log, len(raw_quotes))
    store = io_manager.store.get_store()
    judged: dict[str, Judged] = {}
    for symbol in raw_quotes:
        stored = io_manager.read_current(context, symbol, asset_key=CLEANED_KEY)
        try:
            if config.replay:
                answers = (a.answer for a in archived_answers(store, symbol))
                judged[symbol] = judge(stored, update_history(None, answers), replay=True)
            else:
                answer = Answer.from_record(raw_quotes[symbol])
                judged[symbol] = judge(stored, update_history(stored, [answer]))
        except NoValidRows as error:
            judged[symbol] = hold_back(stored, error.quarantine, clean_rows=0)
        except NoArchivedAnswers as error:  # the same on a retry: none
            raise dg.Failure(
                description=str(error), metadata={"symbol": symbol}, allow_retries=False
            ) from None
        outcome = judged[symbol]
        # Each symbol's own materialization carries its figures and its chart.
        context.add_asset_metadata(outcome.figures, asset_key=CLEANED_KEY, partition_key=symbol)
        context.add_asset_metadata(
            {"rows_quarantined": len(outcome.quarantine)}, asset_key=QUARANTINE_KEY,
            partition_key=symbol,
        )
        progress.step(symbol, outcome.summary)
    yield dg.Output({s: j.history for s, j in judged.items()}, output_name="cleaned_daily_prices")
    yield dg.Output(
        {s: j.quarantine for s, j in judged.items()}, output_name="quarantined_price_rows"
    )
    # A symbol held back is kept out by this asset itself, so the others of a batch go on; when
    # none is left, the blocking check fails the step as usual. Stored by now (an output is
    # handled when yielded), so each result points at its symbol's materialization.
    held_back = {s for s, j in judged.items() if j.held_back}
    enforced = held_back if held_back != set(judged) else set()
    yield from check_results_by_partition(
        context, {s: j.checks for s, j in judged.items()}, enforced=enforced
    )


@dataclass(frozen=True, eq=False)
class Judged:
    """One symbol's outcome: what is stored, its figures and checks, and whether the answer
    was held back (its stored history kept as it was)."""

    history: pd.DataFrame | object  # or KEEP_STORED
    quarantine: pd.DataFrame
    figures: dict
    checks: list[dg.AssetCheckResult]
    summary: str
    held_back: bool = False


def judge(stored: pd.DataFrame | None, update: HistoryUpdate, *, replay: bool = False) -> Judged:
    """The updated history and its checks, or the stored one kept when too much of the answer
    was quarantined (a bad answer never reaches the history, nor the table)."""
    history, cleaned, merge = update.history, update.latest, update.merge
    share = quality.check_quarantine_share(
        len(cleaned.clean), len(cleaned.quarantine), QUARANTINE_THRESHOLD
    )
    if not share[0]:
        return hold_back(stored, cleaned.quarantine, clean_rows=len(cleaned.clean))
    replayed = {"answers_replayed": update.answers} if replay else {}
    return Judged(
        history=history,
        quarantine=cleaned.quarantine,
        figures={
            **merge.as_metadata(),
            **replayed,
            "rows_quarantined": len(cleaned.quarantine),
            "first_trade_date": str(history["trade_date"].iloc[0]),
            "last_trade_date": str(history["trade_date"].iloc[-1]),
            CHART_KEY: price_chart_metadata(history, cleaned.quarantine),
        },
        checks=_check_results({
            "ohlc_consistent": quality.check_ohlc_consistency(history),
            "unique_trading_dates": quality.check_unique_dates(history),
            "no_gaps_beyond_holidays": quality.check_no_gaps(history),
            "quarantine_share": share,
            "history_never_shrinks": quality.check_history_not_shrunk(
                None if stored is None else len(stored), len(history)
            ),
            "fresh_against_last_refreshed": quality.check_freshness(
                history, cleaned.last_refreshed
            ),
            "no_undeclared_splits": quality.check_splits(history),
            "adjusted_close_matches_actions": quality.check_adjusted_close(history),
        }),
        summary=(f"{update.answers} archived answers replayed, " if replay else "")
        + f"{merge.added} added, {merge.revised} revised, {len(cleaned.quarantine)} "
        f"quarantined, {len(history)} days in history",
    )


def hold_back(stored: pd.DataFrame | None, quarantine: pd.DataFrame, *, clean_rows: int) -> Judged:
    """Keep the stored history as it is (none: store an empty one) and record why, with the
    quarantined rows as evidence: only the quarantine check is judged, on the answer."""
    kept = stored if stored is not None else schema.empty()
    share = quality.check_quarantine_share(clean_rows, len(quarantine), QUARANTINE_THRESHOLD)
    reason = (
        f"held back: {share[1]['quarantine_share']:.1%} of the answer's rows quarantined (limit "
        f"{QUARANTINE_THRESHOLD:.0%}); the stored history ({len(kept)} days) is kept as it was"
    )
    return Judged(
        history=KEEP_STORED if stored is not None else kept,
        quarantine=quarantine,
        figures={"held_back": reason, "rows_quarantined": len(quarantine)},
        checks=_check_results({"quarantine_share": share}),
        summary=reason,
        held_back=True,
    )


def last_stored_trade_date(io_manager: AtomicIOManager, symbol: str) -> date | None:
    """The last trading day of the symbol's stored cleaned history (None if none is stored),
    from the stored object's `trade_date` column: the data, not the event log, says."""
    stored = io_manager.read_stored(
        CLEANED_KEY, symbol, cleaned_daily_prices.metadata_by_key[CLEANED_KEY],
        columns=["trade_date"],
    )
    if stored is None or stored.empty:
        return None
    return pd.Timestamp(stored["trade_date"].max()).date()
