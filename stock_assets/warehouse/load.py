"""Loading cleaned prices into `daily_prices`: stage, merge, append, all in one transaction.

After a load, the table's rows for each loaded symbol equal the cleaned history exactly: new
days inserted, changed days updated (unchanged rows are not rewritten, so their lineage stays
that of the run that last changed them), vanished days deleted. The days up to a symbol's last
stored day are staged in a temporary table of the transaction and merged with one full join;
the days after it (all of them for a symbol not in the table yet) cannot be in the table and
are written straight in. Postgres writes with binary COPY built a whole column at a time, never
a Python loop per row, and serializes loads of one symbol with an advisory lock, taken in
lock-key order so loads never deadlock; SQLite uses plain bulk inserts. A failure anywhere
rolls back all of it.
"""

import dataclasses
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from stock_assets.warehouse.schema import (
    LINEAGE_COLUMNS,
    VALUE_COLUMNS,
    daily_prices,
    lineage_columns,
    price_columns,
)

STAGED_COLUMNS = ["symbol", "trade_date", *VALUE_COLUMNS]
COLUMNS = [*STAGED_COLUMNS, *LINEAGE_COLUMNS]

# Postgres counts dates and timestamps from 2000-01-01, numpy and Arrow from 1970-01-01.
_PG_EPOCH_DAYS = 10_957
_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_UNIX_EPOCH = date(1970, 1, 1)
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, no header extension
_COPY_TRAILER = b"\xff\xff"
_COPY_WRITE_BYTES = 4 << 20
# Settings of a Postgres load's transaction (they end with it): memory enough for the merge's
# sorts and hashes of a million staged rows (the default 4 MB spills them to disk), no JIT
# (compiling costs more than it saves on these plain scans), and a small sample for ANALYZE
# (the planner needs the temporary tables' row counts, not their distributions).
_POSTGRES_SETTINGS = {"work_mem": "256MB", "jit": "off", "default_statistics_target": "10"}


@dataclass(frozen=True)
class Lineage:
    """Where a symbol's cleaned history was read from."""

    source_uri: str
    source_version: str
    run_id: str


@dataclass(frozen=True)
class SymbolLoadStats:
    """What one load did to one symbol: its history's rows and first and last day (ISO dates,
    None for an empty history), and its rows inserted, updated, deleted and left unchanged."""

    rows: int
    first_trade_date: str | None
    last_trade_date: str | None
    inserted: int
    updated: int
    deleted: int
    unchanged: int

    COUNTS = ("rows", "inserted", "updated", "deleted", "unchanged")


@dataclass(frozen=True)
class LoadStats:
    """What one load did: totals, and the same counts per symbol (`by_symbol`)."""

    inserted: int
    updated: int
    deleted: int
    unchanged: int
    seconds: float
    by_symbol: dict[str, SymbolLoadStats] = field(default_factory=dict)

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

    def summary(self, limit: int = 20) -> list[dict]:
        """One row per symbol for a small table: the first `limit` symbols by name, then (when
        there are more) one row "and N more" holding the sum of the others' counts."""
        symbols = sorted(self.by_symbol)
        rows = [{"symbol": s, **dataclasses.asdict(self.by_symbol[s])} for s in symbols[:limit]]
        rest = [self.by_symbol[s] for s in symbols[limit:]]
        if rest:
            sums = {name: sum(getattr(s, name) for s in rest) for name in SymbolLoadStats.COUNTS}
            dates = {"first_trade_date": None, "last_trade_date": None}
            rows.append({"symbol": f"and {len(rest)} more", **dates, **sums})
        return rows


class LoadError(RuntimeError):
    """A load that was rolled back; says which symbol and, where known, which day."""


