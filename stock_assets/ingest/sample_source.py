"""The offline sample source: real daily prices bundled in the package, served in Alpha Vantage's
exact wire format (JSON or CSV, compact or full, and its error payloads).

It backs two things: the offline default (a `requests` adapter, so the client runs unchanged
with no API key) and the loopback test server in `stock_assets.ingest.sample_server`.
"""

import csv
import gzip
import io
import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from urllib.parse import parse_qs, urlsplit

import requests
from requests.adapters import BaseAdapter

from stock_assets.ingest.answers import SERIES_KEY

SAMPLE_DATA = files("stock_assets.ingest") / "sample_data"
DAILY = "TIME_SERIES_DAILY"
DAILY_ADJUSTED = "TIME_SERIES_DAILY_ADJUSTED"
COMPACT_ROWS = 100
_INFORMATION = {
    DAILY: "Daily Prices (open, high, low, close) and Volumes",
    DAILY_ADJUSTED: "Daily Time Series with Splits and Dividend Events",
}


@dataclass(frozen=True)
class Reply:
    """An HTTP reply: status, content type and body bytes."""

    status: int
    content_type: str
    body: bytes


def error_payload(name: str) -> bytes:
    """One of the bundled error/limit payloads, e.g. ``error_invalid_call``."""
    return (SAMPLE_DATA / "errors" / f"{name}.json").read_bytes()


def _json_reply(payload: dict) -> Reply:
    body = (json.dumps(payload, indent=4) + "\n").encode()
    return Reply(200, "application/json", body)


def _csv_reply(series: dict[str, dict[str, str]]) -> Reply:
    fields = next(iter(series.values())).keys()
    header = ["timestamp"] + [f.split(". ", 1)[1].replace(" ", "_") for f in fields]
    lines = [",".join(header)] + [",".join([day, *row.values()]) for day, row in series.items()]
    return Reply(200, "application/x-download", ("\r\n".join(lines) + "\r\n").encode())


def _series_from_csv(text: str, function: str, symbol: str) -> dict:
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    names = [f"{i}. {name.replace('_', ' ')}" for i, name in enumerate(header[1:], start=1)]
    series = {row[0]: dict(zip(names, row[1:], strict=True)) for row in body}
    return {
        "Meta Data": {
            "1. Information": _INFORMATION[function],
            "2. Symbol": symbol,
            "3. Last Refreshed": body[0][0],
            "4. Output Size": "Full size",
            "5. Time Zone": "US/Eastern",
        },
        SERIES_KEY: series,
    }


@cache
def bundled_series(function: str, symbol: str) -> dict | None:
    """The full-history JSON payload bundled for (function, symbol), or None."""
    for name in (f"{function}.{symbol}.json.gz", f"{function}.{symbol}.csv.gz"):
        resource = SAMPLE_DATA / name
        if resource.is_file():
            text = gzip.decompress(resource.read_bytes()).decode()
            if name.endswith(".json.gz"):
                return json.loads(text)
            return _series_from_csv(text, function, symbol)
    return None


def sample_symbols() -> list[str]:
    """Symbols with a bundled daily history."""
    names = (r.name for r in SAMPLE_DATA.iterdir())
    return sorted(n.split(".")[1] for n in names if n.startswith(f"{DAILY}."))


def render(payload: dict, *, outputsize: str = "full", datatype: str = "json") -> Reply:
    """Render a full-history payload as Alpha Vantage would answer the given request."""
    series = payload[SERIES_KEY]
    if outputsize == "compact":
        meta = dict(payload["Meta Data"], **{"4. Output Size": "Compact"})
        series = dict(list(series.items())[:COMPACT_ROWS])
        payload = {"Meta Data": meta, SERIES_KEY: series}
    return _csv_reply(series) if datatype == "csv" else _json_reply(payload)


POISONED_ROWS = {10: "high below low", 20: "negative volume", 30: "unparseable close"}


def poison(payload: dict) -> dict:
    """A copy of the payload with three rows broken (by position, newest first), for testing
    that validation quarantines exactly those rows."""
    series = {day: dict(row) for day, row in payload[SERIES_KEY].items()}
    days = list(series)
    fields = {name.split(". ", 1)[1]: name for name in series[days[0]]}
    broken = series[days[10]]
    broken[fields["high"]] = f"{float(broken[fields['low']]) - 1:.4f}"
    series[days[20]][fields["volume"]] = "-100"
    series[days[30]][fields["close"]] = "n/a"
    return {**payload, SERIES_KEY: series}


class SampleAnswers:
    """Answers Alpha Vantage queries from the bundled sample (plus any extra series given)."""

    def __init__(self, extra: dict[tuple[str, str], dict] | None = None):
        self._extra = dict(extra or {})

    def series(self, function: str, symbol: str) -> dict | None:
        return self._extra.get((function, symbol)) or bundled_series(function, symbol)

    def answer(self, params: dict[str, str], *, poisoned: bool = False) -> Reply:
        function = params.get("function", "")
        symbol = params.get("symbol", "")
        payload = self.series(function, symbol) if function in _INFORMATION else None
        if payload is None:
            return Reply(200, "application/json", error_payload("error_invalid_call"))
        if poisoned:
            payload = poison(payload)
        return render(
            payload,
            outputsize=params.get("outputsize", "compact"),
            datatype=params.get("datatype", "json"),
        )


def query_params(url: str) -> dict[str, str]:
    """The query string of a URL as a flat dict."""
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


class SampleAdapter(BaseAdapter):
    """A `requests` transport that answers from the sample instead of the network."""

    def __init__(self, answers: SampleAnswers | None = None):
        super().__init__()
        self._answers = answers or SampleAnswers()

    def send(self, request: requests.PreparedRequest, **kwargs) -> requests.Response:
        reply = self._answers.answer(query_params(request.url or ""))
        response = requests.Response()
        response.status_code = reply.status
        response.headers["Content-Type"] = reply.content_type
        response._content = reply.body
        response.url = request.url or ""
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        pass
