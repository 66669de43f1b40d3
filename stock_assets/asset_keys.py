"""The assets' keys, one name each, for the code that refers to an asset it does not define."""

import dagster as dg

RAW_QUOTES_KEY = dg.AssetKey("raw_quotes")
ACTIONS_KEY = dg.AssetKey("corporate_actions")
CLEANED_KEY = dg.AssetKey("cleaned_daily_prices")
QUARANTINE_KEY = dg.AssetKey("quarantined_price_rows")
TABLE_KEY = dg.AssetKey("daily_prices_table")
