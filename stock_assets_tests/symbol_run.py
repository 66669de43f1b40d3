"""One Dagster run of one symbol, in a process of its own, fed an answer by the loopback server.

The watchlist, and so the partitions, is read when the definitions are imported: a symbol outside
the default watchlist needs a fresh process with STOCK_ASSETS_SYMBOLS naming it. Prints one JSON
line: whether the run succeeded, each check's outcome, the table's days for the symbol and the
quarantined days stored::

    STOCK_ASSETS_SYMBOLS=GPV.TRV python stock_assets_tests/symbol_run.py TMP SYMBOL ANSWER.json.gz
"""

import argparse
import gzip
import io
import json
from pathlib import Path

import dagster as dg
import pandas as pd
import sqlalchemy as sa

from stock_assets.alphavantage.api import DAILY_ADJUSTED
from stock_assets.alphavantage.sample import SampleAnswers
from stock_assets.alphavantage.sample_server import SampleServer
from stock_assets.definitions import ASSETS
from stock_assets_tests.helpers import loopback_resources


def table_days(database: str, symbol: str) -> list[str]:
    engine = sa.create_engine(database)
    query = sa.text("SELECT trade_date FROM daily_prices WHERE symbol = :s ORDER BY trade_date")
    with engine.connect() as connection:
        days = [str(day) for (day,) in connection.execute(query, {"s": symbol})]
    engine.dispose()
    return days


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("tmp", type=Path)
    parser.add_argument("symbol")
    parser.add_argument("answer", type=Path, help="a gzipped TIME_SERIES_DAILY_ADJUSTED answer")
    parser.add_argument("--storage-url", help="default: a folder under TMP")
    parser.add_argument("--database-url", help="default: a SQLite file under TMP")
    args = parser.parse_args()
    backend = {k: v for k, v in {"storage_url": args.storage_url,
                                 "database_url": args.database_url}.items() if v}
    payload = json.loads(gzip.decompress(args.answer.read_bytes()))
    answers = SampleAnswers(extra={(DAILY_ADJUSTED, args.symbol): payload})
    with SampleServer(answers) as server, dg.instance_for_test() as instance:
        result = dg.materialize(
            ASSETS,
            resources=(resources := loopback_resources(args.tmp, server, premium=True, **backend)),
            instance=instance,
            partition_key=args.symbol,
            raise_on_error=False,
        )
    store = resources["object_store"].get_store()
    quarantine = store.get(f"quarantined_price_rows/{args.symbol}.csv").data
    quarantined = pd.read_csv(io.BytesIO(quarantine), dtype=str)
    print(json.dumps({
        "success": result.success,
        "checks": {e.check_name: e.passed for e in result.get_asset_check_evaluations()},
        "table_days": table_days(resources["database"].url, args.symbol),
        "quarantined_days": quarantined["trade_date"].tolist(),
    }))


if __name__ == "__main__":
    main()
