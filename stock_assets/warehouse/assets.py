"""The `daily_prices` table asset: the cleaned histories, served from the database."""

import dagster as dg
import pandas as pd

from stock_assets.partitions import symbols_partitions
from stock_assets.warehouse.load import Lineage, load_prices
from stock_assets.warehouse.migrations import ensure_schema
from stock_assets.warehouse.resources import DatabaseResource


@dg.asset(
    partitions_def=symbols_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="warehouse",
    kinds={"postgres", "sqlite"},
    owners=["team:data-engineering"],
    metadata={"table": "daily_prices"},
    code_version="1",
)
def daily_prices_table(
    context: dg.AssetExecutionContext,
    cleaned_daily_prices: dict[str, pd.DataFrame],
    database: DatabaseResource,
) -> dg.MaterializeResult:
    """Table `daily_prices` (primary key symbol, trade_date): each symbol's rows made equal to its
    cleaned history in one transaction; re-running writes nothing."""
    database.check_connection()
    engine = database.get_engine()
    revision = ensure_schema(engine, migrate=database.auto_migrate)
    lineage = {
        symbol: Lineage(
            source_uri=frame.attrs.get("source", {}).get("uri", "unknown"),
            source_version=frame.attrs.get("source", {}).get("sha256", "unknown"),
            run_id=context.run_id,
        )
        for symbol, frame in cleaned_daily_prices.items()
    }
    stats = load_prices(engine, cleaned_daily_prices, lineage)
    context.log.info(
        f"daily_prices in {database.describe()}: {stats.inserted} inserted, {stats.updated} "
        f"updated, {stats.deleted} deleted, {stats.unchanged} unchanged"
    )
    return dg.MaterializeResult(
        metadata={
            **stats.as_metadata(),
            "database": database.describe(),
            "schema_revision": revision,
        }
    )
