"""The `daily_prices` table asset: the cleaned histories, served from the database."""

from collections.abc import Iterator
from datetime import timedelta

import dagster as dg

from stock_assets.automation import FOLLOW_UPSTREAM
from stock_assets.catalog import GROUP, stage
from stock_assets.check_results import check_results_by_partition
from stock_assets.database.resource import DatabaseResource
from stock_assets.progress import Progress
from stock_assets.storage.history_store import StoredValue
from stock_assets.warehouse.checks import table_check_spec, table_matches_stored_prices
from stock_assets.warehouse.load import Lineage, LoadTimeouts, SymbolLoadStats, load_prices

# Loaded on every NYSE weekday between 16:00 (the close) and 20:00 New York time.
FRESH_AFTER_CLOSE = dg.FreshnessPolicy.cron(
    deadline_cron="0 20 * * 1-5", lower_bound_delta=timedelta(hours=4), timezone="America/New_York"
)


def build_daily_prices_table(
    partitions: dg.PartitionsDefinition, database_kind: str
) -> dg.AssetsDefinition:
    """The table asset, one partition per watchlist symbol, showing the configured database as
    its kind ("postgres" or "sqlite")."""
    return dg.asset(
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name=GROUP,
        tags=stage("warehouse"),
        kinds={database_kind},
        owners=["team:data-engineering"],
        metadata={"table": "daily_prices"},
        code_version="1",
        automation_condition=FOLLOW_UPSTREAM,
        freshness_policy=FRESH_AFTER_CLOSE,
        check_specs=[table_check_spec(partitions)],
    )(daily_prices_table)


def daily_prices_table(
    context: dg.AssetExecutionContext,
    cleaned_daily_prices: dict[str, StoredValue],
    database: DatabaseResource,
) -> Iterator[dg.MaterializeResult | dg.Output | dg.AssetCheckEvaluation]:
    """Table `daily_prices` (primary key symbol, trade_date): each symbol's rows made equal to its
    cleaned history in one transaction; re-running writes nothing. Each row records the stored
    object it came from and that object's checksum (its lineage). Once committed, the table is
    read back and reconciled with the histories (`table_matches_stored_prices`)."""
    engine = database.get_engine()
    histories = {symbol: stored.value for symbol, stored in cleaned_daily_prices.items()}
    lineage = {
        symbol: Lineage(
            source_uri=stored.version.uri,
            source_sha256=stored.version.sha256,
            run_id=context.run_id,
        )
        for symbol, stored in cleaned_daily_prices.items()
    }
    progress = Progress(context.log, len(histories))

    def sent(symbol: str, rows: int) -> None:
        progress.step(f"daily_prices: {symbol}", f"sent, {rows} rows")

    timeouts = LoadTimeouts(database.lock_timeout_seconds, database.statement_timeout_seconds)
    stats = load_prices(engine, histories, lineage, on_symbol=sent, timeouts=timeouts)
    context.log.info(
        f"daily_prices in {database.describe()}: {stats.inserted} inserted, {stats.updated} "
        f"updated, {stats.deleted} deleted, {stats.unchanged} unchanged; committed, "
        f"{progress.elapsed:.1f} s elapsed"
    )

    summary = dg.MetadataValue.table(
        [dg.TableRecord(row) for row in stats.summary(limit=20)],
        dg.TableSchema(
            [
                dg.TableColumn("symbol"),
                dg.TableColumn("first_trade_date", "date"),
                dg.TableColumn("last_trade_date", "date"),
                *(dg.TableColumn(name, "int") for name in SymbolLoadStats.COUNTS),
            ]
        ),
    )
    yield dg.MaterializeResult(
        metadata={
            **stats.as_metadata(),
            "database": database.describe(),
            "schema_revision": database.schema_revision(),
            "summary": summary,
        }
    )
    # Recorded by now (a result is handled when yielded), so each check names its symbol's
    # materialization.
    yield from check_results_by_partition(
        context, table_matches_stored_prices(engine, histories)
    )