@dataclass(frozen=True)
class SymbolRows:
    """One symbol's history as column arrays in day order, ready to write.

    `days` counts from 1970-01-01; `values` maps each value column to its array (None: the
    column is absent, NULL on every day), `nulls` to a mask of the days where it is NULL (None:
    on no day).
    """

    symbol: str
    lineage: Lineage
    days: np.ndarray
    values: dict[str, np.ndarray | None]
    nulls: dict[str, np.ndarray | None]

    def __len__(self) -> int:
        return len(self.days)

    @classmethod
    def from_frame(cls, symbol: str, frame: pd.DataFrame, lineage: Lineage) -> "SymbolRows":
        """Column arrays of a cleaned history; NaN is NULL, a repeated day is a `LoadError`."""
        days = _epoch_days(symbol, frame["trade_date"])
        order = None
        if len(days) > 1 and not (np.diff(days) > 0).all():
            order = np.argsort(days, kind="stable")
            days = days[order]
            repeated = days[1:][np.diff(days) == 0]
            if len(repeated):
                raise LoadError(
                    f"load of {symbol} rolled back, table unchanged: {symbol} has "
                    f"{_day(repeated[0])} more than once"
                )
        values: dict[str, np.ndarray | None] = {}
        nulls: dict[str, np.ndarray | None] = {}
        for name in VALUE_COLUMNS:
            if name not in frame.columns:
                values[name] = nulls[name] = None
                continue
            array, missing = _numbers(frame[name], "int64" if name == "volume" else "float64")
            if order is not None:
                array = array[order]
                missing = None if missing is None else missing[order]
            values[name], nulls[name] = array, missing
        return cls(symbol, lineage, days, values, nulls)

    def split_after(self, day: int) -> tuple["SymbolRows", "SymbolRows"]:
        """(the rows up to `day`, the rows after it); `day` counts from 1970-01-01."""
        cut = int(np.searchsorted(self.days, day, side="right"))
        return self._part(slice(None, cut)), self._part(slice(cut, None))

    def _part(self, part: slice) -> "SymbolRows":
        return SymbolRows(
            self.symbol,
            self.lineage,
            self.days[part],
            {name: None if v is None else v[part] for name, v in self.values.items()},
            {name: None if m is None else m[part] for name, m in self.nulls.items()},
        )

    def records(self, loaded_at: datetime | None) -> list[tuple]:
        """The rows as tuples of Python values in `COLUMNS` order (`STAGED_COLUMNS` without
        `loaded_at`), for drivers without COPY."""
        columns = [
            [self.symbol] * len(self),
            self.days.astype("datetime64[D]").tolist(),
        ]
        for name in VALUE_COLUMNS:
            array, missing = self.values[name], self.nulls[name]
            if array is None:
                columns.append([None] * len(self))
            else:
                column = array.astype(object)
                if missing is not None:
                    column[missing] = None
                columns.append(column.tolist())
        if loaded_at is not None:
            lineage = (
                self.lineage.source_uri,
                self.lineage.source_version,
                self.lineage.run_id,
                loaded_at,
            )
            columns.extend([value] * len(self) for value in lineage)
        return list(zip(*columns, strict=True))

    def copy_fields(self, loaded_at: datetime | None) -> list[tuple]:
        """The fields of `binary_copy_rows` in `COLUMNS` order (`STAGED_COLUMNS` without
        `loaded_at`)."""
        fields: list[tuple] = [
            ("", self.symbol.encode(), None),
            (">i4", self.days - _PG_EPOCH_DAYS, None),
        ]
        for name in VALUE_COLUMNS:
            fmt = ">i8" if name == "volume" else ">f8"
            fields.append((fmt, self.values[name], self.nulls[name]))
        if loaded_at is not None:
            microseconds = (loaded_at - _PG_EPOCH) // timedelta(microseconds=1)
            fields.extend(
                [
                    ("", self.lineage.source_uri.encode(), None),
                    ("", self.lineage.source_version.encode(), None),
                    ("", self.lineage.run_id.encode(), None),
                    ("", microseconds.to_bytes(8, "big", signed=True), None),
                ]
            )
        return fields


def _epoch_days(symbol: str, column: pd.Series) -> np.ndarray:
    """Days since 1970-01-01 (int32) of dates, timestamps or ISO strings."""
    days = pc.cast(pa.array(column), pa.date32(), safe=False)
    if days.null_count:
        raise LoadError(f"load of {symbol} rolled back, table unchanged: a day without a date")
    return pc.cast(days, pa.int32()).to_numpy(zero_copy_only=False)


