"""Cleaned daily prices and their quarantine: each symbol's answer validated, merged into the
stored history, adjusted for corporate actions, and checked."""

from collections.abc import Iterable
from dataclasses import dataclass

import dagster as dg
import pandas as pd
from pydantic import Field

from stock_assets.alphavantage.answers import Answer
from stock_assets.asset_keys import ACTIONS_KEY, CLEANED_KEY, QUARANTINE_KEY
from stock_assets.automation import FOLLOW_UPSTREAM
from stock_assets.catalog import GROUP, stage
from stock_assets.check_results import check_results_by_partition
from stock_assets.prices import schema
from stock_assets.prices.adjust import SOURCE, known_actions
from stock_assets.prices.chart import METADATA_KEY as CHART_KEY
from stock_assets.prices.chart import price_chart_metadata
from stock_assets.prices.checks import CHECKS, QUARANTINE_SHARE, QUARANTINE_THRESHOLD, Evidence
from stock_assets.prices.update import HistoryUpdate, update_history
from stock_assets.prices.validate import NoValidRows
from stock_assets.progress import Progress
from stock_assets.settings import DEFAULT_MOST_PLAUSIBLE_PRICE
from stock_assets.storage.archived_answers import NoArchivedAnswers, archived_answers
from stock_assets.storage.history_store import KEEP_STORED, HistoryStore, StoredValue, Update
from stock_assets.storage.io_manager import StoredPartitions


def _out(description: str, storage_format: str, **metadata: object) -> dg.AssetOut:
    return dg.AssetOut(
        description=description,
        metadata={"format": storage_format, **metadata},
        kinds={"pandas", storage_format},
        group_name=GROUP,
        tags=stage("prices"),
        owners=["team:data-engineering"],
        code_version="2",
        automation_condition=FOLLOW_UPSTREAM,
    )


ACTIONS_FORMAT = {"format": "json"}  # how the corporate actions are stored


class CleanedPricesConfig(dg.Config):
    """How a run brings each symbol's history up to date."""

    replay: bool = Field(
        default=False,
        description="Rebuild each history from every archived answer, oldest first (no API "
        "request), instead of merging the latest answer into the stored history.",
    )


def build_cleaned_daily_prices(
    partitions: dg.PartitionsDefinition, prices_format: str,
    most_plausible_price: float = DEFAULT_MOST_PLAUSIBLE_PRICE,
) -> dg.AssetsDefinition:
    """The cleaned prices and their quarantine, one partition per watchlist symbol, the prices
    stored in `prices_format`; a price above `most_plausible_price` is quarantined (the limit is
    the asset's definition metadata, so the UI shows it)."""
    return dg.multi_asset(
        outs={
            "cleaned_daily_prices": _out(
                "Typed daily prices per symbol, one row per session of its exchange, sorted, "
                "history kept; adjusted OHLCV when the answer carries splits and dividends.",
                prices_format,
                most_plausible_price=most_plausible_price,
            ),
            "quarantined_price_rows": _out(
                "Rows of the latest answer that failed validation, as received, with the reason "
                "per row.",
                "csv",
            ),
        },
        ins={"raw_quotes": dg.AssetIn()},
        deps=[ACTIONS_KEY],
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        check_specs=[check.spec(partitions) for check in CHECKS],
        retry_policy=dg.RetryPolicy(max_retries=2, delay=1),
    )(cleaned_daily_prices)


def cleaned_daily_prices(
    context: dg.AssetExecutionContext,
    config: CleanedPricesConfig,
    raw_quotes: StoredPartitions,
    history_store: HistoryStore,
):
    """Validate each answer (bad rows to quarantine, never the whole symbol), merge the good rows
    into the stored history (no day ever dropped), adjust for splits and dividends, and check.

    The stored history is read with its version from the history store, and each new history
    goes out as an `Update` of that version: the write is conditional on it, so two runs on one
    symbol cannot silently lose each other's rows. Answers are read one at a time (a batch of
    hundreds of full answers would not fit beside their histories). With `replay` (the `replay`
    job), the history is rebuilt from every archived answer instead, oldest first, with no API
    request.
    """
    progress = Progress(context.log, len(raw_quotes))
    store = history_store.objects()
    definition = context.assets_def.metadata_by_key[CLEANED_KEY]
    limit = definition.get("most_plausible_price", DEFAULT_MOST_PLAUSIBLE_PRICE)
    judged: dict[str, Judged] = {}
    for symbol in raw_quotes:
        read = history_store.read(CLEANED_KEY, symbol, definition)
        actions = history_store.read(ACTIONS_KEY, symbol, ACTIONS_FORMAT, as_frame=False)
        actions = known_actions(None if actions is None else actions.value)
        if config.replay:  # from every archived answer, oldest first
            answers = (a.answer for a in archived_answers(store, symbol))
        else:
            answers = [Answer.from_record(raw_quotes[symbol])]
        judged[symbol] = outcome = _judge_symbol(symbol, read, answers, actions, limit,
                                                 replay=config.replay)
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
    if held_back and not enforced:
        raise _all_held_back(judged)


