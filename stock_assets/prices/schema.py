"""The cleaned daily-prices table and its quarantine: their columns and types, in one place."""

import numpy as np
import pandas as pd
import pyarrow as pa

KEY = ["symbol", "trade_date"]
PRICES = ["open", "high", "low", "close"]
REQUIRED = [*KEY, *PRICES, "volume"]
ADJUSTMENTS = ["adjusted_close", "dividend_amount", "split_coefficient"]
VALUES = [*PRICES, "volume", *ADJUSTMENTS]
# Computed here from the answer's split and dividend fields, never received.
COMPUTED_ADJUSTMENTS = ["adjusted_open", "adjusted_high", "adjusted_low", "adjusted_volume"]
# Where a row's adjusted values came from: the answer's own adjusted close, adjustments computed
# from the SPLITS/DIVIDENDS events, or none known. Histories stored before it lack the column.
ADJUSTMENT_SOURCE = "adjustment_source"
ADJUSTMENT_SOURCES = ("premium answer", "corporate actions", "none")
QUARANTINE = [*REQUIRED, *ADJUSTMENTS, "reason"]
DATE = pd.ArrowDtype(pa.date32())
TEXT = "string[pyarrow]"


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """Cast to the canonical types and column order, sorted by day, with a fresh index.

    Adjustment columns and the adjustment source (text) are kept only when present, so a
    free-plan history stays narrow and one stored before the source existed reads as it was.
    """
    optional = [*ADJUSTMENTS, *COMPUTED_ADJUSTMENTS, ADJUSTMENT_SOURCE]
    columns = REQUIRED + [c for c in optional if c in frame.columns]
    out = frame[columns].copy()
    out["symbol"] = out["symbol"].astype(TEXT)
    out["trade_date"] = as_dates(out["trade_date"])
    for name in columns[2:]:
        kind = {"volume": "int64", ADJUSTMENT_SOURCE: TEXT}.get(name, "float64")
        out[name] = _exactly(out[name], kind)
    return out.sort_values("trade_date", kind="stable").reset_index(drop=True)


def _exactly(values: pd.Series, kind: str) -> pd.Series:
    """`values` as `kind`, refusing a cast that would change a value: numpy wraps 1e20 to
    -2**63 as int64 without a word."""
    cast = values.astype(kind)
    if values.dtype.kind == "f" and cast.dtype.kind == "i":
        changed = cast.astype("float64") != values
        if changed.any():
            raise ValueError(
                f"{values.name} {float(values[changed].iloc[0])} would change as {kind}: "
                f"quarantine such rows before `conform`"
            )
    return cast


def as_dates(column: pd.Series) -> pd.Series:
    """The column as `DATE`: cast directly from dates or datetimes (a Python date object per row,
    as `.dt.date` makes, costs more than the rest of `conform`), parsed from anything else."""
    if column.dtype == DATE:
        return column
    if column.dtype.kind == "M" and getattr(column.dtype, "tz", None) is None:
        return column.dt.normalize().astype(DATE)
    return pd.to_datetime(column).dt.date.astype(DATE)


def as_datetimes(column: pd.Series) -> pd.Series:
    """The days as datetime64[us], as `pd.to_datetime` of their ISO text gives them: cast from
    `DATE` without text or a Python object per row."""
    if column.dtype == DATE:
        return column.astype(pd.ArrowDtype(pa.timestamp("us"))).astype("datetime64[us]")
    return pd.to_datetime(column.astype("string"))


def day_numbers(frame: pd.DataFrame) -> np.ndarray:
    """The frame's days as datetime64[D]: a join on the Arrow date column itself makes a Python
    object per row, several times over."""
    return as_datetimes(frame["trade_date"]).to_numpy().astype("datetime64[D]")


def empty() -> pd.DataFrame:
    return conform(pd.DataFrame({c: [] for c in REQUIRED}))


def conform_quarantine(frame: pd.DataFrame) -> pd.DataFrame:
    """Quarantined rows: every field as the text received (absent fields null), plus the reason.

    All columns are text so that any value can be stored; adjustment fields only when present.
    """
    columns = [c for c in QUARANTINE if c not in ADJUSTMENTS or c in frame.columns]
    out = frame.reindex(columns=columns).astype(TEXT)
    return out.sort_values("trade_date", kind="stable").reset_index(drop=True)