def _numbers(column: pd.Series, dtype: str) -> tuple[np.ndarray, np.ndarray | None]:
    """The column as a numpy array of `dtype` and its NULL mask (None when there is none)."""
    if column.dtype == dtype:
        array = column.to_numpy()
        missing = np.isnan(array) if dtype == "float64" else None
    else:
        missing = column.isna().to_numpy(dtype=bool)
        array = column.to_numpy(dtype=dtype, na_value=0)
    return array, (missing if missing is not None and missing.any() else None)


def _day(epoch_day: int) -> str:
    return str(np.datetime64(int(epoch_day), "D"))


@lru_cache(maxsize=512)
def _record_layout(formats: tuple[str | None, ...]) -> np.dtype:
    """One binary COPY row as a numpy record: field count, then each field's length and value
    (no value for a NULL, whose format is None)."""
    fields = [("count", ">i2")]
    for i, fmt in enumerate(formats):
        fields.append((f"length{i}", ">i4"))
        if fmt is not None:
            fields.append((f"value{i}", fmt))
    return np.dtype(fields)


def binary_copy_rows(fields: Sequence[tuple], count: int) -> Iterator[np.ndarray]:
    """`count` rows in Postgres' binary COPY format, built a whole column at a time.

    Each field is (numpy big-endian format, values, NULL mask): values is an array of `count`,
    one `bytes` value for every row (format ignored), or None for NULL on every row. Rows are
    grouped by which fields are NULL, so each group has one fixed layout and is one numpy
    record array, the groups one after the other; a history usually is a single group.
    """
    masks = [(i, mask) for i, (_, values, mask) in enumerate(fields) if mask is not None]
    patterns = np.zeros(count, np.int64)
    for bit, (_, mask) in enumerate(masks):
        patterns |= mask.astype(np.int64) << bit
    codes = np.unique(patterns)
    for code in codes:
        rows = slice(None) if len(codes) == 1 else patterns == code
        null_here = {i for bit, (i, _) in enumerate(masks) if code >> bit & 1}
        formats = tuple(
            None
            if values is None or i in null_here
            else f"S{len(values)}"
            if isinstance(values, bytes)
            else fmt
            for i, (fmt, values, _) in enumerate(fields)
        )
        layout = _record_layout(formats)
        records = np.empty(count if len(codes) == 1 else int(rows.sum()), layout)
        records["count"] = len(fields)
        for i, ((_, values, _), fmt) in enumerate(zip(fields, formats, strict=True)):
            if fmt is None:
                records[f"length{i}"] = -1
                continue
            records[f"length{i}"] = layout[f"value{i}"].itemsize
            records[f"value{i}"] = values if isinstance(values, bytes) else values[rows]
        yield records


def _copy_into(
    connection: sa.Connection, table: str, columns: list[str], chunks: Iterator[np.ndarray]
) -> None:
    """Stream `chunks` of binary COPY rows into `table`, a few megabytes per write."""
    cursor = connection.connection.dbapi_connection.cursor()
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
    with cursor.copy(statement) as copy:
        pending, size = [_COPY_SIGNATURE], len(_COPY_SIGNATURE)
        for chunk in chunks:
            pending.append(chunk.data)
            size += chunk.nbytes
            if size >= _COPY_WRITE_BYTES:
                copy.write(b"".join(pending))
                pending, size = [], 0
        pending.append(_COPY_TRAILER)
        copy.write(b"".join(pending))


def _write_rows(
    connection: sa.Connection,
    table: sa.Table,
    batches: Iterable[SymbolRows],
    loaded_at: datetime | None,
) -> int:
    """Append the batches' rows to `table` and return how many: with their lineage when
    `loaded_at` is given, else only `STAGED_COLUMNS`. Binary COPY on Postgres, streamed while
    the batches are built; executemany elsewhere."""
    columns = COLUMNS if loaded_at is not None else STAGED_COLUMNS
    written = 0
    if connection.dialect.name == "postgresql":

        def chunks() -> Iterator[np.ndarray]:
            nonlocal written
            for rows in batches:
                written += len(rows)
                yield from binary_copy_rows(rows.copy_fields(loaded_at), len(rows))

        _copy_into(connection, table.name, columns, chunks())
        return written
    records = [
        dict(zip(columns, record, strict=True))
        for rows in batches
        for record in rows.records(loaded_at)
    ]
    if records:
        connection.execute(table.insert(), records)
    return len(records)


