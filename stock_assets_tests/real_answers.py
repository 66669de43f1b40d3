"""Real Alpha Vantage answers (`data/realav`, sources in its manifest), as the tests read them."""

import csv
import gzip
import io
import json
from pathlib import Path

from stock_assets.ingest.answers import Answer

FOLDER = Path(__file__).resolve().parent / "data" / "realav"
MANIFEST = json.loads((FOLDER / "manifest.json").read_bytes())
DATA = MANIFEST["data"]
ERRORS = MANIFEST["errors"]


def body(entry: dict) -> bytes:
    return gzip.decompress((FOLDER / f"{entry['file']}.gz").read_bytes())


def answer(entry: dict) -> Answer:
    """The answer as the client records it (source and time are the test's)."""
    return Answer(
        symbol=entry["symbol"], function=entry["function"], outputsize="full",
        datatype=entry["datatype"], source="alphavantage",
        url="https://www.alphavantage.co/query", fetched_at="2024-01-01T00:00:00+00:00",
        status_code=200, content_type="", body=body(entry),
    )


def text_rows(entry: dict) -> dict[str, dict[str, str]]:
    """Each day's values as the answer's text has them: {day: {open, high, low, close, volume,
    [adjusted_close, dividend_amount, split_coefficient]}}."""
    raw = body(entry).decode("utf-8")
    if entry["datatype"] == "csv":
        rows = csv.DictReader(io.StringIO(raw))
        return {r.pop("timestamp"): {k: v.strip() for k, v in r.items()} for r in rows}
    series = next(v for k, v in json.loads(raw).items() if k.startswith("Time Series"))
    names = {
        "1. open": "open", "2. high": "high", "3. low": "low", "4. close": "close",
        "5. volume": "volume", "5. adjusted close": "adjusted_close", "6. volume": "volume",
        "7. dividend amount": "dividend_amount", "8. split coefficient": "split_coefficient",
    }
    return {day: {names[k]: v for k, v in values.items()} for day, values in series.items()}
