"""The corporate-actions asset: each symbol's SPLITS and DIVIDENDS answers, verbatim and archived
like raw quotes, with their events parsed and validated. Cleaning adjusts a free key's prices
with them."""

import hashlib
import time
from datetime import UTC, datetime

import dagster as dg

from stock_assets.actions.cadence import fetched_on, why_due
from stock_assets.actions.events import lost_events, parse_actions
from stock_assets.alphavantage.answers import Answer
from stock_assets.alphavantage.api import DIVIDENDS, SPLITS
from stock_assets.alphavantage.errors import AlphaVantageError
from stock_assets.asset_keys import ACTIONS_KEY
from stock_assets.automation import FOLLOW_UPSTREAM
from stock_assets.catalog import GROUP, stage
from stock_assets.ingest.assets import API_POOL
from stock_assets.ingest.batch import fetch_batch
from stock_assets.ingest.budget import quota_day, quota_day_start
from stock_assets.ingest.quota import refreshed_since
from stock_assets.ingest.resources import AlphaVantageResource
from stock_assets.listing import first_few
from stock_assets.prices.splits import detect_splits, unexplained
from stock_assets.prices.validate import clean_answer
from stock_assets.storage.history_store import KEEP_STORED, HistoryStore
from stock_assets.storage.io_manager import StoredPartitions

FUNCTIONS = (SPLITS, DIVIDENDS)


