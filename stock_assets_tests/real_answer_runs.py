"""Each real Alpha Vantage answer through a Dagster run of every asset, in a process of its own.

The watchlist (and so the partitions) is read when the definitions are imported, so the caller
sets STOCK_ASSETS_SYMBOLS to the manifest's symbols. Each answer gets a fresh folder, SQLite
warehouse and instance, and is served byte for byte by the loopback server. Prints one JSON line
per answer: the run's success, each check's outcome, the table's rows and the quarantined days.
"""

import argparse
import json
from pathlib import Path

import dagster as dg
import pandas as pd
import sqlalchemy as sa

from stock_assets.definitions import ASSETS, CHECKS
from stock_assets_tests import real_answers
from stock_assets_tests.conftest import make_resources

KEY = "real-answers-key"
COLUMNS = ["trade_date", "open", "high", "low", "close", "volume", "adjusted_close",
           "adjusted_open", "adjusted_high", "adjusted_low", "dividend_amount",
           "split_coefficient"]


def table_rows(database: Path, symbol: str) -> list[dict]:
    engine = sa.create_engine(f"sqlite:///{database}")
    query = sa.text(
        f"SELECT {', '.join(COLUMNS)} FROM daily_prices WHERE symbol = :s ORDER BY trade_date"
    )
    with engine.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(query, {"s": symbol})]
    engine.dispose()
    return [{k: (str(v) if k == "trade_date" else v) for k, v in row.items()} for row in rows]


def run(folder: Path, base_url: str, entry: dict) -> dict:
    resources = make_resources(
        api_key=KEY, base_url=f"{base_url}/{entry['id']}/query",
        storage_url=str(folder / "objects"), database_url=f"sqlite:///{folder / 'db.sqlite'}",
        requests_per_second=0, requests_per_minute=0, requests_per_day=0,
        premium=entry["function"] == "TIME_SERIES_DAILY_ADJUSTED",
        datatype=entry["datatype"],
    )
    with dg.instance_for_test() as instance:
        result = dg.materialize([*ASSETS, *CHECKS], resources=resources, instance=instance,
                                partition_key=entry["symbol"], raise_on_error=False)
    quarantines = list((folder / "objects" / "quarantined_price_rows").glob(f"{entry['symbol']}.*"))
    quarantined = pd.read_csv(quarantines[0], dtype=str) if quarantines else pd.DataFrame()
    return {
        "id": entry["id"],
        "success": result.success,
        "checks": {e.check_name: e.passed for e in result.get_asset_check_evaluations()},
        "table": table_rows(folder / "db.sqlite", entry["symbol"]) if result.success else [],
        "quarantined_days": quarantined.get("trade_date", pd.Series(dtype=str)).tolist(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("tmp", type=Path)
    args = parser.parse_args()
    with real_answers.verbatim_server(KEY) as base_url:
        for entry in real_answers.DATA:
            print(json.dumps(run(args.tmp / entry["id"], base_url, entry)), flush=True)


if __name__ == "__main__":
    main()
