"""The S3 ↔ table reconciliation check on `daily_prices_table`."""

from collections.abc import Iterator

import dagster as dg
import pandas as pd

from stock_assets.asset_keys import TABLE_KEY
from stock_assets.check_results import check_results_by_partition
from stock_assets.database.resource import DatabaseResource
from stock_assets.warehouse.reconcile import reconcile, table_rows


def build_table_check(table: dg.AssetsDefinition) -> dg.AssetChecksDefinition:
    """The reconciliation check on the table asset, over the table's partitions."""
    return dg.asset_check(
        asset=table,
        partitions_def=table.partitions_def,
        additional_ins={"cleaned_daily_prices": dg.AssetIn("cleaned_daily_prices")},
        description="The table's rows for the symbol equal the stored cleaned history: same "
        "count, same order-independent checksum of all values; the first differing days are "
        "listed.",
    )(table_matches_stored_prices)


def table_matches_stored_prices(
    context: dg.AssetCheckExecutionContext,
    cleaned_daily_prices: dict[str, pd.DataFrame],
    database: DatabaseResource,
) -> Iterator[dg.Output | dg.AssetCheckEvaluation]:
    engine = database.get_engine()
    results = {}
    for symbol, stored in cleaned_daily_prices.items():
        found = reconcile(table_rows(engine, symbol), stored)
        results[symbol] = [
            dg.AssetCheckResult(
                asset_key=TABLE_KEY,
                check_name="table_matches_stored_prices",
                passed=found.matches,
                metadata=found.as_metadata(),
            )
        ]
    yield from check_results_by_partition(context, results)
