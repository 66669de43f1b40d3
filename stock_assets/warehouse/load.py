"""Loading cleaned prices into `daily_prices`: stage, merge, append, all in one transaction.

After a load, the table's rows for each loaded symbol equal the cleaned history exactly: new
days inserted, changed days updated (unchanged rows are not rewritten, so their lineage stays
that of the run that last changed them), vanished days deleted. The days up to a symbol's last
stored day are staged in a temporary table of the transaction and merged with one full join
(`merge`); the days after it (all of them for a symbol not in the table yet) cannot be in the
table and are written straight in. Postgres writes with binary COPY built a whole column at a
time (`rows`, `copy_encoding`), never a Python loop per row, and serializes loads of one symbol
with an advisory lock, taken in lock-key order so loads never deadlock; SQLite uses plain bulk
inserts (`dialects`). A failure anywhere rolls back all of it. On Postgres the transaction has a
`lock_timeout` and a `statement_timeout` (`LoadTimeouts`), so a load blocked by another
session's lock fails within it, naming its symbols, instead of waiting forever.
"""

import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pandas as pd
import psycopg
import sqlalchemy as sa

from stock_assets.database.schema import daily_prices
from stock_assets.warehouse.dialects import dialect_of
from stock_assets.warehouse.merge import NOTHING_MERGED, Merged, stage_and_merge
from stock_assets.warehouse.rows import COLUMNS, STAGED_COLUMNS, SymbolRows
from stock_assets.warehouse.stats import (
    Lineage,
    LoadError,
    LoadStats,
    LoadTimeouts,
    SymbolLoadStats,
)

__all__ = [
    "COLUMNS",
    "STAGED_COLUMNS",
    "Lineage",
    "LoadError",
    "LoadStats",
    "LoadTimeouts",
    "SymbolLoadStats",
    "load_prices",
]


def load_prices(
    engine: sa.Engine,
    histories: dict[str, pd.DataFrame],
    lineage: dict[str, Lineage],
    on_symbol: Callable[[str, int], None] | None = None,
    timeouts: LoadTimeouts | None = None,
) -> LoadStats:
    """Make `daily_prices` equal the given histories for their symbols, all or nothing.

    `on_symbol(symbol, rows)` is called once per symbol, with its history's row count, as soon
    as its rows have been handed to the database: first the symbols already in the table (for
    the merge), then those new to it. Nothing is visible to readers before the load commits.
    A Postgres load that waits for a lock or runs a statement longer than `timeouts` allow
    fails with a `LoadError`.
    """
    timeouts = timeouts or LoadTimeouts()
    started = time.perf_counter()
    batches = _Batches(histories, lineage, on_symbol)
    loaded_at = datetime.now(UTC)
    try:
        with engine.begin() as connection:
            merged, appended = _load(connection, batches, lineage, loaded_at, timeouts)
    except (sa.exc.OperationalError, psycopg.OperationalError) as exc:
        passed = _timeout_passed(getattr(exc, "orig", None) or exc)
        if passed is None:
            raise
        raise LoadError(_describe_timeout(timeouts.named(passed), exc, batches.symbols)) from exc
    except (sa.exc.IntegrityError, sa.exc.DataError) as exc:
        raise LoadError(_describe_violation(exc.orig, batches.symbols)) from exc
    except (psycopg.IntegrityError, psycopg.DataError) as exc:
        raise LoadError(_describe_violation(exc, batches.symbols)) from exc
    return LoadStats(
        inserted=merged.inserted + appended,
        updated=merged.updated,
        deleted=merged.deleted,
        unchanged=merged.unchanged,
        seconds=time.perf_counter() - started,
        by_symbol=batches.symbol_stats(merged.by_symbol),
    )


def _load(
    connection: sa.Connection,
    batches: "_Batches",
    lineage: dict[str, Lineage],
    loaded_at: datetime,
    timeouts: LoadTimeouts,
) -> tuple[Merged, int]:
    """The load's one transaction: the merge's counts and the number of rows appended."""
    dialect = dialect_of(connection, timeouts)
    dialect.start(connection, batches.symbols)
    last_days = dialect.last_stored_days(connection, batches.symbols)
    merged = NOTHING_MERGED
    if last_days:
        merged = stage_and_merge(
            connection,
            dialect,
            batches.up_to_last_day(last_days),
            {symbol: lineage[symbol] for symbol in last_days},
            loaded_at,
        )
    # Days after a symbol's last stored day cannot be in the table: they are copied
    # straight in, and only after the merge, which would take them for vanished days.
    appended = dialect.write_rows(connection, daily_prices, batches.new_days(last_days), loaded_at)
    return merged, appended


