"""The jobs, in one place: what the schedule, the quota sensor, the UI and `stock-assets` run.

The schedule and the sensor name their job (`REFRESH_RAW_QUOTES`) instead of importing it, so the
ingest stage does not import the stages after it; the definitions resolve the name.
"""

import dagster as dg

from stock_assets.asset_keys import CLEANED_KEY, QUARANTINE_KEY
from stock_assets.ingest.assets import REFRESH_RAW_QUOTES, raw_quotes
from stock_assets.partitions import symbol_partitions
from stock_assets.prices.assets import cleaned_daily_prices
from stock_assets.warehouse.assets import daily_prices_table

refresh_raw_quotes = dg.define_asset_job(
    REFRESH_RAW_QUOTES,
    selection=dg.AssetSelection.assets(raw_quotes),
    partitions_def=symbol_partitions,
    description="Fetch the latest answers for a range of watchlist symbols.",
)
refresh_all = dg.define_asset_job(
    "refresh_all",
    selection=dg.AssetSelection.assets(raw_quotes.key, CLEANED_KEY, QUARANTINE_KEY,
                                       daily_prices_table.key),
    partitions_def=symbol_partitions,
    description="Fetch, clean and load every asset for the selected symbols.",
)
replay = dg.define_asset_job(
    "replay",
    selection=dg.AssetSelection.assets(CLEANED_KEY, QUARANTINE_KEY, daily_prices_table.key),
    partitions_def=symbol_partitions,
    config={"ops": {cleaned_daily_prices.op.name: {"config": {"replay": True}}}},
    description="Rebuild the cleaned prices and the table from every archived answer of the "
    "selected symbols, oldest first; no request to Alpha Vantage.",
)

JOBS = [refresh_all, refresh_raw_quotes, replay]
