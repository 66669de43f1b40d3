"""Does the table hold exactly what the object store holds? Count, checksum, first differences."""

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa

from stock_assets.database.schema import NUMBER_COLUMNS, TEXT_COLUMNS, VALUE_COLUMNS, daily_prices
from stock_assets.listing import first_few
from stock_assets.prices.schema import TEXT

SHOWN_DIFFERENCES = 10


@dataclass(frozen=True)
class Reconciliation:
    table_rows: int
    stored_rows: int
    table_checksum: str
    stored_checksum: str
    differing_days: list[str]

    @property
    def matches(self) -> bool:
        return self.table_rows == self.stored_rows and self.table_checksum == self.stored_checksum

    def as_metadata(self) -> dict:
        figures = dataclasses.asdict(self)
        days = figures.pop("differing_days")
        return {**figures, "first_differing_days": first_few(days, SHOWN_DIFFERENCES) or "none"}


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    """Same columns, types and day format on both sides (absent adjustments as NaN, an absent
    adjustment source, as in histories stored before it, as NULL)."""
    out = frame.reindex(columns=["trade_date", *VALUE_COLUMNS]).copy()
    out["trade_date"] = pd.to_datetime(out["trade_date"].astype("string")).dt.strftime("%Y-%m-%d")
    out[NUMBER_COLUMNS] = out[NUMBER_COLUMNS].astype("float64")
    out[TEXT_COLUMNS] = out[TEXT_COLUMNS].astype(TEXT)
    return out


def checksum(frame: pd.DataFrame) -> str:
    """Order-independent: the sum (mod 2**64) of a 64-bit hash of every row's values."""
    hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy(dtype="uint64")
    return f"{int(hashes.sum(dtype='uint64')):016x}"


# Symbols per query: a batch of thousands reads back in a few statements, not one per symbol.
SYMBOLS_PER_QUERY = 500


def table_rows_by_symbol(engine: sa.Engine, symbols: list[str]) -> dict[str, pd.DataFrame]:
    """The table's rows of each symbol (an empty frame for one with none), read in one statement
    per `SYMBOLS_PER_QUERY` symbols instead of one per symbol."""
    columns = ["trade_date", *VALUE_COLUMNS]
    selected = [daily_prices.c.symbol, *(daily_prices.c[c] for c in columns)]
    rows = []
    with engine.connect() as connection:
        for start in range(0, len(symbols), SYMBOLS_PER_QUERY):
            wanted = daily_prices.c.symbol.in_(symbols[start : start + SYMBOLS_PER_QUERY])
            rows += connection.execute(sa.select(*selected).where(wanted))
    every = pd.DataFrame.from_records(rows, columns=["symbol", *columns])
    grouped = {s: f.drop(columns="symbol") for s, f in every.groupby("symbol", sort=False)}
    empty = pd.DataFrame(columns=columns)
    return {symbol: grouped.get(symbol, empty) for symbol in symbols}


def table_rows(engine: sa.Engine, symbol: str) -> pd.DataFrame:
    """One symbol's rows of the table."""
    return table_rows_by_symbol(engine, [symbol])[symbol]


def reconcile(table: pd.DataFrame, stored: pd.DataFrame) -> Reconciliation:
    """Compare a symbol's table rows with its stored cleaned history."""
    table, stored = _canonical(table), _canonical(stored)
    joined = table.merge(stored, on="trade_date", how="outer", suffixes=("_table", "_stored"))
    differing = sorted(joined.loc[~_same_values(joined), "trade_date"])
    return Reconciliation(
        table_rows=len(table),
        stored_rows=len(stored),
        table_checksum=checksum(table),
        stored_checksum=checksum(stored),
        differing_days=differing,
    )


def _same_values(joined: pd.DataFrame) -> np.ndarray:
    """Per joined day: do the table's values equal the stored ones (NULL equal to NULL)?"""
    left = joined[[f"{c}_table" for c in NUMBER_COLUMNS]].to_numpy(dtype="float64")
    right = joined[[f"{c}_stored" for c in NUMBER_COLUMNS]].to_numpy(dtype="float64")
    same = ((left == right) | (np.isnan(left) & np.isnan(right))).all(axis=1)
    for name in TEXT_COLUMNS:
        table, stored = joined[f"{name}_table"], joined[f"{name}_stored"]
        equal = (table == stored).fillna(False) | (table.isna() & stored.isna())
        same &= equal.to_numpy(dtype=bool)
    return same
