"""Loading cleaned prices into `daily_prices`: stage, then one set-based merge, in one transaction.

After a load, the table's rows for each loaded symbol equal the cleaned history exactly: new
days inserted, changed days updated (unchanged rows are not rewritten, so their lineage stays
that of the run that last changed them), vanished days deleted. Postgres stages with binary
COPY and serializes loads of one symbol with an advisory lock (taken in symbol order, so loads
never deadlock); SQLite stages with a plain bulk insert. A failure anywhere rolls back all of it.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
import sqlalchemy as sa

from stock_assets.warehouse.schema import (
    LINEAGE_COLUMNS,
    VALUE_COLUMNS,
    daily_prices,
    lineage_columns,
    price_columns,
)

COLUMNS = ["symbol", "trade_date", *VALUE_COLUMNS, *LINEAGE_COLUMNS]


@dataclass(frozen=True)
class Lineage:
    """Where a symbol's cleaned history was read from."""

    source_uri: str
    source_version: str
    run_id: str


@dataclass(frozen=True)
class LoadStats:
    inserted: int
    updated: int
    deleted: int
    unchanged: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        total = self.inserted + self.updated + self.deleted + self.unchanged
        return total / self.seconds if self.seconds > 0 else 0.0

    def as_metadata(self) -> dict:
        return {
            "rows_inserted": self.inserted,
            "rows_updated": self.updated,
            "rows_deleted": self.deleted,
            "rows_unchanged": self.unchanged,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rows_per_second),
        }


class LoadError(RuntimeError):
    """A load that was rolled back; says which symbol and, where known, which day."""


def _staging_table() -> sa.Table:
    return sa.Table(
        "daily_prices_staging",
        sa.MetaData(),
        *price_columns(),
        *lineage_columns(),
        sa.PrimaryKeyConstraint("symbol", "trade_date"),
        prefixes=["TEMPORARY"],
    )


def staged_rows(histories: dict[str, pd.DataFrame], lineage: dict[str, Lineage]) -> pd.DataFrame:
    """One frame of every symbol's rows with all table columns (absent adjustments are NULL)."""
    loaded_at = datetime.now(UTC)
    parts = []
    for symbol, frame in histories.items():
        part = frame.reindex(columns=["symbol", "trade_date", *VALUE_COLUMNS]).copy()
        part["symbol"] = symbol
        part["source_uri"] = lineage[symbol].source_uri
        part["source_version"] = lineage[symbol].source_version
        part["run_id"] = lineage[symbol].run_id
        part["loaded_at"] = loaded_at
        parts.append(part)
    rows = pd.concat(parts, ignore_index=True)
    rows["trade_date"] = pd.to_datetime(rows["trade_date"].astype("string")).dt.date
    return rows


def _copy_rows(connection: sa.Connection, table: sa.Table, rows: pd.DataFrame) -> None:
    """Fill the staging table: binary COPY on Postgres, executemany elsewhere."""
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.dbapi_connection.cursor()
        types = [
            "text",
            "date",
            *(["float8"] * 4),
            "int8",
            *(["float8"] * 3),
            "text",
            "text",
            "text",
            "timestamptz",
        ]
        statement = f"COPY {table.name} ({', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)"
        values = rows[COLUMNS].astype(object).where(rows[COLUMNS].notna(), None)
        with cursor.copy(statement) as copy:
            copy.set_types(types)
            for row in values.itertuples(index=False, name=None):
                copy.write_row(row)
        return
    values = rows[COLUMNS].astype(object).where(rows[COLUMNS].notna(), None)
    connection.execute(table.insert(), values.to_dict(orient="records"))


def _merge(
    connection: sa.Connection, staging: sa.Table, symbols: list[str]
) -> tuple[int, int, int]:
    """Delete vanished days, update changed ones, insert new ones; return the three counts."""
    target = daily_prices
    same_key = sa.and_(
        target.c.symbol == staging.c.symbol, target.c.trade_date == staging.c.trade_date
    )
    deleted = connection.execute(
        target.delete().where(
            target.c.symbol.in_(symbols),
            ~sa.exists().where(same_key),
        )
    ).rowcount
    changed = sa.or_(*(target.c[c].is_distinct_from(staging.c[c]) for c in VALUE_COLUMNS))
    updated = connection.execute(
        target.update()
        .where(same_key, changed)
        .values({c: staging.c[c] for c in VALUE_COLUMNS + LINEAGE_COLUMNS})
    ).rowcount
    new_rows = (
        sa.select(*(staging.c[c] for c in COLUMNS))
        .where(~sa.exists().where(same_key))
        .order_by(staging.c.symbol, staging.c.trade_date)
    )
    insert = target.insert().from_select(COLUMNS, new_rows).compile(connection)
    # Executed as plain SQL: SQLAlchemy reports -1 rows for INSERT … SELECT on psycopg 3.
    inserted = connection.exec_driver_sql(str(insert)).rowcount
    return inserted, updated, deleted


def load_prices(
    engine: sa.Engine, histories: dict[str, pd.DataFrame], lineage: dict[str, Lineage]
) -> LoadStats:
    """Make `daily_prices` equal the given histories for their symbols, all or nothing."""
    started = time.perf_counter()
    symbols = sorted(histories)
    rows = staged_rows(histories, lineage)
    staging = _staging_table()
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                for symbol in symbols:
                    connection.execute(
                        sa.text(
                            "SELECT pg_advisory_xact_lock(hashtext('daily_prices'), "
                            "hashtext(:symbol))"
                        ),
                        {"symbol": symbol},
                    )
            staging.create(connection)
            _copy_rows(connection, staging, rows)
            inserted, updated, deleted = _merge(connection, staging, symbols)
            staging.drop(connection)
    except sa.exc.IntegrityError as exc:
        raise LoadError(_describe_violation(exc, symbols)) from exc
    return LoadStats(
        inserted=inserted,
        updated=updated,
        deleted=deleted,
        unchanged=len(rows) - inserted - updated,
        seconds=time.perf_counter() - started,
    )


def _describe_violation(exc: sa.exc.IntegrityError, symbols: list[str]) -> str:
    detail = str(exc.orig).strip().splitlines()
    return (
        f"load of {', '.join(symbols)} rolled back, table unchanged: "
        f"{detail[0] if detail else exc.__class__.__name__}"
        + (f" ({detail[1].strip()})" if len(detail) > 1 else "")
    )
