"""Each real Alpha Vantage answer through a Dagster run of every asset, in a process of its own.

The watchlist (and so the partitions) is read when the definitions are imported, so the caller
sets STOCK_ASSETS_SYMBOLS to the manifest's symbols. Each answer gets a fresh store, warehouse and
instance (a folder and SQLite, or what `--backends` names per answer id: an S3 prefix and a
PostgreSQL database), and is served byte for byte by the loopback server. Prints one JSON line per
answer: the run's success, each check's outcome, the table's rows and the quarantined days.
"""

import argparse
import io
import json
from pathlib import Path

import dagster as dg
import pandas as pd
import sqlalchemy as sa

from stock_assets.definitions import ASSETS
from stock_assets_tests import real_answers
from stock_assets_tests.helpers import make_resources

KEY = "real-answers-key"
COLUMNS = ["trade_date", "open", "high", "low", "close", "volume", "adjusted_close",
           "adjusted_open", "adjusted_high", "adjusted_low", "dividend_amount",
           "split_coefficient"]


def table_rows(database_url: str, symbol: str) -> list[dict]:
    engine = sa.create_engine(database_url)
    query = sa.text(
        f"SELECT {', '.join(COLUMNS)} FROM daily_prices WHERE symbol = :s ORDER BY trade_date"
    )
    with engine.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(query, {"s": symbol})]
    engine.dispose()
    return [{k: (str(v) if k == "trade_date" else v) for k, v in row.items()} for row in rows]


def run(folder: Path, base_url: str, entry: dict, backend: dict) -> dict:
    resources = make_resources(
        api_key=KEY, base_url=f"{base_url}/{entry['id']}/query",
        **{"storage_url": str(folder / "objects"),
           "database_url": f"sqlite:///{folder / 'db.sqlite'}", **backend},
        requests_per_second=0, requests_per_minute=0, requests_per_day=0,
        premium=entry["function"] == "TIME_SERIES_DAILY_ADJUSTED",
        datatype=entry["datatype"],
    )
    with dg.instance_for_test() as instance:
        result = dg.materialize(ASSETS, resources=resources, instance=instance,
                                partition_key=entry["symbol"], raise_on_error=False)
    evaluations = result.get_asset_check_evaluations()
    store = resources["object_store"].get_store()
    key = f"quarantined_price_rows/{entry['symbol']}.csv"
    quarantined = (
        pd.read_csv(io.BytesIO(store.get(key).data), dtype=str) if store.head(key) else None
    )
    return {
        "id": entry["id"],
        "success": result.success,
        "checks": {e.check_name: e.passed for e in evaluations},
        "adjusted_close": next(
            ({k: v.value for k, v in e.metadata.items()} for e in evaluations
             if e.check_name == "adjusted_close_matches_actions"), None,
        ),
        "table": table_rows(resources["database"].url, entry["symbol"]) if result.success else [],
        "quarantined_days": [] if quarantined is None else quarantined["trade_date"].tolist(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("tmp", type=Path)
    parser.add_argument("--backends", type=json.loads, default={},
                        help='JSON: {"D01": {"storage_url": ..., "database_url": ...}, ...}')
    args = parser.parse_args()
    with real_answers.verbatim_server(KEY) as base_url:
        for entry in real_answers.DATA:
            backend = args.backends.get(entry["id"], {})
            print(json.dumps(run(args.tmp / entry["id"], base_url, entry, backend)), flush=True)


if __name__ == "__main__":
    main()
