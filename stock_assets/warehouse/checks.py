"""The S3 ↔ table reconciliation check on `daily_prices_table`, judged in the load's own step.

The step has just read every loaded history from the object store (its checksum verified on
read) and committed it: the check compares the table, read back in a few queries, with those
same histories, instead of a step of its own that fetched every object again.
"""

import dagster as dg
import pandas as pd
import sqlalchemy as sa

from stock_assets.asset_keys import TABLE_KEY
from stock_assets.warehouse.reconcile import reconcile, table_rows_by_symbol

CHECK_NAME = "table_matches_stored_prices"


def table_check_spec(partitions: dg.PartitionsDefinition) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        CHECK_NAME,
        asset=TABLE_KEY,
        partitions_def=partitions,
        description="The table's rows for the symbol equal the stored cleaned history: same "
        "count, same order-independent checksum of all values; the first differing days are "
        "listed.",
    )


def table_matches_stored_prices(
    engine: sa.Engine, histories: dict[str, pd.DataFrame]
) -> dict[str, list[dg.AssetCheckResult]]:
    """Each symbol's reconciliation of its rows in the table with its stored history."""
    in_table = table_rows_by_symbol(engine, sorted(histories))
    results = {}
    for symbol, stored in histories.items():
        found = reconcile(in_table[symbol], stored)
        results[symbol] = [
            dg.AssetCheckResult(
                asset_key=TABLE_KEY,
                check_name=CHECK_NAME,
                passed=found.matches,
                metadata=found.as_metadata(),
            )
        ]
    return results
