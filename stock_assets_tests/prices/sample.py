"""Real-looking Alpha Vantage answers for the prices tests: the bundled sample, rendered in the
exact wire format, and the same answers with chosen rows edited, added or sent twice."""

import dataclasses
import json
from functools import cache

import pandas as pd

from stock_assets.alphavantage.answers import Answer
from stock_assets.alphavantage.api import DAILY, SERIES_KEY
from stock_assets.alphavantage.sample import SampleAnswers
from stock_assets.prices.validate import CleanedAnswer, clean_answer

SYMBOLS = ["AAPL", "MSFT", "IBM", "GOOG", "FB"]


def sample_answer(symbol="AAPL", *, function=DAILY, outputsize="full", datatype="json", body=None):
    reply = SampleAnswers().answer(
        {"function": function, "symbol": symbol, "outputsize": outputsize, "datatype": datatype}
    )
    return Answer(
        symbol=symbol,
        function=function,
        outputsize=outputsize,
        datatype=datatype,
        source="test",
        url="",
        fetched_at="2026-01-01T00:00:00+00:00",
        status_code=200,
        content_type=reply.content_type,
        body=reply.body if body is None else body,
    )


@cache
def _cleaned(symbol: str, function: str, outputsize: str, datatype: str) -> CleanedAnswer:
    answer = sample_answer(symbol, function=function, outputsize=outputsize, datatype=datatype)
    return clean_answer(answer)


def clean_sample(symbol="AAPL", *, function=DAILY, outputsize="full", datatype="json"):
    """The cleaned frame of an unedited sample answer (a fresh copy, cleaned once per session)."""
    return _cleaned(symbol, function, outputsize, datatype).clean.copy()


def _field_names(answer: Answer) -> dict[str, str]:
    """Column name -> the answer's own field name ('close' -> '4. close' in JSON)."""
    if answer.datatype == "csv":
        header = answer.body.split(b"\r\n", 1)[0].decode().split(",")[1:]
        return {name: name for name in header}
    first_row = next(iter(json.loads(answer.body)[SERIES_KEY].values()))
    return {key.split(". ", 1)[1].replace(" ", "_"): key for key in first_row}


def rows_of(answer: Answer) -> list[dict[str, str]]:
    """The answer's rows in the order sent, each {'trade_date': ..., column: text, ...}."""
    if answer.datatype == "csv":
        lines = answer.body.decode().split("\r\n")
        header = ["trade_date", *lines[0].split(",")[1:]]
        return [dict(zip(header, line.split(","), strict=True)) for line in lines[1:] if line]
    names = {field: column for column, field in _field_names(answer).items()}
    series = json.loads(answer.body)[SERIES_KEY]
    return [
        {"trade_date": day, **{names[field]: text for field, text in row.items()}}
        for day, row in series.items()
    ]


def with_rows(answer: Answer, rows: list[dict[str, str]]) -> Answer:
    """The same answer (format, header, meta data) holding exactly `rows`, in that order.

    A day may appear twice (JSON then repeats the key, as a faulty server would), and a row may
    lack fields (they are left out of the JSON object, left empty in the CSV line).
    """
    fields = _field_names(answer)
    if answer.datatype == "csv":
        lines = [answer.body.split(b"\r\n", 1)[0].decode()]
        lines += [",".join([r["trade_date"], *(r.get(c, "") for c in fields)]) for r in rows]
        return dataclasses.replace(answer, body=("\r\n".join(lines) + "\r\n").encode())
    meta = json.loads(answer.body)["Meta Data"]
    entries = ",\n".join(
        json.dumps(r["trade_date"])
        + ": "
        + json.dumps({fields[c]: v for c, v in r.items() if c != "trade_date"})
        for r in rows
    )
    text = f'{{"Meta Data": {json.dumps(meta)}, "{SERIES_KEY}": {{\n{entries}\n}}}}\n'
    return dataclasses.replace(answer, body=text.encode())


def edited(answer: Answer, day: str, **values: str) -> Answer:
    """The answer with some fields of one day's row replaced by the given text."""
    rows = rows_of(answer)
    assert day in {r["trade_date"] for r in rows}, day
    return with_rows(answer, [{**r, **values} if r["trade_date"] == day else r for r in rows])


def with_extra_row(answer: Answer, day: str, like: str, **values: str) -> Answer:
    """The answer plus a row dated `day` holding the values of day `like` (and `values`)."""
    rows = rows_of(answer)
    template = next(r for r in rows if r["trade_date"] == like)
    return with_rows(answer, [{**template, **values, "trade_date": day}, *rows])


def days(frame: pd.DataFrame) -> list[str]:
    return frame["trade_date"].astype(str).tolist()
