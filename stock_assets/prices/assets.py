"""Cleaned daily prices and their quarantine: each symbol's answer validated, merged into the
stored history, adjusted for corporate actions, and checked."""

from datetime import date

import dagster as dg
import pandas as pd
from pydantic import Field

from stock_assets.automation import FOLLOW_UPSTREAM
from stock_assets.catalog import GROUP, stage
from stock_assets.check_results import check_results_by_partition
from stock_assets.ingest.answers import Answer
from stock_assets.ingest.archived_answers import NoArchivedAnswers, archived_answers
from stock_assets.partitions import symbols_partitions
from stock_assets.prices import quality
from stock_assets.prices.chart import METADATA_KEY as CHART_KEY
from stock_assets.prices.chart import price_chart_metadata
from stock_assets.prices.update import update_history
from stock_assets.prices.validate import NoValidRows
from stock_assets.progress import Progress
from stock_assets.settings import Settings
from stock_assets.storage.io_manager import AtomicIOManager, StoredPartitions

CLEANED = dg.AssetKey("cleaned_daily_prices")
QUARANTINE = dg.AssetKey("quarantined_price_rows")
QUARANTINE_THRESHOLD = 0.05


def _spec(name: str, description: str, **kwargs) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        name, asset=CLEANED, description=description, partitions_def=symbols_partitions, **kwargs
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
        f"Under {QUARANTINE_THRESHOLD:.0%} of the answer's rows quarantined; blocks the table.",
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
}
_WARNINGS = {"no_undeclared_splits"}


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
            asset_key=CLEANED,
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
    partitions_def=symbols_partitions,
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
    histories, quarantines, checked = {}, {}, {}
    for symbol in raw_quotes:
        stored = io_manager.read_current(context, symbol, asset_key=CLEANED)
        try:
            if config.replay:
                update = update_history(None, (a.answer for a in archived_answers(store, symbol)))
            else:
                update = update_history(stored, [Answer.from_record(raw_quotes[symbol])])
        except (NoValidRows, NoArchivedAnswers) as error:  # the same on a retry: none
            raise dg.Failure(
                description=str(error), metadata={"symbol": symbol}, allow_retries=False
            ) from None
        history, cleaned, merge = update.history, update.latest, update.merge
        histories[symbol], quarantines[symbol] = history, cleaned.quarantine
        replayed = {"answers_replayed": update.answers} if config.replay else {}
        # Each symbol's own materialization carries its figures and its chart.
        context.add_asset_metadata(
            {
                **merge.as_metadata(),
                **replayed,
                "rows_quarantined": len(cleaned.quarantine),
                "first_trade_date": str(history["trade_date"].iloc[0]),
                "last_trade_date": str(history["trade_date"].iloc[-1]),
                CHART_KEY: price_chart_metadata(history, cleaned.quarantine),
            },
            asset_key=CLEANED,
            partition_key=symbol,
        )
        context.add_asset_metadata(
            {"rows_quarantined": len(cleaned.quarantine)}, asset_key=QUARANTINE,
            partition_key=symbol,
        )
        checked[symbol] = _check_results({
            "ohlc_consistent": quality.check_ohlc_consistency(history),
            "unique_trading_dates": quality.check_unique_dates(history),
            "no_gaps_beyond_holidays": quality.check_no_gaps(history),
            "quarantine_share": quality.check_quarantine_share(
                len(cleaned.clean), len(cleaned.quarantine), QUARANTINE_THRESHOLD
            ),
            "history_never_shrinks": quality.check_history_not_shrunk(
                None if stored is None else len(stored), len(history)
            ),
            "fresh_against_last_refreshed": quality.check_freshness(
                history, cleaned.last_refreshed
            ),
            "no_undeclared_splits": quality.check_splits(history),
        })
        progress.step(
            symbol, (f"{update.answers} archived answers replayed, " if config.replay else "")
            + f"{merge.added} added, {merge.revised} revised, "
            f"{len(cleaned.quarantine)} quarantined, {len(history)} days in history"
        )
    yield dg.Output(histories, output_name="cleaned_daily_prices")
    yield dg.Output(quarantines, output_name="quarantined_price_rows")
    # Stored by now (an output is handled when yielded), so each result points at its symbol's
    # materialization.
    yield from check_results_by_partition(context, checked)


def last_stored_trade_date(io_manager: AtomicIOManager, symbol: str) -> date | None:
    """The last trading day of the symbol's stored cleaned history (None if none is stored),
    from the stored object's `trade_date` column: the data, not the event log, says."""
    stored = io_manager.read_stored(
        CLEANED, symbol, cleaned_daily_prices.metadata_by_key[CLEANED], columns=["trade_date"]
    )
    if stored is None or stored.empty:
        return None
    return pd.Timestamp(stored["trade_date"].max()).date()
