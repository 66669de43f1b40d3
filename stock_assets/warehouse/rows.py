"""One symbol's cleaned history as column arrays, the form every write of a load starts from.

Converted a whole column at a time (Arrow and numpy), never a Python loop per row: the arrays
feed binary COPY directly, and only drivers without COPY get Python tuples. Text values are
UTF-8 bytes (numpy "S"), encoded once per distinct text.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from stock_assets.database.schema import LINEAGE_COLUMNS, TEXT_COLUMNS, VALUE_COLUMNS
from stock_assets.warehouse.copy_encoding import PG_EPOCH, PG_EPOCH_DAYS
from stock_assets.warehouse.stats import Lineage, LoadError

STAGED_COLUMNS = ["symbol", "trade_date", *VALUE_COLUMNS]
COLUMNS = [*STAGED_COLUMNS, *LINEAGE_COLUMNS]
# Binary COPY formats; text arrays carry their own widths.
_COPY_FORMATS = {"volume": ">i8"} | {name: "" for name in TEXT_COLUMNS}


@dataclass(frozen=True)
class SymbolRows:
    """One symbol's history as column arrays in day order, ready to write.

    `days` counts from 1970-01-01; `values` maps each value column to its array, text as UTF-8
    bytes (None: the column is absent or NULL on every day), `nulls` to a mask of the days where
    it is NULL (None: on no day).
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
            array, missing = _values(name, frame[name])
            if order is not None and array is not None:
                array = array[order]
                missing = None if missing is None else missing[order]
            values[name], nulls[name] = array, missing
        return cls(symbol, lineage, days, values, nulls)

    def extent(self) -> tuple[int, str | None, str | None]:
        """(rows, first day, last day), the days as ISO dates (None for an empty history)."""
        days = self.days  # in day order
        return (len(days), _day(days[0]), _day(days[-1])) if len(days) else (0, None, None)

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
                text = array.dtype.kind == "S"
                column = (np.char.decode(array) if text else array).astype(object)
                if missing is not None:
                    column[missing] = None
                columns.append(column.tolist())
        if loaded_at is not None:
            lineage = (
                self.lineage.source_uri,
                self.lineage.source_sha256,
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
            (">i4", self.days - PG_EPOCH_DAYS, None),
        ]
        for name in VALUE_COLUMNS:
            fields.append((_COPY_FORMATS.get(name, ">f8"), self.values[name], self.nulls[name]))
        if loaded_at is not None:
            microseconds = (loaded_at - PG_EPOCH) // timedelta(microseconds=1)
            fields.extend(
                [
                    ("", self.lineage.source_uri.encode(), None),
                    ("", self.lineage.source_sha256.encode(), None),
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


def _values(name: str, column: pd.Series) -> tuple[np.ndarray | None, np.ndarray | None]:
    if name in TEXT_COLUMNS:
        return _texts(column)
    return _numbers(column, "int64" if name == "volume" else "float64")


def _texts(column: pd.Series) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The column as UTF-8 bytes and its NULL mask; (None, None) when it is NULL on every day.

    Encoded once per distinct text: a history holds a handful (its adjustment sources).
    """
    codes, distinct = pd.factorize(column)
    missing = codes < 0
    if missing.all():
        return None, None
    encoded = np.array([str(text).encode() for text in distinct])
    return encoded[np.where(missing, 0, codes)], (missing if missing.any() else None)


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
