"""The offline sample: real daily prices bundled in the package, answered in Alpha Vantage's
exact wire format (JSON or CSV, compact or full, and its error payloads).

It backs two things: the offline client (`stock_assets.alphavantage.sample_client`) and the
loopback server (`stock_assets.alphavantage.sample_server`).
"""

import csv
import gzip
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from urllib.parse import parse_qs, urlsplit

from stock_assets.alphavantage.api import COMPACT_ROWS, DAILY, INFORMATION, SERIES_KEY

SAMPLE_DATA = files("stock_assets.alphavantage") / "sample_data"


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
            "1. Information": INFORMATION[function],
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


def sample_symbols(function: str = DAILY) -> list[str]:
    """Symbols with a bundled history for `function` (the daily series by default)."""
    names = (r.name for r in SAMPLE_DATA.iterdir())
    return sorted(n.split(".")[1] for n in names if n.startswith(f"{function}."))


def render(payload: dict, *, outputsize: str = "full", datatype: str = "json") -> Reply:
    """Render a full-history payload as Alpha Vantage would answer the given request."""
    series = payload[SERIES_KEY]
    if outputsize == "compact":
        meta = dict(payload["Meta Data"], **{"4. Output Size": "Compact"})
        series = dict(list(series.items())[:COMPACT_ROWS])
        payload = {"Meta Data": meta, SERIES_KEY: series}
    return _csv_reply(series) if datatype == "csv" else _json_reply(payload)


SeriesProvider = Callable[[str, str], dict | None]
"""(function, symbol) -> a full-history payload shaped like `bundled_series`'s, or None."""


class SampleAnswers:
    """Answers Alpha Vantage queries from the bundled sample, plus any extra series given and any
    a provider makes on demand (looked up in that order: extra, provider, bundle)."""

    def __init__(
        self,
        extra: dict[tuple[str, str], dict] | None = None,
        *,
        provider: SeriesProvider | None = None,
    ):
        self._extra = dict(extra or {})
        self._provider = provider

    def series(self, function: str, symbol: str) -> dict | None:
        return (
            self._extra.get((function, symbol))
            or (self._provider(function, symbol) if self._provider is not None else None)
            or bundled_series(function, symbol)
        )

    def answer(
        self, params: dict[str, str], *, alter: Callable[[dict], dict] | None = None
    ) -> Reply:
        """The reply to one query; `alter` changes the full-history payload before rendering."""
        function = params.get("function", "")
        symbol = params.get("symbol", "")
        payload = self.series(function, symbol) if function in INFORMATION else None
        if payload is None:
            return Reply(200, "application/json", error_payload("error_invalid_call"))
        if alter is not None:
            payload = alter(payload)
        return render(
            payload,
            outputsize=params.get("outputsize", "compact"),
            datatype=params.get("datatype", "json"),
        )


def query_params(url: str) -> dict[str, str]:
    """The query string of a URL as a flat dict."""
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}