class _Batches:
    """A load's histories, turned into `SymbolRows` symbol by symbol as the writes read them,
    and what each symbol's rows came to.

    The generators turn frames into arrays while the rows before them are being written, so
    Python and the server work at the same time.
    """

    def __init__(
        self,
        histories: dict[str, pd.DataFrame],
        lineage: dict[str, Lineage],
        on_symbol: Callable[[str, int], None] | None,
    ) -> None:
        self.symbols = sorted(histories)
        self._histories, self._lineage, self._on_symbol = histories, lineage, on_symbol
        self._staged: dict[str, int] = {}
        self._appended: dict[str, int] = {}
        self._extents: dict[str, tuple[int, str | None, str | None]] = {}
        self._after_last_day: dict[str, SymbolRows] = {}

    def up_to_last_day(self, last_days: dict[str, int]) -> Iterator[SymbolRows]:
        """The stored symbols' rows up to their last stored day, for the merge."""
        for symbol in self.symbols:
            if symbol in last_days:
                rows = self._rows_of(symbol)
                up_to, self._after_last_day[symbol] = rows.split_after(last_days[symbol])
                self._staged[symbol] = len(up_to)
                yield up_to
                self._sent(symbol, len(up_to) + len(self._after_last_day[symbol]))

    def new_days(self, last_days: dict[str, int]) -> Iterator[SymbolRows]:
        """Every symbol's rows after its last stored day (all of them if it has none)."""
        for symbol in self.symbols:
            stored = symbol in last_days
            rows = self._after_last_day[symbol] if stored else self._rows_of(symbol)
            self._appended[symbol] = len(rows)
            yield rows
            if not stored:
                self._sent(symbol, len(rows))

    def symbol_stats(self, merged: Counter) -> dict[str, SymbolLoadStats]:
        """Each symbol's counts, from the merge's (see `merge.Merged`) and its rows."""
        return {
            symbol: _symbol_stats(
                merged,
                symbol,
                self._staged.get(symbol, 0),
                self._appended[symbol],
                self._extents[symbol],
            )
            for symbol in self.symbols
        }

    def _rows_of(self, symbol: str) -> SymbolRows:
        rows = SymbolRows.from_frame(symbol, self._histories[symbol], self._lineage[symbol])
        self._extents[symbol] = rows.extent()
        return rows

    def _sent(self, symbol: str, rows: int) -> None:
        if self._on_symbol is not None:
            self._on_symbol(symbol, rows)


def _symbol_stats(
    merged: Counter, symbol: str, staged: int, appended: int, extent: tuple
) -> SymbolLoadStats:
    """One symbol's counts from the merge's (see `merge.Merged`), its rows staged and appended,
    and its history's (rows, first day, last day)."""
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


def _named(symbols: list[str]) -> str:
    return ", ".join(symbols) if len(symbols) <= 10 else f"{len(symbols)} symbols"


def _timeout_passed(error: BaseException) -> str | None:
    """"lock_timeout" or "statement_timeout" if that is what ended the statement (a cancel by
    hand has the statement timeout's code, and another message)."""
    code = getattr(error, "sqlstate", None)
    if code == "55P03":
        return "lock_timeout"
    if code == "57014" and "statement timeout" in str(error):
        return "statement_timeout"
    return None


def _describe_timeout(timeout: str, error: BaseException, symbols: list[str]) -> str:
    detail = str(getattr(error, "orig", None) or error).strip().splitlines()
    return (
        f"load of {_named(symbols)} rolled back, table unchanged: the {timeout} passed"
        + (f" ({detail[0]})" if detail else "")
    )


def _describe_violation(error: BaseException, symbols: list[str]) -> str:
    detail = str(error).strip().splitlines()
    return (
        f"load of {_named(symbols)} rolled back, table unchanged: "
        f"{detail[0] if detail else error.__class__.__name__}"
        + (f" ({detail[1].strip()})" if len(detail) > 1 else "")
    )
