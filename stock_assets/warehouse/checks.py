"""The S3 ↔ table reconciliation check on `daily_prices_table`."""

import dagster as dg
import pandas as pd

from stock_assets.partitions import symbols_partitions
from stock_assets.warehouse.assets import daily_prices_table
from stock_assets.warehouse.reconcile import reconcile, table_rows
from stock_assets.warehouse.resources import DatabaseResource


@dg.asset_check(
    asset=daily_prices_table,
    partitions_def=symbols_partitions,
    additional_ins={"cleaned_daily_prices": dg.AssetIn("cleaned_daily_prices")},
    description="The table's rows for the symbol equal the stored cleaned history: same count, "
    "same order-independent checksum of all values; the first differing days are listed.",
)
def table_matches_stored_prices(
    context: dg.AssetCheckExecutionContext,
    cleaned_daily_prices: dict[str, pd.DataFrame],
    database: DatabaseResource,
) -> dg.AssetCheckResult:
    engine = database.get_engine()
    results = {
        symbol: reconcile(table_rows(engine, symbol), stored)
        for symbol, stored in cleaned_daily_prices.items()
    }
    mismatched = sorted(s for s, r in results.items() if not r.matches)
    if len(results) == 1:
        metadata = next(iter(results.values())).as_metadata()
    else:
        metadata = {
            "symbols": len(results),
            "mismatched": ", ".join(mismatched) or "none",
            "details": dg.MetadataValue.json({s: r.as_metadata() for s, r in results.items()}),
        }
    return dg.AssetCheckResult(passed=not mismatched, metadata=metadata)
