"""The jobs, in one place: what the schedule, the quota sensor, the UI and `stock-assets` run.

The schedule and the sensor name their job (`REFRESH_RAW_QUOTES`) instead of importing it, so the
ingest stage does not import the stages after it; the definitions resolve the name.
"""

import dagster as dg

from stock_assets.asset_keys import (
    ACTIONS_KEY,
    CLEANED_KEY,
    QUARANTINE_KEY,
    RAW_QUOTES_KEY,
    TABLE_KEY,
)
from stock_assets.ingest.assets import REFRESH_RAW_QUOTES

CLEANED_OP = "cleaned_daily_prices"  # the op behind the cleaned prices and their quarantine


def build_jobs(partitions: dg.PartitionsDefinition) -> list:
    """`refresh_all`, `refresh_raw_quotes` and `replay`, over the watchlist's partitions."""
    return [
        dg.define_asset_job(
            "refresh_all",
            selection=dg.AssetSelection.assets(
                RAW_QUOTES_KEY, ACTIONS_KEY, CLEANED_KEY, QUARANTINE_KEY, TABLE_KEY
            ),
            partitions_def=partitions,
            description="Fetch, clean and load every asset for the selected symbols.",
        ),
        dg.define_asset_job(
            REFRESH_RAW_QUOTES,
            selection=dg.AssetSelection.assets(RAW_QUOTES_KEY),
            partitions_def=partitions,
            description="Fetch the latest answers for a range of watchlist symbols.",
        ),
        dg.define_asset_job(
            "replay",
            selection=dg.AssetSelection.assets(CLEANED_KEY, QUARANTINE_KEY, TABLE_KEY),
            partitions_def=partitions,
            config={"ops": {CLEANED_OP: {"config": {"replay": True}}}},
            description="Rebuild the cleaned prices and the table from every archived answer of "
            "the selected symbols, oldest first; no request to Alpha Vantage.",
        ),
    ]
