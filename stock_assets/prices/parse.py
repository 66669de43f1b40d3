"""Read an Alpha Vantage daily answer (JSON or CSV, daily or adjusted) into text and numbers.

Pure functions, no Dagster. The answer's newest-first order and its number formatting
("125.2500", "3.6") do not matter. Nothing is judged here: a value that does not parse becomes
NaN / NaT beside its text as received, and `stock_assets.prices.validate` decides what to keep.
"""

import io
import json
from datetime import date

import numpy as np
import pandas as pd

from stock_assets.alphavantage.answers import Answer
from stock_assets.alphavantage.api import SERIES_KEY
from stock_assets.prices import schema

TEXT_COLUMNS = ["trade_date", *schema.VALUES]


class UnparseableAnswer(ValueError):
    """An answer that holds no usable daily series."""


class _Pairs(list):
    """A JSON object as its (key, value) pairs, so a day sent twice is seen twice."""


def _column_name(field: str) -> str:
    """'5. adjusted close' -> 'adjusted_close'; CSV headers are already in that form."""
    return field.split(". ", 1)[-1].strip().replace(" ", "_")


def _json_rows(answer: Answer) -> tuple[pd.DataFrame, str | None]:
    try:
        payload = json.loads(answer.body, object_pairs_hook=_Pairs)
    except ValueError:
        raise UnparseableAnswer(f"{answer.symbol}: answer body is not valid JSON") from None
    top = dict(payload) if isinstance(payload, _Pairs) else {}
    series = top.get(SERIES_KEY)
    if not isinstance(series, _Pairs) or not series:
        raise UnparseableAnswer(f"{answer.symbol}: answer holds no {SERIES_KEY!r}")
    days = [day for day, _ in series]
    rows = pd.DataFrame([dict(row) if isinstance(row, _Pairs) else {} for _, row in series])
    rows = rows.rename(columns=_column_name)
    rows.insert(0, "trade_date", days)
    meta = top.get("Meta Data")
    last_refreshed = dict(meta).get("3. Last Refreshed") if isinstance(meta, _Pairs) else None
    return rows, last_refreshed


def _as_text(column: pd.Series) -> pd.Series:
    """Every value as the text received (numbers sent as JSON numbers become their repr)."""
    return column.astype(str).astype(object).where(column.notna(), None)


def _last_refreshed(symbol: str, text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(str(text)[:10])
    except ValueError:
        raise UnparseableAnswer(f"{symbol}: 'Last Refreshed' {text!r} is not a date") from None


def answer_frame(answer: Answer) -> tuple[pd.DataFrame, date | None]:
    """The answer's rows as text exactly as received (None where a field is absent), one row
    per day sent (duplicates kept), and its 'Last Refreshed' date when it states one (CSV never
    does).

    Columns: trade_date, open, high, low, close, volume, then the adjustment fields the answer
    carries. Raises `UnparseableAnswer` when the answer holds no series or lacks a required column.
    """
    if answer.datatype == "csv" and not answer.body.lstrip().startswith(b"{"):
        rows = pd.read_csv(io.BytesIO(answer.body), dtype=str, keep_default_na=False)
        rows = rows.rename(columns={"timestamp": "trade_date"})
        stated = None
    else:
        rows, stated = _json_rows(answer)
    missing = [c for c in schema.REQUIRED if c not in {"symbol", *rows.columns}]
    if missing:
        raise UnparseableAnswer(f"{answer.symbol}: answer lacks columns {missing}")
    rows = rows[[c for c in TEXT_COLUMNS if c in rows.columns]]
    return rows.apply(_as_text), _last_refreshed(answer.symbol, stated)


def parse_values(text: pd.DataFrame) -> pd.DataFrame:
    """The text rows as numbers: trade_date as datetime64, values as float64.

    Anything that is not a YYYY-MM-DD date or a finite decimal number becomes NaT / NaN.
    """
    typed = pd.DataFrame(index=text.index)
    typed["trade_date"] = pd.to_datetime(text["trade_date"], format="%Y-%m-%d", errors="coerce")
    for name in text.columns.drop("trade_date"):
        values = pd.to_numeric(text[name], errors="coerce").astype("float64")
        typed[name] = values.where(np.isfinite(values))
    return typed
