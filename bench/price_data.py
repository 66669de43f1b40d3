"""Realistic cleaned price histories for the load benchmarks, their lineage, a refresh of them,
and their rows encoded as a COPY caller would send them (binary by the loader's own encoder,
CSV by pyarrow), encoded before any clock starts."""

import hashlib
import io
import string
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from stock_assets.prices import schema as prices
from stock_assets.warehouse.copy_encoding import COPY_HEADER, COPY_TRAILER, binary_copy_rows
from stock_assets.warehouse.load import Lineage
from stock_assets.warehouse.rows import STAGED_COLUMNS, SymbolRows


def price_histories(rows: int, days: int, seed: int) -> dict[str, pd.DataFrame]:
    """Cleaned histories of rows // days symbols over the same `days` business days: random-walk
    prices, log-normal volumes, and on every other symbol the adjusted-plan columns."""
    rng = np.random.default_rng(seed)
    symbols: set[str] = set()
    while len(symbols) < max(1, rows // days):
        symbols.add("".join(rng.choice(list(string.ascii_uppercase), rng.integers(1, 6))))
    trading_days = pd.bdate_range("2016-01-04", periods=days)
    histories = {}
    for i, symbol in enumerate(sorted(symbols)):
        close = rng.uniform(5, 500) * np.exp(np.cumsum(rng.normal(0, 0.02, days)))
        open_ = close * np.exp(rng.normal(0, 0.01, days))
        frame = pd.DataFrame(
            {
                "symbol": symbol,
                "trade_date": trading_days,
                "open": open_.round(4),
                "high": (np.maximum(open_, close) * (1 + rng.uniform(0, 0.02, days))).round(4),
                "low": (np.minimum(open_, close) * (1 - rng.uniform(0, 0.02, days))).round(4),
                "close": close.round(4),
                "volume": rng.lognormal(13, 1.5, days).astype("int64"),
            }
        )
        if i % 2 == 0:
            dividend = rng.random(days) < 0.016
            frame["adjusted_close"] = (close * rng.uniform(0.9, 1.0)).round(6)
            frame["dividend_amount"] = np.where(dividend, rng.uniform(0.05, 1.5, days), 0.0)
            frame["split_coefficient"] = np.where(rng.random(days) < 0.0005, 2.0, 1.0)
        histories[symbol] = prices.conform(frame)
    return histories


def lineages(histories: dict[str, pd.DataFrame]) -> dict[str, Lineage]:
    run_id = str(uuid.uuid4())
    return {
        symbol: Lineage(
            f"s3://stock-assets/cleaned/daily_prices/{symbol}.parquet",
            hashlib.sha256(symbol.encode()).hexdigest(),
            run_id,
        )
        for symbol in histories
    }


@dataclass(frozen=True)
class Refresh:
    """The stored half of each history, and the histories with a tenth of that half revised."""

    name: str
    stored: dict[str, pd.DataFrame]
    revised: dict[str, pd.DataFrame]
    changed: int


def refresh_of(histories: dict[str, pd.DataFrame], seed: int, *, interleaved: bool) -> Refresh:
    """Each history's older half stored, or with `interleaved` every other day."""
    rng = np.random.default_rng(seed + 1)
    stored, revised, changed = {}, {}, 0
    for symbol, frame in histories.items():
        days = np.arange(0, len(frame), 2) if interleaved else np.arange(len(frame) // 2)
        stored[symbol] = frame.iloc[days]
        frame = frame.copy()
        days = rng.choice(days, size=len(days) // 10, replace=False)
        frame.loc[days, "close"] = (frame.loc[days, "close"] * 1.01).round(4)
        revised[symbol], changed = frame, changed + len(days)
    name = "every other day stored" if interleaved else "older half stored"
    return Refresh(name, stored, revised, changed)


def flat_frame(histories: dict[str, pd.DataFrame], lineage: dict[str, Lineage]) -> pd.DataFrame:
    """All rows with all table columns, as a `to_sql` or `executemany` caller would hold them."""
    frame = pd.concat(histories.values(), ignore_index=True).reindex(columns=STAGED_COLUMNS)
    frame["symbol"] = frame["symbol"].astype(str)
    frame["trade_date"] = frame["trade_date"].to_numpy(dtype="datetime64[D]").astype(object)
    for name in ["source_uri", "source_sha256", "run_id"]:
        frame[name] = frame["symbol"].map({s: getattr(x, name) for s, x in lineage.items()})
    frame["loaded_at"] = pd.Timestamp.now(tz="UTC")
    return frame


def binary_copy_data(histories: dict[str, pd.DataFrame], lineage: dict[str, Lineage]) -> bytes:
    """All rows in binary COPY format, by the loader's own encoder (the fastest at hand)."""
    loaded_at = datetime.now(UTC)
    parts = [COPY_HEADER]
    for symbol, frame in histories.items():
        rows = SymbolRows.from_frame(symbol, frame, lineage[symbol])
        parts.extend(c.tobytes() for c in binary_copy_rows(rows.copy_fields(loaded_at), len(rows)))
    return b"".join([*parts, COPY_TRAILER])


def csv_copy_data(frame: pd.DataFrame) -> bytes:
    """All rows as CSV, by pyarrow's writer (six times faster than pandas')."""
    sink = io.BytesIO()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False))
    return sink.getvalue()
