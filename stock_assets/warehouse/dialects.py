"""What a load does differently on Postgres and on SQLite, chosen once per load (`dialect_of`).

Postgres writes with binary COPY built a whole column at a time, never a Python loop per row,
and serializes loads of one symbol with an advisory lock, taken in lock-key order so loads
never deadlock; SQLite uses plain bulk inserts and has one writer at a time anyway.
"""

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from datetime import date, datetime

import numpy as np
import sqlalchemy as sa

from stock_assets.database.schema import daily_prices
from stock_assets.warehouse.copy_encoding import COPY_HEADER, COPY_TRAILER, binary_copy_rows
from stock_assets.warehouse.rows import COLUMNS, STAGED_COLUMNS, SymbolRows
from stock_assets.warehouse.stats import LoadTimeouts

_UNIX_EPOCH = date(1970, 1, 1)
_COPY_WRITE_BYTES = 4 << 20
# Settings of a Postgres load's transaction (they end with it): memory enough for the merge's
# sorts and hashes of a million staged rows (the default 4 MB spills them to disk), no JIT
# (compiling costs more than it saves on these plain scans), and a small sample for ANALYZE
# (the planner needs the temporary tables' row counts, not their distributions). The load's
# lock and statement timeouts (`LoadTimeouts`) are set with them.
_POSTGRES_SETTINGS = {"work_mem": "256MB", "jit": "off", "default_statistics_target": "10"}


class Dialect(ABC):
    """What both databases share; `start`, `analyze`, `write_rows` and the query behind
    `last_stored_days` are each database's own."""

    def last_stored_days(self, connection: sa.Connection, symbols: list[str]) -> dict[str, int]:
        """Each symbol's last day in the table, counted from 1970-01-01; symbols without rows
        are left out."""
        return {
            symbol: (day - _UNIX_EPOCH).days
            for symbol, day in connection.execute(self._last_days_query(symbols))
            if day is not None
        }

    @abstractmethod
    def start(self, connection: sa.Connection, symbols: list[str]) -> None:
        ...

    @abstractmethod
    def analyze(self, connection: sa.Connection, table: sa.Table) -> None:
        ...

    def write_rows(
        self,
        connection: sa.Connection,
        table: sa.Table,
        batches: Iterable[SymbolRows],
        loaded_at: datetime | None,
    ) -> int:
        """Append the batches' rows to `table` and return how many: with their lineage when
        `loaded_at` is given, else only `STAGED_COLUMNS`."""
        columns = COLUMNS if loaded_at is not None else STAGED_COLUMNS
        return self._append(connection, table, columns, batches, loaded_at)

    @abstractmethod
    def _append(self, connection: sa.Connection, table: sa.Table, columns: list[str],
                batches: Iterable[SymbolRows], loaded_at: datetime | None) -> int:
        ...

    @abstractmethod
    def _last_days_query(self, symbols: list[str]) -> sa.Executable:
        ...


class SQLite(Dialect):
    """Plain SQL and bulk inserts."""

    def start(self, connection: sa.Connection, symbols: list[str]) -> None:
        """Wait for every other load of these symbols to end, and keep them out until this one
        ends: SQLite has one writer at a time."""
        # Also makes the transaction start here: pysqlite would start it at the first
        # INSERT, leaving the temporary tables created before it behind when a load fails.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    def _last_days_query(self, symbols: list[str]) -> sa.Executable:
        return (
            sa.select(daily_prices.c.symbol, sa.func.max(daily_prices.c.trade_date))
            .where(daily_prices.c.symbol.in_(symbols))
            .group_by(daily_prices.c.symbol)
        )

    def analyze(self, connection: sa.Connection, table: sa.Table) -> None:
        """Give the planner a temporary table's size (needless here)."""

    def _append(self, connection, table, columns, batches, loaded_at) -> int:
        """One executemany."""
        records = [
            dict(zip(columns, record, strict=True))
            for rows in batches
            for record in rows.records(loaded_at)
        ]
        if records:
            connection.execute(table.insert(), records)
        return len(records)


class Postgres(Dialect):
    """Binary COPY, advisory locks, and statistics for the temporary tables."""

    def __init__(self, timeouts: LoadTimeouts | None = None) -> None:
        self.timeouts = timeouts or LoadTimeouts()

    def start(self, connection: sa.Connection, symbols: list[str]) -> None:
        """Wait for every other load of these symbols to end, and keep them out until this one
        ends: one advisory lock per symbol, in lock-key order, so two loads never wait for each
        other."""
        connection.execute(
            sa.select(
                *(
                    sa.func.set_config(name, value, True)
                    for name, value in {**_POSTGRES_SETTINGS, **self.timeouts.settings()}.items()
                )
            )
        )
        connection.execute(
            sa.text(
                "SELECT pg_advisory_xact_lock(hashtext('daily_prices'), key) FROM "
                "(SELECT DISTINCT hashtext(symbol) AS key FROM unnest(CAST(:symbols AS text[])) "
                "AS symbol ORDER BY key) AS keys"
            ),
            {"symbols": symbols},
        )

    def _last_days_query(self, symbols: list[str]) -> sa.Executable:
        # One index probe per symbol instead of reading every row of every symbol.
        return sa.text(
            "SELECT requested.symbol, (SELECT max(trade_date) FROM daily_prices "
            "WHERE daily_prices.symbol = requested.symbol) "
            "FROM unnest(CAST(:symbols AS text[])) AS requested(symbol)"
        ).bindparams(symbols=symbols)

    def analyze(self, connection: sa.Connection, table: sa.Table) -> None:
        """Give the planner a temporary table's size: temporary tables are never analyzed
        automatically."""
        connection.exec_driver_sql(f"ANALYZE {table.name}")

    def _append(self, connection, table, columns, batches, loaded_at) -> int:
        """Binary COPY, streamed while the batches are built."""
        counted = _Counted(batches)
        chunks = (
            chunk
            for rows in counted
            for chunk in binary_copy_rows(rows.copy_fields(loaded_at), len(rows))
        )
        _copy_into(connection, table.name, columns, chunks)
        return counted.rows


def dialect_of(connection: sa.Connection, timeouts: LoadTimeouts | None = None) -> Dialect:
    """The one place that asks which database a load writes to (SQLite has no timeouts to set:
    its one writer waits on `BEGIN IMMEDIATE`)."""
    return Postgres(timeouts) if connection.dialect.name == "postgresql" else SQLite()


class _Counted:
    """The batches, counting their rows as they are read."""

    def __init__(self, batches: Iterable[SymbolRows]) -> None:
        self._batches = batches
        self.rows = 0

    def __iter__(self) -> Iterator[SymbolRows]:
        for rows in self._batches:
            self.rows += len(rows)
            yield rows


def _copy_into(
    connection: sa.Connection, table: str, columns: list[str], chunks: Iterator[np.ndarray]
) -> None:
    """Stream `chunks` of binary COPY rows into `table`, a few megabytes per write."""
    cursor = connection.connection.dbapi_connection.cursor()
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
    with cursor.copy(statement) as copy:
        pending, size = [COPY_HEADER], len(COPY_HEADER)
        for chunk in chunks:
            pending.append(chunk.data)
            size += chunk.nbytes
            if size >= _COPY_WRITE_BYTES:
                copy.write(b"".join(pending))
                pending, size = [], 0
        pending.append(COPY_TRAILER)
        copy.write(b"".join(pending))
