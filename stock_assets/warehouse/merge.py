"""Merging a load's staged rows into `daily_prices`.

The days up to a symbol's last stored day are staged in a temporary table of the transaction
and merged with one full join; unchanged rows are not rewritten, so their lineage stays that
of the run that last changed them.
"""

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa

from stock_assets.database.schema import (
    LINEAGE_COLUMNS,
    VALUE_COLUMNS,
    daily_prices,
    lineage_columns,
    price_columns,
)
from stock_assets.warehouse.dialects import Dialect
from stock_assets.warehouse.rows import COLUMNS, STAGED_COLUMNS, SymbolRows
from stock_assets.warehouse.stats import Lineage


class Merged(NamedTuple):
    """What a merge did: rows staged, inserted, updated and deleted, and the last three per
    symbol, keyed by (symbol, "insert" | "update" | "delete")."""

    staged: int
    inserted: int
    updated: int
    deleted: int
    by_symbol: Counter

    @property
    def unchanged(self) -> int:
        return self.staged - self.inserted - self.updated


NOTHING_MERGED = Merged(0, 0, 0, 0, Counter())


def stage_and_merge(
    connection: sa.Connection,
    dialect: Dialect,
    batches: Iterable[SymbolRows],
    lineage: dict[str, Lineage],
    loaded_at: datetime,
) -> Merged:
    """Stage the batches, merge them into the table, drop the staging. `lineage` names every
    merged symbol, including those with no rows staged (all their rows are deleted)."""
    staging, staged_lineage = _staging_table(), _staged_lineage_table()
    staging.create(connection)
    staged_lineage.create(connection)
    staged = dialect.write_rows(connection, staging, batches, None)
    connection.execute(
        staged_lineage.insert(),
        [
            {
                "symbol": symbol,
                "source_uri": source.source_uri,
                "source_sha256": source.source_sha256,
                "run_id": source.run_id,
                "loaded_at": loaded_at,
            }
            for symbol, source in lineage.items()
        ],
    )
    # Never analyzed automatically, and without statistics the planner takes a temporary
    # table for ten pages: a plan that reads the whole of `daily_prices` to merge one
    # symbol. The staging table needs none: the plan only depends on its size.
    dialect.analyze(connection, staged_lineage)
    merged = _merge(connection, dialect, staging, staged_lineage, list(lineage), staged)
    staging.drop(connection)
    staged_lineage.drop(connection)
    return merged


def _temporary(name: str, *columns: sa.Column) -> sa.Table:
    """A table of this transaction's alone (dropped with it), never shared."""
    return sa.Table(name, sa.MetaData(), *columns, prefixes=["TEMPORARY"])


def _staging_table() -> sa.Table:
    """No index: the merge reads it whole, once."""
    return _temporary("daily_prices_staging", *price_columns())


def _staged_lineage_table() -> sa.Table:
    """The lineage of each merged symbol, once per symbol rather than once per row."""
    symbol = sa.Column("symbol", sa.String(10), primary_key=True)
    return _temporary("daily_prices_staging_lineage", symbol, *lineage_columns())


def _changes_table() -> sa.Table:
    """The staged rows that differ from the table, and the table's rows that were not staged."""
    values = (sa.Column(c.name, c.type) for c in price_columns())  # NULL values: a deleted row
    change = sa.Column("change", sa.String(6), nullable=False)
    return _temporary("daily_prices_changes", *values, change)


def _merge(
    connection: sa.Connection,
    dialect: Dialect,
    staging: sa.Table,
    lineage: sa.Table,
    symbols: list[str],
    staged: int,
) -> Merged:
    """Make the merged `symbols`' rows equal the `staged` rows of `staging`.

    One full join of the staged rows with the table's rows of those symbols finds every
    difference; the three writes then touch only the rows that change.
    """
    target, changes = daily_prices, _changes_table()
    changes.create(connection)
    connection.execute(
        changes.insert().from_select([*STAGED_COLUMNS, "change"], _differences(staging, lineage))
    )
    dialect.analyze(connection, changes)
    deleted = connection.execute(
        target.delete().where(sa.exists().where(_same_key(changes, "delete")))
    ).rowcount
    updated = connection.execute(
        target.update()
        .where(_same_key(changes, "update"), lineage.c.symbol == changes.c.symbol)
        .values(
            {c: changes.c[c] for c in VALUE_COLUMNS} | {c: lineage.c[c] for c in LINEAGE_COLUMNS}
        )
    ).rowcount
    inserted = _insert_new_days(connection, changes, lineage)
    if len(symbols) == 1:
        counts = {"insert": inserted, "update": updated, "delete": deleted}
        by_symbol = Counter({(symbols[0], kind): count for kind, count in counts.items()})
    else:
        by_symbol = _counts_by_symbol(connection, changes)
    changes.drop(connection)
    return Merged(staged, inserted, updated, deleted, by_symbol)


def _differences(staging: sa.Table, lineage: sa.Table) -> sa.Select:
    """The full join of the staged rows with the table's rows of the merged symbols, cut to
    the rows that differ, each with its change: "insert", "update" or "delete"."""
    target = daily_prices
    present = (
        sa.select(*(target.c[c] for c in STAGED_COLUMNS))
        .where(target.c.symbol.in_(sa.select(lineage.c.symbol)))
        .subquery("present")
    )
    missing_from_table = present.c.symbol.is_(None)
    change = sa.case(
        (missing_from_table, "insert"), (staging.c.symbol.is_(None), "delete"), else_="update"
    )
    return (
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


def _same_key(changes: sa.Table, change: str) -> sa.ColumnElement[bool]:
    """A change of kind `change` to the table's row with the same key."""
    return sa.and_(
        changes.c.change == change,
        changes.c.symbol == daily_prices.c.symbol,
        changes.c.trade_date == daily_prices.c.trade_date,
    )


def _insert_new_days(connection: sa.Connection, changes: sa.Table, lineage: sa.Table) -> int:
    """Insert the changes' new rows with their symbol's lineage; return how many."""
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
        daily_prices.insert()
        .from_select(COLUMNS, new_rows)
        .compile(connection, compile_kwargs={"literal_binds": True})
    )
    # Executed as plain SQL: SQLAlchemy reports -1 rows for INSERT … SELECT on psycopg 3.
    return connection.exec_driver_sql(str(insert)).rowcount


def _counts_by_symbol(connection: sa.Connection, changes: sa.Table) -> Counter:
    """The changes counted per (symbol, kind) by the server."""
    # One more scan of the differences: at most about 2 % of a load's time (every other day
    # of 1,000 symbols new), never per row in Python.
    return Counter(
        {
            (symbol, kind): count
            for symbol, kind, count in connection.execute(
                sa.select(changes.c.symbol, changes.c.change, sa.func.count()).group_by(
                    changes.c.symbol, changes.c.change
                )
            )
        }
    )
