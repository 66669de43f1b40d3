"""The cleaned daily-prices table: its columns and types, in one place."""

import pandas as pd
import pyarrow as pa

KEY = ["symbol", "trade_date"]
PRICES = ["open", "high", "low", "close"]
REQUIRED = [*KEY, *PRICES, "volume"]
ADJUSTMENTS = ["adjusted_close", "dividend_amount", "split_coefficient"]
VALUES = [*PRICES, "volume", *ADJUSTMENTS]
DATE = pd.ArrowDtype(pa.date32())


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """Cast to the canonical types and column order, sorted by day, with a fresh index.

    Adjustment columns are kept only when present, so a free-plan history stays narrow.
    """
    columns = REQUIRED + [c for c in ADJUSTMENTS if c in frame.columns]
    out = frame[columns].copy()
    out["symbol"] = out["symbol"].astype("string[pyarrow]")
    out["trade_date"] = pd.to_datetime(out["trade_date"]).dt.date.astype(DATE)
    for name in columns[2:]:
        out[name] = out[name].astype("int64" if name == "volume" else "float64")
    return out.sort_values("trade_date", kind="stable").reset_index(drop=True)


def empty() -> pd.DataFrame:
    return conform(pd.DataFrame({c: [] for c in REQUIRED}))