def build_corporate_actions(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    """The corporate-actions asset, one partition per watchlist symbol, after the prices."""
    return dg.asset(
        name=ACTIONS_KEY.path[-1],
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        metadata={"format": "json", "archive": True},
        group_name=GROUP,
        tags=stage("actions"),
        kinds={"python", "json"},
        owners=["team:data-engineering"],
        code_version="1",
        pool=API_POOL,
        automation_condition=FOLLOW_UPSTREAM,
    )(corporate_actions)


def unexplained_jumps(raw_quote: dict, record: dict | None) -> list[str]:
    """Days of the latest answer whose prices jump by a split ratio that no split on record
    explains (an answer cleaning cannot read has none: cleaning says what is wrong with it)."""
    try:
        prices = clean_answer(Answer.from_record(raw_quote)).clean
    except Exception:  # any unreadable answer: cleaning, next, reports it with its reason
        return []
    splits = {s["effective_date"]: s["split_factor"] for s in (record or {}).get("splits", [])}
    return unexplained(detect_splits(prices), splits)


def _events_table(record: dict) -> dg.TableMetadataValue:
    rows = [dg.TableRecord({"event": "split", "day": s["effective_date"],
                            "value": s["split_factor"]}) for s in record.get("splits", [])]
    rows += [dg.TableRecord({"event": "dividend", "day": d["ex_dividend_date"],
                             "value": d["amount"]}) for d in record.get("dividends", [])]
    rows.sort(key=lambda row: row.data["day"], reverse=True)
    return dg.MetadataValue.table(rows, dg.TableSchema([
        dg.TableColumn("event"), dg.TableColumn("day", "date"), dg.TableColumn("value", "float"),
    ]))


def _figures(record: dict | None, status: str) -> dict:
    """One symbol's materialization metadata: what is known and how it came to be."""
    record = record or {}
    return {
        "status": status,
        "fetched_at": record.get("fetched_at") or "never",
        "splits": len(record.get("splits", [])),
        "dividends": len(record.get("dividends", [])),
        "events_quarantined": len(record.get("quarantine", [])),
        "events": _events_table(record),
    }


def _fetcher(alphavantage: AlphaVantageResource):
    client = alphavantage.get_client()

    def fetch(symbol: str) -> dict:
        answers = {function: client.fetch_actions(symbol, function) for function in FUNCTIONS}
        bodies = "".join(answers[function].sha256 for function in FUNCTIONS)
        return {
            "symbol": symbol,
            "fetched_at": datetime.now(UTC).isoformat(),
            # What the archive knows the record by: its answers' bodies, not when they came, so
            # the same events fetched again are archived once (`storage.archive`).
            "body_sha256": hashlib.sha256(bodies.encode()).hexdigest(),
            "answers": {function: answer.to_record() for function, answer in answers.items()},
            **parse_actions(answers).as_record(),
        }

    return fetch


def _plan(
    context: dg.AssetExecutionContext, alphavantage: AlphaVantageResource, symbols: list[str],
    stored: dict, raw_quotes: StoredPartitions,
) -> tuple[dict[str, str], dict[str, str]]:
    """The symbols due and why, and those due that wait for quota (prices come first)."""
    today = quota_day(time.time())
    every = alphavantage.corporate_actions_every_days
    due = {}
    for symbol in symbols:
        why = why_due(stored[symbol], today, every,
                      lambda s=symbol: unexplained_jumps(raw_quotes[s], stored[s]))
        if why is not None:
            due[symbol] = why
    left, waiting = _quota_left(context, alphavantage)
    deferred = {}
    if left is not None:
        affordable = max(left - waiting, 0) // len(FUNCTIONS)
        deferred = {s: f"waits for quota the prices do not need: {left} requests are left "
                       f"today and {waiting} are kept for symbols whose prices are not fetched "
                       f"yet" for s in list(due)[affordable:]}
    context.log.info(
        f"corporate actions: {len(due)} of {len(symbols)} symbols due, {2 * len(due)} requests "
        f"(SPLITS and DIVIDENDS each), asked after the prices so that they use what the day's "
        f"quota leaves"
        + ("" if left is None else f"; {left} of today's {alphavantage.requests_per_day} "
           f"requests are left after the prices, {waiting} of them kept for prices not fetched "
           f"yet today, so {len(due) - len(deferred)} symbols are asked now")
        + (f"; due: {first_few([f'{s} ({w})' for s, w in due.items()], 5)}" if due else "")
    )
    return {s: w for s, w in due.items() if s not in deferred}, deferred


def _quota_left(
    context: dg.AssetExecutionContext, alphavantage: AlphaVantageResource
) -> tuple[int | None, int]:
    """Requests left today (None: no daily quota) and how many of them the watchlist's prices
    not yet fetched today still need: a run of one symbol (the CLI, a partition launched from
    the UI) leaves room for the others' prices as a batch run does by its order."""
    if alphavantage.offline or alphavantage.requests_per_day <= 0:
        return None, 0
    used = alphavantage.get_budget().used_today()
    watchlist = context.assets_def.partitions_def.get_partition_keys()
    fetched = refreshed_since(context.instance, watchlist, quota_day_start(time.time()))
    return max(alphavantage.requests_per_day - used, 0), len(watchlist) - len(fetched)


def corporate_actions(
    context: dg.AssetExecutionContext,
    alphavantage: AlphaVantageResource,
    raw_quotes: StoredPartitions,
    history_store: HistoryStore,
):
    """Each symbol's splits and dividends from Alpha Vantage's SPLITS and DIVIDENDS answers.

    Fetched on a symbol's first load, then every `ALPHAVANTAGE_CORPORATE_ACTIONS_DAYS` days, and
    at once when the latest prices jump by a split ratio with no split on record; never twice
    in a day. A symbol not due keeps what is stored. A failed fetch (the quota spent, an answer
    for another symbol, a premium notice) keeps the stored events too and is reported here; it
    never stops the prices, which are cleaned with the last events known.
    """
    symbols = context.partition_keys
    definition = context.assets_def.metadata_by_key[context.asset_key]
    read = {s: history_store.read(ACTIONS_KEY, s, definition, as_frame=False) for s in symbols}
    stored = {s: None if r is None else r.value for s, r in read.items()}
    due, deferred = _plan(context, alphavantage, symbols, stored, raw_quotes)
    workers = 1 if alphavantage.offline else alphavantage.max_concurrent_requests
    batch = fetch_batch(_fetcher(alphavantage), list(due), workers=workers)
    values = {}
    for symbol in symbols:
        values[symbol], record, status = _outcome(symbol, stored[symbol], batch, due, deferred)
        if status.startswith("kept:"):
            context.log.warning(f"corporate actions of {symbol} {status}")
        context.add_asset_metadata(_figures(record, status), partition_key=symbol)
    _report(context, batch)
    yield dg.Output(values)


def _outcome(symbol: str, stored: dict | None, batch, due: dict, deferred: dict) -> tuple:
    """What is stored for the symbol (a new record, `KEEP_STORED`, or a record saying the events
    are not known yet), the record its figures show, and its status line."""
    if symbol in batch.fetched:
        fetched = batch.fetched[symbol]
        lost = lost_events(stored, fetched)
        if not lost:
            return fetched, fetched, f"fetched: {due[symbol]}"
        return KEEP_STORED, stored, (
            f"kept: the new answers no longer list {len(lost)} events on record "
            f"({first_few(lost, 3)}), so the record is trusted over them"
        )
    error: AlphaVantageError | None = batch.failures.get(symbol)
    if symbol in deferred:
        status = f"not fetched: {deferred[symbol]}"
    elif symbol not in due:
        status = f"not due: fetched {fetched_on(stored)}"
    elif error is None:
        status = "not fetched: the batch stopped before it (see the run's log)"
    else:
        status = f"not fetched: {error}"
    if stored is not None:
        return KEEP_STORED, stored, status
    unknown = {"symbol": symbol, "fetched_at": None, "status": status,
               "splits": [], "dividends": [], "quarantine": []}
    return unknown, unknown, status


def _report(context: dg.AssetExecutionContext, batch) -> None:
    for symbol, error in batch.failures.items():
        context.log.warning(f"corporate actions of {symbol} not fetched, the stored ones are "
                            f"kept: {error}")
    if batch.not_sent:
        context.log.warning(
            f"corporate actions of {len(batch.not_sent)} symbols were not asked for (the "
            f"batch stopped: {first_few(list(batch.failures.values()), 1)}); they are due "
            f"again at the next run: {first_few(batch.not_sent, 10)}"
        )
