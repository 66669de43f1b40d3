"""How fast `load_prices` fills `daily_prices`, next to raw COPY and the usual alternatives.

Creates a throwaway database on the server (dropped at the end), builds realistic cleaned
histories (thousands of symbols x years of business days, in the cleaned frames' columns and
types; every other symbol with the adjusted-plan columns) and measures, in one run on the same
server, each step on an empty, checkpointed table:

- raw COPY of all rows into the empty table, the limit: the rows are encoded before the clock
  starts, both as binary and as CSV, and the faster COPY is the one the loader is held to;
- `load_prices`, first load (empty table);
- `load_prices`, refresh: half the rows stored, a tenth of those revised. Either each
  history's older half is stored (it grew since the last load: the new days come after the
  last stored one) or every other day is (the new days fall between stored ones);
- psycopg `executemany` upsert (`INSERT … ON CONFLICT DO UPDATE`), on a sample;
- `pandas.to_sql(method="multi")`, on a sample.

Rates are rows of the input per second, medians of `--repeat` rounds in which the steps take
turns; the ratios to raw COPY are the loader's targets.

    .venv/bin/python -m bench.postgres_load               # 1 M rows
    .venv/bin/python -m bench.postgres_load --rows 10M
"""

import argparse
import hashlib
import io
import os
import statistics
import string
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa

from stock_assets.database.migrations import ensure_schema
from stock_assets.prices import schema as prices
from stock_assets.warehouse.copy_encoding import COPY_HEADER, COPY_TRAILER, binary_copy_rows
from stock_assets.warehouse.load import Lineage, LoadStats, load_prices
from stock_assets.warehouse.rows import COLUMNS, STAGED_COLUMNS, SymbolRows

SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TARGET_VS_COPY = 0.5
TARGET_VS_TO_SQL = 20.0
UPSERT = (
    f"INSERT INTO daily_prices ({', '.join(COLUMNS)}) VALUES ({', '.join(['%s'] * len(COLUMNS))}) "
    "ON CONFLICT (symbol, trade_date) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS[2:])
)


def row_count(text: str) -> int:
    """'1M', '10M', '250k' or a plain number."""
    text = text.strip().lower().replace("_", "")
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


