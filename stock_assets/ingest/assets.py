"""The raw-quotes asset: each symbol's Alpha Vantage answer, verbatim, with how it was fetched."""

import time
from collections.abc import Callable
from datetime import UTC, datetime

import dagster as dg

from stock_assets.alphavantage.errors import AlphaVantageError, SymbolRejected
from stock_assets.automation import ON_NEW_SYMBOL
from stock_assets.catalog import GROUP, stage
from stock_assets.ingest.batch import fetch_batch
from stock_assets.ingest.budget import quota_day
from stock_assets.ingest.fetch_plan import choose_outputsize
from stock_assets.ingest.quota import mark_exhausted
from stock_assets.ingest.resources import AlphaVantageResource
from stock_assets.ingest.stored import StoredAssets, last_stored_trade_date
from stock_assets.listing import first_few
from stock_assets.progress import Progress

# The job that refreshes raw quotes, by name: the schedule and the quota sensor run it.
REFRESH_RAW_QUOTES = "refresh_raw_quotes"

API_POOL = "alphavantage"


def _failure(errors: dict[str, AlphaVantageError], stored: int) -> dg.Failure:
    first = next(iter(errors.values()))
    if len(errors) == 1:
        description = str(first)
    else:
        listed = first_few(list(errors.values()), 5, separator="; ")
        description = f"{len(errors)} symbols failed: {listed}"
    return dg.Failure(
        description=description + (f" ({stored} other symbols were stored)" if stored else ""),
        metadata={
            "symbol": first.symbol,
            "error_kind": first.kind,
            "failed_symbols": ", ".join(errors),
        },
    )


def _plan(
    alphavantage: AlphaVantageResource, history_store: StoredAssets, symbols: list[str]
) -> dict[str, str]:
    """Each symbol's outputsize; the stored history is read only when it can change the answer."""
    today = datetime.now(UTC).date()
    full_allowed = alphavantage.full_history or alphavantage.premium or alphavantage.offline
    return {
        symbol: choose_outputsize(
            symbol,
            last_stored_trade_date(history_store, symbol) if full_allowed else None,
            today,
            full_allowed=full_allowed,
        )
        for symbol in symbols
    }


def _fetcher(
    alphavantage: AlphaVantageResource, sizes: dict[str, str], partial: dict[str, str]
) -> Callable[[str], dict]:
    """Fetches one symbol's answer as the record that gets stored (its body held once, not
    twice); a symbol whose full history is refused gets compact, noted in `partial`."""
    client = alphavantage.get_client()
    request = {"adjusted": alphavantage.premium, "datatype": alphavantage.datatype}

    def fetch(symbol: str) -> dict:
        try:
            return client.fetch_daily(symbol, outputsize=sizes[symbol], **request).to_record()
        except SymbolRejected as refused:
            if sizes[symbol] != "full":
                raise
            # Alpha Vantage answers "Invalid API call" to outputsize=full for some symbols whose
            # compact answer works (RomelTorres/alpha_vantage#173, #183): take the last 100 days.
            record = client.fetch_daily(symbol, outputsize="compact", **request).to_record()
            partial[symbol] = record["partial_history"] = (
                f"outputsize=full was refused ({refused.detail}); compact (the last 100 days) "
                f"was fetched instead, so the history is partial"
            )
            return record

    return fetch


def build_raw_quotes(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    """The raw-quotes asset, one partition per watchlist symbol."""
    return dg.asset(
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        metadata={"format": "json", "archive": True},
        group_name=GROUP,
        tags=stage("ingest"),
        kinds={"python", "json"},
        owners=["team:data-engineering"],
        code_version="1",
        pool=API_POOL,
        output_required=False,
        automation_condition=ON_NEW_SYMBOL,
    )(raw_quotes)


def raw_quotes(
    context: dg.AssetExecutionContext,
    alphavantage: AlphaVantageResource,
    history_store: dg.ResourceParam[StoredAssets],
):
    """Alpha Vantage's daily-series answer for each symbol, kept byte for byte.

    Every answer is also archived under an immutable key, so no fetched answer is ever lost;
    `compact` is requested when the stored history already reaches the last 100 trading days.
    When the daily quota runs out, what was fetched is stored, the run ends cleanly and the
    quota sensor asks for the rest after the reset; other failures fail the run, naming them.
    """
    context.log.info(alphavantage.describe())
    symbols = context.partition_keys
    partial: dict[str, str] = {}
    fetch = _fetcher(alphavantage, _plan(alphavantage, history_store, symbols), partial)
    progress = Progress(context.log, len(symbols))

    def fetched(symbol: str, record: dict, done: int) -> None:
        progress.step(symbol, f"{len(record['body'])} bytes, {record['function']} "
                              f"outputsize={record['outputsize']}, from {record['source']}")

    workers = 1 if alphavantage.offline else alphavantage.max_concurrent_requests
    batch = fetch_batch(fetch, symbols, workers=workers, on_answer=fetched)
    records = batch.fetched
    for symbol, why in partial.items():
        context.log.warning(f"{symbol}: {why}")
    if not batch.unfetched:
        yield dg.Output(records)
        return

    for symbol, metadata in history_store.write_partitions(context, records).items():
        context.log_event(
            dg.AssetMaterialization(asset_key=context.asset_key, partition=symbol,
                                    metadata=metadata)
        )
    if batch.quota_exhausted:
        mark_exhausted(context.instance, context.run_id, quota_day(time.time()))
        context.log.warning(
            f"daily quota exhausted: {len(records)} of {len(symbols)} symbols stored; the quota "
            f"sensor requests the other {len(batch.unfetched)} after midnight US/Eastern"
        )
    for symbol, error in batch.errors.items():
        if error.evidence is not None:
            uri = history_store.keep_rejected(context.asset_key, symbol, error.evidence)
            context.log.warning(f"{symbol}: the refused answer is kept as evidence at {uri}; "
                                "the last good answer stays the stored one")
    if batch.errors:
        raise _failure(batch.errors, stored=len(records))
