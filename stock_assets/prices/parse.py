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


def _object(value) -> dict | None:
    """A parsed JSON object as a dict (of a key sent twice, the last value), else None."""
    if isinstance(value, dict):
        return value
    return dict(value) if isinstance(value, _Pairs) else None


def _column_name(field: str) -> str:
    """'5. adjusted close' -> 'adjusted_close'; CSV headers are already in that form."""
    return field.split(". ", 1)[-1].strip().replace(" ", "_")


def _parsed_as_sent(body: bytes, top: dict, series: dict) -> bool:
    """Whether plain `json.loads` kept every key sent: no key sent twice (a day sent twice
    would be kept once), no object beyond the top, its meta data, series and rows.

    Every key and object sent is counted in the body: in JSON without a backslash, `":` only
    ends a key and `{` only opens an object. Equal counts leave no room for a repeat; anything
    else (escapes, spaces before a colon, nested objects) is parsed again keeping every pair.
    """
    if b"\\" in body:
        return False
    meta = top.get("Meta Data")
    objects = [top, series, *(row for row in series.values() if isinstance(row, dict))]
    objects += [meta] if isinstance(meta, dict) else []
    return body.count(b"{") == len(objects) and body.count(b'":') == sum(map(len, objects))


def _json_rows(answer: Answer) -> tuple[pd.DataFrame, str | None]:
    try:
        top = _object(json.loads(answer.body)) or {}
    except ValueError:
        raise UnparseableAnswer(f"{answer.symbol}: answer body is not valid JSON") from None
    series = top.get(SERIES_KEY)
    if isinstance(series, dict) and not _parsed_as_sent(answer.body, top, series):
        top = _object(json.loads(answer.body, object_pairs_hook=_Pairs)) or {}
        series = top.get(SERIES_KEY)
    if isinstance(series, dict):
        pairs = list(series.items())
    else:
        pairs = series if isinstance(series, _Pairs) else []
    if not pairs:
        raise UnparseableAnswer(f"{answer.symbol}: answer holds no {SERIES_KEY!r}")
    rows = pd.DataFrame([_object(row) or {} for _, row in pairs])
    rows = rows.rename(columns=_column_name)
    rows.insert(0, "trade_date", [day for day, _ in pairs])
    meta = _object(top.get("Meta Data"))
    return rows, None if meta is None else meta.get("3. Last Refreshed")


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
    typed = {"trade_date": pd.to_datetime(text["trade_date"], format="%Y-%m-%d", errors="coerce")}
    for name in text.columns.drop("trade_date"):
        values = pd.to_numeric(text[name], errors="coerce").astype("float64")
        typed[name] = values.where(np.isfinite(values))
    return pd.DataFrame(typed, index=text.index)  # at once: a column set at a time costs more
