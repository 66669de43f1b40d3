"""What the atomic object store costs over a plain write, on a local folder and on S3 (moto).

Builds a realistic daily-prices frame (`--rows`, default 1 M: hundreds of symbols by ten years of
business days; symbol, trade_date as date32, open/high/low/close float64, volume int64) and
measures in one run, as medians of `--repeat` interleaved runs:

(a) the IO manager's Parquet path, `Format.encode` + `LocalFolderStore.put` (temp file, fsync,
    rename, folder fsync, SHA-256 xattr) as `handle_output` does it, against
    `pyarrow.parquet.write_table` of the same table into the same folder.
    Target: at least 0.8 times the raw throughput;
(b) `S3Store.put` of the same Parquet bytes against a single `put_object` of them, on a moto
    server started here on a free port. Target: at most 1.15 times the time of `put_object`;
(c) the old "atomic" pattern (put a temporary key, `copy_object` it, delete it) against the
    same `put_object`, for contrast.

    .venv/bin/python -m bench.io_manager
    .venv/bin/python -m bench.io_manager --rows 10M --repeat 3
"""

import argparse
import logging
import statistics
import string
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import boto3
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from moto.server import ThreadedMotoServer

from bench.figures import row_count, verdict
from bench.ports import free_port
from stock_assets.storage.formats import get_format
from stock_assets.storage.local import LocalFolderStore
from stock_assets.storage.s3 import S3Store

TARGET_LOCAL_THROUGHPUT = 0.8
TARGET_S3_TIME = 1.15
BUSINESS_DAYS = 2520
KEY = "cleaned_daily_prices/ALL.parquet"


def daily_prices(rows: int, seed: int = 7) -> pd.DataFrame:
    """`rows` rows of random-walk prices, four decimals like Alpha Vantage's, by symbol and day."""
    rng = np.random.default_rng(seed)
    symbols = max(1, -(-rows // BUSINESS_DAYS))
    letters = np.array(list(string.ascii_uppercase))
    names = sorted({"".join(rng.choice(letters, 4)) for _ in range(symbols * 2)})[:symbols]
    days = pd.bdate_range("2015-01-02", periods=BUSINESS_DAYS).date
    symbol = np.repeat(names, BUSINESS_DAYS)[:rows]
    trade_date = np.tile(days, symbols)[:rows]
    start = np.repeat(rng.uniform(5, 500, symbols), BUSINESS_DAYS)[:rows]
    close = np.round(start * np.exp(rng.normal(0, 0.01, rows).cumsum() * 0.1), 4)
    spread = np.abs(rng.normal(0, 0.01, rows)) * close
    return pd.DataFrame({
        "symbol": symbol,
        "trade_date": pd.array(trade_date, dtype=pd.ArrowDtype(pa.date32())),
        "open": np.round(close + rng.normal(0, 0.3, rows) * spread, 4),
        "high": np.round(close + spread, 4),
        "low": np.round(close - spread, 4),
        "close": close,
        "volume": rng.integers(10_000, 50_000_000, rows).astype("int64"),
    })


def interleaved_medians(steps: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median seconds per step; every step runs once per round, so drift hits them alike."""
    for step in steps.values():  # warm-up: caches, connections, first-touch allocations
        step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeat):
        for name, step in steps.items():
            started = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def report(medians: dict[str, float], size: int) -> None:
    for name, seconds in medians.items():
        print(f"  {name:<52} {seconds * 1000:8.1f} ms  {size / seconds / 1e6:8.1f} MB/s")


def bench_local(frame: pd.DataFrame, table: pa.Table, data: bytes, repeat: int) -> None:
    parquet = get_format("parquet")
    with tempfile.TemporaryDirectory() as folder:
        store = LocalFolderStore(folder)
        raw_path = Path(folder) / "raw.parquet"
        medians = interleaved_medians({
            "IO manager path: Format.encode + LocalFolderStore.put": lambda: store.put(
                KEY, parquet.encode(frame), content_type=parquet.content_type
            ),
            "raw pq.write_table(table)": lambda: pq.write_table(table, raw_path),
            "raw pq.write_table(Table.from_pandas(frame))": lambda: pq.write_table(
                pa.Table.from_pandas(frame, preserve_index=False), raw_path
            ),
        }, repeat)
    print(f"(a) local folder {folder}")
    report(medians, len(data))
    io_path, raw_table, raw_frame = medians.values()
    ratio = raw_table / io_path
    print(f"  throughput, IO manager path ÷ raw write_table(table): {ratio:5.2f}   "
          f"{verdict(ratio, TARGET_LOCAL_THROUGHPUT, at_most=False)}")
    print(f"  throughput, IO manager path ÷ raw incl. from_pandas:   {raw_frame / io_path:5.2f}")


def bench_s3(data: bytes, repeat: int) -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        client = boto3.client(
            "s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
            aws_access_key_id="bench", aws_secret_access_key="bench",  # noqa: S106 (moto)
        )
        client.create_bucket(Bucket="bench")
        store = S3Store(client, "bench", "assets")  # the thresholds the resource uses

        def old_pattern() -> None:
            client.put_object(Bucket="bench", Key=f"assets/{KEY}.tmp", Body=data)
            client.copy_object(Bucket="bench", Key=f"assets/{KEY}",
                               CopySource={"Bucket": "bench", "Key": f"assets/{KEY}.tmp"})
            client.delete_object(Bucket="bench", Key=f"assets/{KEY}.tmp")

        medians = interleaved_medians({
            "single put_object": lambda: client.put_object(
                Bucket="bench", Key=f"assets/{KEY}", Body=data
            ),
            "S3Store.put (SHA-256 checksum + metadata)": lambda: store.put(
                KEY, data, content_type="application/vnd.apache.parquet"
            ),
            "old pattern: put tmp key + copy_object + delete": old_pattern,
        }, repeat)
    finally:
        server.stop()
    print(f"(b, c) S3 on moto's server, port {port}; multipart above "
          f"{store.multipart_threshold >> 20} MiB")
    report(medians, len(data))
    put, atomic, old = medians.values()
    print(f"(b) time, S3Store.put ÷ put_object:      {atomic / put:5.2f}   "
          f"{verdict(atomic / put, TARGET_S3_TIME, at_most=True)}")
    print(f"(c) time, tmp + copy + delete ÷ put_object: {old / put:5.2f}   (for contrast)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=row_count, default=1_000_000, help="e.g. 1M, 250k")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    started = time.perf_counter()
    frame = daily_prices(args.rows)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    data = get_format("parquet").encode(frame)
    print(f"{len(frame):,} rows, {frame['symbol'].nunique():,} symbols; Parquet "
          f"{len(data) / 1e6:,.1f} MB (built in {time.perf_counter() - started:.1f} s); "
          f"medians of {args.repeat} runs")
    bench_local(frame, table, data, args.repeat)
    bench_s3(data, args.repeat)


if __name__ == "__main__":
    main()
