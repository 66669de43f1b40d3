"""Daily-prices frames for storage tests, readers that are not ours, and a view all agree on."""

import datetime as dt
import io

import numpy as np
import pandas as pd
import pyarrow as pa


def daily_prices(symbol: str, days: int = 7, seed: int = 0) -> pd.DataFrame:
    """One symbol's prices, with floats that need all 17 digits to survive a round trip."""
    rng = np.random.default_rng([seed, *symbol.encode()])
    close = 100 + rng.standard_normal(days).cumsum() / 3
    return pd.DataFrame(
        {
            "symbol": [symbol] * days,
            "trade_date": pd.array(
                [dt.date(2024, 1, 2) + dt.timedelta(days=n) for n in range(days)],
                dtype=pd.ArrowDtype(pa.date32()),
            ),
            "open": close - 0.1 - 0.2,
            "high": close + 1 / 3,
            "low": close - 2 / 3,
            "close": close,
            "volume": rng.integers(1_000, 10_000_000, days).astype("int64"),
        }
    )


def comparable(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates and text as CSV and JSON readers type them differently; numbers exactly as stored."""
    out = frame.reset_index(drop=True).copy()
    out["symbol"] = out["symbol"].astype(str)
    out["trade_date"] = pd.to_datetime(out["trade_date"].astype(str)).astype("datetime64[s]")
    return out


PLAIN_READERS = {
    "parquet": lambda data: pd.read_parquet(io.BytesIO(data)),
    "csv": lambda data: pd.read_csv(io.BytesIO(data), float_precision="round_trip"),
    "json": lambda data: pd.read_json(io.BytesIO(data), lines=True, precise_float=True),
}