def _judge_symbol(
    symbol: str, read: StoredValue | None, answers: Iterable[Answer], actions: dict | None,
    most_plausible_price: float, *, replay: bool,
) -> "Judged":
    """The symbol's new history judged, or held back when no row of its answer is valid."""
    base = None if replay or read is None else read.value
    try:
        update = update_history(base, answers, actions, most_plausible_price=most_plausible_price)
        return judge(read, update, replay=replay)
    except NoValidRows as error:
        return hold_back(read, error.quarantine, clean_rows=0)
    except NoArchivedAnswers as error:  # the same on a retry: none
        raise dg.Failure(
            description=str(error), metadata={"symbol": symbol}, allow_retries=False
        ) from None


def _all_held_back(judged: dict[str, "Judged"]) -> dg.Failure:
    """Every symbol held back, none left: the step fails saying why (the checks a held-back
    answer skips would otherwise fail it as outputs never returned), and is not retried, since
    a retry would hold it back again."""
    return dg.Failure(
        description="; ".join(f"{s}: {j.summary}" for s, j in sorted(judged.items())),
        metadata={"symbol": ", ".join(sorted(judged))}, allow_retries=False,
    )


@dataclass(frozen=True, eq=False)
class Judged:
    """One symbol's outcome: what is stored, its figures and checks, and whether the answer
    was held back (its stored history kept as it was)."""

    history: Update | object  # or KEEP_STORED
    quarantine: pd.DataFrame
    figures: dict
    checks: list[dg.AssetCheckResult]
    summary: str
    held_back: bool = False


def judge(stored: StoredValue | None, update: HistoryUpdate, *, replay: bool = False) -> Judged:
    """The updated history (an update of the `stored` version) and its checks, or the stored one
    kept when too much of the answer was quarantined (a bad answer never reaches the history,
    nor the table)."""
    history, cleaned, merge = update.history, update.latest, update.merge
    evidence = Evidence(
        history=history,
        previous_rows=None if stored is None else len(stored.value),
        clean_rows=len(cleaned.clean),
        quarantined_rows=len(cleaned.quarantine),
        last_refreshed=cleaned.last_refreshed,
    )
    if not QUARANTINE_SHARE.judge(evidence)[0]:
        return hold_back(stored, cleaned.quarantine, clean_rows=len(cleaned.clean))
    replayed = {"answers_replayed": update.answers} if replay else {}
    return Judged(
        history=Update(history, base=stored),
        quarantine=cleaned.quarantine,
        figures={
            **merge.as_metadata(),
            **replayed,
            "rows_quarantined": len(cleaned.quarantine),
            "first_trade_date": str(history["trade_date"].iloc[0]),
            "last_trade_date": str(history["trade_date"].iloc[-1]),
            "adjustment_source": ", ".join(history[SOURCE].unique().tolist()),
            CHART_KEY: price_chart_metadata(history, cleaned.quarantine),
        },
        checks=[check.result(evidence) for check in CHECKS],
        summary=(f"{update.answers} archived answers replayed, " if replay else "")
        + f"{merge.inserted} inserted, {merge.updated} updated, {len(cleaned.quarantine)} "
        f"quarantined, {len(history)} days in history",
    )


def hold_back(stored: StoredValue | None, quarantine: pd.DataFrame, *, clean_rows: int) -> Judged:
    """Keep the stored history as it is (none: store an empty one) and record why, with the
    quarantined rows as evidence: only the quarantine check is judged, on the answer."""
    kept = stored.value if stored is not None else schema.empty()
    evidence = Evidence(
        history=kept, previous_rows=len(kept), clean_rows=clean_rows,
        quarantined_rows=len(quarantine), last_refreshed=None,
    )
    share = QUARANTINE_SHARE.result(evidence)
    reason = (
        f"held back: {share.metadata['quarantine_share'].value:.1%} of the answer's rows "
        f"quarantined (limit {QUARANTINE_THRESHOLD:.0%}); the stored history ({len(kept)} days) "
        f"is kept as it was"
    )
    return Judged(
        history=KEEP_STORED if stored is not None else Update(kept, base=None),
        quarantine=quarantine,
        figures={"held_back": reason, "rows_quarantined": len(quarantine)},
        checks=[share],
        summary=reason,
        held_back=True,
    )
