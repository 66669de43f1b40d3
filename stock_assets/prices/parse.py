"""Parse an Alpha Vantage daily answer (JSON or CSV, daily or adjusted) into a typed frame.

Pure functions, no Dagster: the answer's newest-first order and its number formatting
("125.2500", "3.6") do not matter to the result.
"""

import io
import json

import pandas as pd

from stock_assets.ingest.answers import SERIES_KEY, Answer
from stock_assets.prices import schema


class UnparseableAnswer(ValueError):
    """An answer that holds no usable daily series."""


def _column_name(field: str) -> str:
    """'5. adjusted close' -> 'adjusted_close'; CSV headers are already in that form."""
    return field.split(". ", 1)[-1].strip().replace(" ", "_")


def answer_frame(answer: Answer) -> tuple[pd.DataFrame, str | None]:
    """The answer's rows as text columns, and its 'Last Refreshed' date when it states one."""
    if answer.datatype == "csv":
        raw = pd.read_csv(io.BytesIO(answer.body), dtype=str, keep_default_na=False)
        raw = raw.rename(columns={"timestamp": "trade_date"})
        return raw, None
    payload = json.loads(answer.body)
    series = payload.get(SERIES_KEY)
    if not isinstance(series, dict) or not series:
        raise UnparseableAnswer(f"{answer.symbol}: answer holds no {SERIES_KEY!r}")
    raw = pd.DataFrame.from_dict(series, orient="index", dtype=str)
    raw = raw.rename(columns=_column_name).rename_axis("trade_date").reset_index()
    return raw, payload.get("Meta Data", {}).get("3. Last Refreshed")


def parse_answer(answer: Answer) -> pd.DataFrame:
    """A typed, sorted frame of the answer's days; raises naming the symbol and bad days."""
    raw, _ = answer_frame(answer)
    missing = [c for c in schema.REQUIRED if c not in {"symbol", *raw.columns}]
    if missing:
        raise UnparseableAnswer(f"{answer.symbol}: answer lacks columns {missing}")
    frame = pd.DataFrame({"symbol": answer.symbol, "trade_date": raw["trade_date"]})
    frame["trade_date"] = pd.to_datetime(raw["trade_date"], format="%Y-%m-%d", errors="coerce")
    for name in schema.VALUES:
        if name in raw.columns:
            frame[name] = pd.to_numeric(raw[name], errors="coerce")
    bad = frame[frame[[c for c in frame.columns if c != "symbol"]].isna().any(axis=1)]
    if not bad.empty:
        days = raw.loc[bad.index, "trade_date"].head(5).tolist()
        raise UnparseableAnswer(
            f"{answer.symbol}: {len(bad)} row(s) with unparseable values, e.g. on {days}"
        )
    return schema.conform(frame)