def price_histories(rows: int, days: int, seed: int) -> dict[str, pd.DataFrame]:
    """Cleaned histories of rows // days symbols over the same `days` business days: random-walk
    prices, log-normal volumes, and on every other symbol the adjusted-plan columns."""
    rng = np.random.default_rng(seed)
    symbols: set[str] = set()
    while len(symbols) < max(1, rows // days):
        symbols.add("".join(rng.choice(list(string.ascii_uppercase), rng.integers(1, 6))))
    trading_days = pd.bdate_range("2016-01-04", periods=days)
    histories = {}
    for i, symbol in enumerate(sorted(symbols)):
        close = rng.uniform(5, 500) * np.exp(np.cumsum(rng.normal(0, 0.02, days)))
        open_ = close * np.exp(rng.normal(0, 0.01, days))
        frame = pd.DataFrame(
            {
                "symbol": symbol,
                "trade_date": trading_days,
                "open": open_.round(4),
                "high": (np.maximum(open_, close) * (1 + rng.uniform(0, 0.02, days))).round(4),
                "low": (np.minimum(open_, close) * (1 - rng.uniform(0, 0.02, days))).round(4),
                "close": close.round(4),
                "volume": rng.lognormal(13, 1.5, days).astype("int64"),
            }
        )
        if i % 2 == 0:
            dividend = rng.random(days) < 0.016
            frame["adjusted_close"] = (close * rng.uniform(0.9, 1.0)).round(6)
            frame["dividend_amount"] = np.where(dividend, rng.uniform(0.05, 1.5, days), 0.0)
            frame["split_coefficient"] = np.where(rng.random(days) < 0.0005, 2.0, 1.0)
        histories[symbol] = prices.conform(frame)
    return histories


def lineages(histories: dict[str, pd.DataFrame]) -> dict[str, Lineage]:
    run_id = str(uuid.uuid4())
    return {
        symbol: Lineage(
            f"s3://stock-assets/cleaned/daily_prices/{symbol}.parquet",
            hashlib.sha256(symbol.encode()).hexdigest(),
            run_id,
        )
        for symbol in histories
    }


@dataclass(frozen=True)
class Refresh:
    """The stored half of each history, and the histories with a tenth of that half revised."""

    name: str
    stored: dict[str, pd.DataFrame]
    revised: dict[str, pd.DataFrame]
    changed: int


def refresh_of(histories: dict[str, pd.DataFrame], seed: int, *, interleaved: bool) -> Refresh:
    """Each history's older half stored, or with `interleaved` every other day."""
    rng = np.random.default_rng(seed + 1)
    stored, revised, changed = {}, {}, 0
    for symbol, frame in histories.items():
        days = np.arange(0, len(frame), 2) if interleaved else np.arange(len(frame) // 2)
        stored[symbol] = frame.iloc[days]
        frame = frame.copy()
        days = rng.choice(days, size=len(days) // 10, replace=False)
        frame.loc[days, "close"] = (frame.loc[days, "close"] * 1.01).round(4)
        revised[symbol], changed = frame, changed + len(days)
    name = "every other day stored" if interleaved else "older half stored"
    return Refresh(name, stored, revised, changed)


def flat_frame(histories: dict[str, pd.DataFrame], lineage: dict[str, Lineage]) -> pd.DataFrame:
    """All rows with all table columns, as a `to_sql` or `executemany` caller would hold them."""
    frame = pd.concat(histories.values(), ignore_index=True).reindex(columns=STAGED_COLUMNS)
    frame["symbol"] = frame["symbol"].astype(str)
    frame["trade_date"] = frame["trade_date"].to_numpy(dtype="datetime64[D]").astype(object)
    for name in ["source_uri", "source_sha256", "run_id"]:
        frame[name] = frame["symbol"].map({s: getattr(x, name) for s, x in lineage.items()})
    frame["loaded_at"] = pd.Timestamp.now(tz="UTC")
    return frame


def binary_copy_data(histories: dict[str, pd.DataFrame], lineage: dict[str, Lineage]) -> bytes:
    """All rows in binary COPY format, by the loader's own encoder (the fastest at hand)."""
    loaded_at = datetime.now(UTC)
    parts = [COPY_HEADER]
    for symbol, frame in histories.items():
        rows = SymbolRows.from_frame(symbol, frame, lineage[symbol])
        parts.extend(c.tobytes() for c in binary_copy_rows(rows.copy_fields(loaded_at), len(rows)))
    return b"".join([*parts, COPY_TRAILER])


def csv_copy_data(frame: pd.DataFrame) -> bytes:
    """All rows as CSV, by pyarrow's writer (six times faster than pandas')."""
    sink = io.BytesIO()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False))
    return sink.getvalue()


@dataclass
class Step:
    """One measured way of loading: `run` times `rows` rows, after `setup` fills the table."""

    name: str
    rows: int
    run: Callable[[], object]
    setup: Callable[[], object] | None = None
    seconds: list[float] = field(default_factory=list)
    outcome: str = ""

    @property
    def rate(self) -> float:
        return self.rows / statistics.median(self.seconds)


class Bench:
    """Steps timed on one database, each from an empty, checkpointed `daily_prices`; the steps
    take turns, round after round, so a slow spell of the machine hits them all alike."""

    def __init__(self, url: str, repeat: int) -> None:
        self.engine = sa.create_engine(url)
        self.conninfo = sa.make_url(url).set(drivername="postgresql").render_as_string(False)
        self.repeat = repeat
        self.steps: dict[str, Step] = {}

    def admin(self, *statements: str) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as connection:
            for statement in statements:
                connection.execute(statement)

    def run(self) -> None:
        for round_ in range(self.repeat):
            print(f"  round {round_ + 1} of {self.repeat} …", flush=True)
            for step in self.steps.values():
                self.admin("TRUNCATE daily_prices")
                if step.setup is not None:
                    step.setup()
                    self.admin("VACUUM ANALYZE daily_prices")
                self.admin("CHECKPOINT")
                os.sync()  # the previous step's writes, still in the page cache, land now
                started = time.perf_counter()
                outcome = step.run()
                step.seconds.append(time.perf_counter() - started)
                if isinstance(outcome, LoadStats):
                    step.outcome = (
                        f"{outcome.inserted:,} inserted, {outcome.updated:,} updated, "
                        f"{outcome.deleted:,} deleted, {outcome.unchanged:,} unchanged"
                    )
        for step in self.steps.values():
            spread = f"{min(step.seconds):.2f}-{max(step.seconds):.2f} s"
            print(f"  {step.name:<62} {step.rate:>9,.0f} rows/s  ({spread})  {step.outcome}")

    def copy(self, statement: str, data: bytes) -> None:
        with (
            psycopg.connect(self.conninfo) as connection,
            connection.cursor() as cursor,
            cursor.copy(statement) as copy,
        ):
            view = memoryview(data)
            for start in range(0, len(view), 4 << 20):
                copy.write(view[start : start + (4 << 20)])

    def upsert(self, frame: pd.DataFrame) -> None:
        records = frame[COLUMNS].astype(object).where(frame[COLUMNS].notna(), None)
        with psycopg.connect(self.conninfo) as connection, connection.cursor() as cursor:
            cursor.executemany(UPSERT, list(records.itertuples(index=False, name=None)))


def measure(bench: Bench, args: argparse.Namespace, histories: dict[str, pd.DataFrame]) -> None:
    lineage = lineages(histories)
    flat = flat_frame(histories, lineage)
    rows, columns = len(flat), ", ".join(COLUMNS)
    encoded = {"binary": binary_copy_data(histories, lineage), "csv": csv_copy_data(flat)}
    for form, data in encoded.items():
        bench.steps[f"copy {form}"] = Step(
            f"raw COPY, {form} ({len(data) / 1e6:,.0f} MB encoded beforehand)",
            rows,
            lambda form=form, data=data: bench.copy(
                f"COPY daily_prices ({columns}) FROM STDIN (FORMAT {form})", data
            ),
        )
    bench.steps["first load"] = Step(
        "load_prices, first load", rows, lambda: load_prices(bench.engine, histories, lineage)
    )
    for key, interleaved in [("refresh, appended", False), ("refresh, interleaved", True)]:
        refresh = refresh_of(histories, args.seed, interleaved=interleaved)
        bench.steps[key] = Step(
            f"load_prices, refresh: {refresh.name}, {refresh.changed:,} revised",
            rows,
            lambda refresh=refresh: load_prices(bench.engine, refresh.revised, lineage),
            setup=lambda refresh=refresh: load_prices(bench.engine, refresh.stored, lineage),
        )
    upsert = flat.sample(min(args.upsert_rows, rows), random_state=args.seed)
    bench.steps["upsert"] = Step(
        f"psycopg executemany upsert ({len(upsert):,} rows)",
        len(upsert),
        lambda: bench.upsert(upsert),
    )
    to_sql = flat.sample(min(args.to_sql_rows, rows), random_state=args.seed)
    bench.steps["to_sql"] = Step(
        f'pandas.to_sql(method="multi", chunksize=1000) ({len(to_sql):,} rows)',
        len(to_sql),
        lambda: to_sql.to_sql(
            "daily_prices",
            bench.engine,
            if_exists="append",
            index=False,
            method="multi",
            chunksize=1000,
        ),
    )
    bench.run()


def summarize(results: dict[str, Step]) -> None:
    form = max(["binary", "csv"], key=lambda form: results[f"copy {form}"].rate)
    copy = results[f"copy {form}"]
    print(f"\nratios (raw COPY: the {form} one, {copy.rate:,.0f} rows/s)")
    for key in ["first load", "refresh, appended", "refresh, interleaved"]:
        loader = results[key]
        for label, base, target in [
            ("raw COPY", copy, TARGET_VS_COPY),
            ('to_sql(method="multi")', results["to_sql"], TARGET_VS_TO_SQL),
            ("executemany upsert", results["upsert"], None),
        ]:
            ratio = loader.rate / base.rate
            verdict = ""
            if target is not None:
                verdict = f"target >= {target:g}x: " + ("met" if ratio >= target else "MISSED")
            print(f"  {key:<21} / {label:<23} {ratio:7.2f}x  {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=row_count, default=1_000_000, help="1M (default), 10M, …")
    parser.add_argument("--days", type=int, default=1000, help="business days per symbol")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of measurements")
    parser.add_argument("--upsert-rows", type=row_count, default=200_000)
    parser.add_argument("--to-sql-rows", type=row_count, default=20_000)
    parser.add_argument("--server", default=SERVER_URL, help="admin URL of the Postgres server")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    started = time.perf_counter()
    histories = price_histories(args.rows, args.days, args.seed)
    print(
        f"{sum(map(len, histories.values())):,} rows: {len(histories):,} symbols x {args.days} "
        f"business days (built in {time.perf_counter() - started:.1f} s); "
        f"medians of {args.repeat} rounds (min-max)",
        flush=True,
    )
    admin = sa.create_engine(args.server, isolation_level="AUTOCOMMIT")
    database = f"stock_assets_bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{database}"'))
    try:
        url = sa.make_url(args.server).set(database=database).render_as_string(False)
        migrator = sa.create_engine(url)
        ensure_schema(migrator)
        migrator.dispose()
        bench = Bench(url, args.repeat)
        try:
            measure(bench, args, histories)
        finally:
            bench.engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()
    summarize(bench.steps)


if __name__ == "__main__":
    main()