def _staging_table() -> sa.Table:
    """Temporary, per transaction, never shared; no index: the merge reads it whole, once."""
    return sa.Table("daily_prices_staging", sa.MetaData(), *price_columns(), prefixes=["TEMPORARY"])


def _staged_lineage_table() -> sa.Table:
    """The lineage of each merged symbol, once per symbol rather than once per row."""
    return sa.Table(
        "daily_prices_staging_lineage",
        sa.MetaData(),
        sa.Column("symbol", sa.String(10), primary_key=True),
        *lineage_columns(),
        prefixes=["TEMPORARY"],
    )


def _changes_table() -> sa.Table:
    """The staged rows that differ from the table, and the table's rows that were not staged."""
    return sa.Table(
        "daily_prices_changes",
        sa.MetaData(),
        *(sa.Column(c.name, c.type) for c in price_columns()),  # NULL values: a deleted row
        sa.Column("change", sa.String(6), nullable=False),
        prefixes=["TEMPORARY"],
    )


def _start(connection: sa.Connection, symbols: list[str]) -> None:
    """Wait for every other load of these symbols to end, and keep them out until this one
    ends. Postgres takes one advisory lock per symbol, in lock-key order, so two loads never
    wait for each other; SQLite has one writer at a time anyway."""
    if connection.dialect.name == "sqlite":
        # Also makes the transaction start here: pysqlite would start it at the first
        # INSERT, leaving the temporary tables created before it behind when a load fails.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        return
    connection.execute(
        sa.select(
            *(sa.func.set_config(name, value, True) for name, value in _POSTGRES_SETTINGS.items())
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


def _last_stored_days(connection: sa.Connection, symbols: list[str]) -> dict[str, int]:
    """Each symbol's last day in the table, counted from 1970-01-01; symbols without rows are
    left out."""
    if connection.dialect.name == "postgresql":
        # One index probe per symbol instead of reading every row of every symbol.
        query = sa.text(
            "SELECT requested.symbol, (SELECT max(trade_date) FROM daily_prices "
            "WHERE daily_prices.symbol = requested.symbol) "
            "FROM unnest(CAST(:symbols AS text[])) AS requested(symbol)"
        ).bindparams(symbols=symbols)
    else:
        query = (
            sa.select(daily_prices.c.symbol, sa.func.max(daily_prices.c.trade_date))
            .where(daily_prices.c.symbol.in_(symbols))
            .group_by(daily_prices.c.symbol)
        )
    return {
        symbol: (day - _UNIX_EPOCH).days
        for symbol, day in connection.execute(query)
        if day is not None
    }


def _merge(
    connection: sa.Connection, staging: sa.Table, lineage: sa.Table, symbols: list[str]
) -> tuple[int, int, int, Counter]:
    """Make the merged `symbols`' rows equal the staged ones; return (inserted, updated,
    deleted) and those counts per symbol, keyed by (symbol, "insert" | "update" | "delete").

    One full join of the staged rows with the table's rows of those symbols finds every
    difference; the three writes then touch only the rows that change.
    """
    target, changes = daily_prices, _changes_table()
    changes.create(connection)
    present = (
        sa.select(*(target.c[c] for c in STAGED_COLUMNS))
        .where(target.c.symbol.in_(sa.select(lineage.c.symbol)))
        .subquery("present")
    )
    missing_from_table = present.c.symbol.is_(None)
    change = sa.case(
        (missing_from_table, "insert"), (staging.c.symbol.is_(None), "delete"), else_="update"
    )
    differences = (
        sa.select(
            sa.func.coalesce(staging.c.symbol, present.c.symbol),
            sa.func.coalesce(staging.c.trade_date, present.c.trade_date),
            *(staging.c[c] for c in VALUE_COLUMNS),
            change,
        )
        .select_from(
            staging.join(
                present,
                sa.and_(
                    staging.c.symbol == present.c.symbol,
                    staging.c.trade_date == present.c.trade_date,
                ),
                full=True,
            )
        )
        .where(
            sa.or_(
                missing_from_table,
                staging.c.symbol.is_(None),
                *(present.c[c].is_distinct_from(staging.c[c]) for c in VALUE_COLUMNS),
            )
        )
    )
    connection.execute(changes.insert().from_select([*STAGED_COLUMNS, "change"], differences))
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"ANALYZE {changes.name}")

    def same_key(change: str) -> sa.ColumnElement[bool]:
        return sa.and_(
            changes.c.change == change,
            changes.c.symbol == target.c.symbol,
            changes.c.trade_date == target.c.trade_date,
        )

    deleted = connection.execute(
        target.delete().where(sa.exists().where(same_key("delete")))
    ).rowcount
    updated = connection.execute(
        target.update()
        .where(same_key("update"), lineage.c.symbol == changes.c.symbol)
        .values(
            {c: changes.c[c] for c in VALUE_COLUMNS} | {c: lineage.c[c] for c in LINEAGE_COLUMNS}
        )
    ).rowcount
    # In key order. Sorted before the lineage is joined, the sort moves narrow rows; the join
    # with the small lineage table (hashed, one batch) keeps their order.
    new_days = (
        sa.select(*(changes.c[c] for c in STAGED_COLUMNS))
        .where(changes.c.change == "insert")
        .order_by(changes.c.symbol, changes.c.trade_date)
        .subquery("new_days")
    )
    new_rows = sa.select(
        *(new_days.c[c] for c in STAGED_COLUMNS), *(lineage.c[c] for c in LINEAGE_COLUMNS)
    ).join_from(new_days, lineage, new_days.c.symbol == lineage.c.symbol)
    insert = (
        target.insert()
        .from_select(COLUMNS, new_rows)
        .compile(connection, compile_kwargs={"literal_binds": True})
    )
    # Executed as plain SQL: SQLAlchemy reports -1 rows for INSERT … SELECT on psycopg 3.
    inserted = connection.exec_driver_sql(str(insert)).rowcount
    if len(symbols) == 1:
        counts = {"insert": inserted, "update": updated, "delete": deleted}
        by_symbol = Counter({(symbols[0], kind): count for kind, count in counts.items()})
    else:
        # Counted by the server, one more scan of the differences: at most about 2 % of a
        # load's time (every other day of 1,000 symbols new), never per row in Python.
        by_symbol = Counter(
            {
                (symbol, kind): count
                for symbol, kind, count in connection.execute(
                    sa.select(changes.c.symbol, changes.c.change, sa.func.count()).group_by(
                        changes.c.symbol, changes.c.change
                    )
                )
            }
        )
    changes.drop(connection)
    return inserted, updated, deleted, by_symbol


def _stage_and_merge(
    connection: sa.Connection,
    batches: Iterable[SymbolRows],
    lineage: dict[str, Lineage],
    loaded_at: datetime,
) -> tuple[int, int, int, int, Counter]:
    """Stage the batches, merge them into the table, drop the staging; return the number of rows
    staged, inserted, updated and deleted, and the merge's counts per symbol (see `_merge`).
    `lineage` names every merged symbol, including those with no rows staged (all their rows
    are deleted)."""
    staging, staged_lineage = _staging_table(), _staged_lineage_table()
    staging.create(connection)
    staged_lineage.create(connection)
    staged = _write_rows(connection, staging, batches, None)
    connection.execute(
        staged_lineage.insert(),
        [
            {
                "symbol": symbol,
                "source_uri": source.source_uri,
                "source_version": source.source_version,
                "run_id": source.run_id,
                "loaded_at": loaded_at,
            }
            for symbol, source in lineage.items()
        ],
    )
    if connection.dialect.name == "postgresql":
        # Never analyzed automatically, and without statistics the planner takes a temporary
        # table for ten pages: a plan that reads the whole of `daily_prices` to merge one
        # symbol. The staging table needs none: the plan only depends on its size.
        connection.exec_driver_sql(f"ANALYZE {staged_lineage.name}")
    inserted, updated, deleted, by_symbol = _merge(
        connection, staging, staged_lineage, list(lineage)
    )
    staging.drop(connection)
    staged_lineage.drop(connection)
    return staged, inserted, updated, deleted, by_symbol


def load_prices(
    engine: sa.Engine,
    histories: dict[str, pd.DataFrame],
    lineage: dict[str, Lineage],
    on_symbol: Callable[[str, int], None] | None = None,
) -> LoadStats:
    """Make `daily_prices` equal the given histories for their symbols, all or nothing.

    `on_symbol(symbol, rows)` is called once per symbol, with its history's row count, as soon
    as its rows have been handed to the database: first the symbols already in the table (for
    the merge), then those new to it. Nothing is visible to readers before the load commits.
    """
    started = time.perf_counter()
    symbols = sorted(histories)
    loaded_at = datetime.now(UTC)
    staged_rows: dict[str, int] = {}
    appended_rows: dict[str, int] = {}
    extents: dict[str, tuple[int, str | None, str | None]] = {}

    def rows_of(symbol: str) -> SymbolRows:
        rows = SymbolRows.from_frame(symbol, histories[symbol], lineage[symbol])
        days = rows.days  # in day order
        extents[symbol] = (
            (len(days), _day(days[0]), _day(days[-1])) if len(days) else (0, None, None)
        )
        return rows

    def sent(symbol: str, rows: int) -> None:
        if on_symbol is not None:
            on_symbol(symbol, rows)

    # The generators turn frames into arrays while the rows before them are being written, so
    # Python and the server work at the same time.
    after_last_day: dict[str, SymbolRows] = {}

    def up_to_last_day(last_days: dict[str, int]) -> Iterator[SymbolRows]:
        for symbol in symbols:
            if symbol in last_days:
                up_to, after_last_day[symbol] = rows_of(symbol).split_after(last_days[symbol])
                staged_rows[symbol] = len(up_to)
                yield up_to
                sent(symbol, len(up_to) + len(after_last_day[symbol]))

    def new_days(last_days: dict[str, int]) -> Iterator[SymbolRows]:
        for symbol in symbols:
            rows = after_last_day[symbol] if symbol in last_days else rows_of(symbol)
            appended_rows[symbol] = len(rows)
            yield rows
            if symbol not in last_days:
                sent(symbol, len(rows))

    try:
        with engine.begin() as connection:
            _start(connection, symbols)
            last_days = _last_stored_days(connection, symbols)
            staged = inserted = updated = deleted = 0
            merged: Counter = Counter()
            if last_days:
                staged, inserted, updated, deleted, merged = _stage_and_merge(
                    connection,
                    up_to_last_day(last_days),
                    {symbol: lineage[symbol] for symbol in last_days},
                    loaded_at,
                )
            # Days after a symbol's last stored day cannot be in the table: they are copied
            # straight in, and only after the merge, which would take them for vanished days.
            appended = _write_rows(connection, daily_prices, new_days(last_days), loaded_at)
    except (sa.exc.IntegrityError, sa.exc.DataError) as exc:
        raise LoadError(_describe_violation(exc.orig, symbols)) from exc
    except (psycopg.IntegrityError, psycopg.DataError) as exc:
        raise LoadError(_describe_violation(exc, symbols)) from exc
    by_symbol = {
        symbol: _symbol_stats(
            merged, symbol, staged_rows.get(symbol, 0), appended_rows[symbol], extents[symbol]
        )
        for symbol in symbols
    }
    return LoadStats(
        inserted=inserted + appended,
        updated=updated,
        deleted=deleted,
        unchanged=staged - inserted - updated,
        seconds=time.perf_counter() - started,
        by_symbol=by_symbol,
    )


def _symbol_stats(
    merged: Counter, symbol: str, staged: int, appended: int, extent: tuple
) -> SymbolLoadStats:
    """One symbol's counts from the merge's (see `_merge`), its rows staged and appended, and
    its history's (rows, first day, last day)."""
    inserted, updated = merged[symbol, "insert"], merged[symbol, "update"]
    rows, first_trade_date, last_trade_date = extent
    return SymbolLoadStats(
        rows=rows,
        first_trade_date=first_trade_date,
        last_trade_date=last_trade_date,
        inserted=inserted + appended,
        updated=updated,
        deleted=merged[symbol, "delete"],
        unchanged=staged - inserted - updated,
    )


def _describe_violation(error: BaseException, symbols: list[str]) -> str:
    detail = str(error).strip().splitlines()
    named = ", ".join(symbols) if len(symbols) <= 10 else f"{len(symbols)} symbols"
    return (
        f"load of {named} rolled back, table unchanged: "
        f"{detail[0] if detail else error.__class__.__name__}"
        + (f" ({detail[1].strip()})" if len(detail) > 1 else "")
    )
