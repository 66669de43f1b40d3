"""dlt 1.x, the library a user would pick instead of stock_assets: one resource per run that asks
the Alpha Vantage server for each symbol and yields its rows, merged into Postgres on
(symbol, trade_date). As Python dicts, or as one Arrow table per symbol (dlt's fast path).

dlt loads into its Postgres destination only: no Parquet objects in S3 (its filesystem
destination would be a second pipeline). The refresh merges each compact answer whole (100 days
a symbol), as a `merge` resource does without an incremental cursor. Arrow tables reach Postgres
as CSV through COPY: dlt's Parquet path there needs the ADBC driver, which `dlt[postgres]` does
not install."""

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import dlt
import pyarrow as pa
import requests

from bench.hand_script import FIELDS

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")  # no network but the bench's
DATASET, TABLE = "peers", "daily_prices"


def answers(url: str, symbols: list[str], outputsize: str) -> Iterator[tuple[str, dict]]:
    """Each symbol's daily series, one request each."""
    with requests.Session() as session:
        for symbol in symbols:
            params = {"function": "TIME_SERIES_DAILY", "symbol": symbol,
                      "outputsize": outputsize, "apikey": "bench-key"}
            response = session.get(url, params=params, timeout=60)
            response.raise_for_status()
            yield symbol, response.json()["Time Series (Daily)"]


def as_dicts(symbol: str, series: dict) -> list[dict]:
    return [
        {"symbol": symbol, "trade_date": date.fromisoformat(day),
         **{name: float(row[field]) for field, name in FIELDS.items() if name != "volume"},
         "volume": int(row["5. volume"])}
        for day, row in series.items()
    ]


# The key columns not nullable, as dlt's schema has them (else it warns at every table).
ARROW_SCHEMA = pa.schema(
    [pa.field("symbol", pa.string(), nullable=False),
     pa.field("trade_date", pa.date32(), nullable=False)]
    + [pa.field(name, pa.float64()) for name in FIELDS.values() if name != "volume"]
    + [pa.field("volume", pa.int64())]
)


def as_arrow(symbol: str, series: dict) -> pa.Table:
    days = list(series)
    columns = [
        pa.array([float(series[day][field]) for day in days])
        for field, name in FIELDS.items() if name != "volume"
    ]
    return pa.Table.from_arrays([
        pa.array([symbol] * len(days)),
        pa.array(days).cast(pa.date32()),
        *columns,
        pa.array([int(series[day]["5. volume"]) for day in days], pa.int64()),
    ], schema=ARROW_SCHEMA)


def run(flavor: str, url: str, symbols: list[str], outputsize: str, dsn: str,
        pipelines_dir: Path) -> list[str]:
    """One dlt run: every symbol's answer merged into `peers.daily_prices`; the kinds of file
    dlt loaded (dicts go as INSERT statements, Arrow as CSV through COPY without ADBC)."""
    shape = as_arrow if flavor == "arrow" else as_dicts

    @dlt.resource(name=TABLE, write_disposition="merge", primary_key=("symbol", "trade_date"))
    def daily_prices() -> Iterator[object]:
        for symbol, series in answers(url, symbols, outputsize):
            yield shape(symbol, series)

    pipeline = dlt.pipeline(
        pipeline_name=f"peers_{flavor}",
        destination=dlt.destinations.postgres(credentials=dsn),
        dataset_name=DATASET,
        pipelines_dir=str(pipelines_dir),
    )
    info = pipeline.run(daily_prices())
    return sorted({
        job.job_file_info.file_format
        for package in info.load_packages for job in package.jobs["completed_jobs"]
    })
