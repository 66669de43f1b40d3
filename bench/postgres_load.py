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
import os
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
import psycopg
import sqlalchemy as sa

from bench.figures import row_count
from bench.price_data import (
    binary_copy_data,
    csv_copy_data,
    flat_frame,
    lineages,
    price_histories,
    refresh_of,
)
from stock_assets.database.migrations import ensure_schema
from stock_assets.warehouse.load import LoadStats, load_prices
from stock_assets.warehouse.rows import COLUMNS

SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TARGET_VS_COPY = 0.5
TARGET_VS_TO_SQL = 20.0
UPSERT = (
    f"INSERT INTO daily_prices ({', '.join(COLUMNS)}) VALUES ({', '.join(['%s'] * len(COLUMNS))}) "
    "ON CONFLICT (symbol, trade_date) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS[2:])
)


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
