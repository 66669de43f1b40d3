"""The offline sample: real daily prices bundled in the package, answered in Alpha Vantage's
exact wire format (JSON or CSV, compact or full, and its error payloads).

It backs two things: the offline client (`stock_assets.alphavantage.sample_client`) and the
loopback server (`stock_assets.alphavantage.sample_server`).
"""

import csv
import gzip
import io
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from urllib.parse import parse_qs, urlsplit

from stock_assets.alphavantage.api import (
    ACTION_FIELDS,
    COMPACT_ROWS,
    DAILY,
    DIVIDENDS,
    INFORMATION,
    SERIES_KEY,
    SPLITS,
)

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


@cache
def bundled_actions() -> dict[tuple[str, str], list[dict]]:
    """The sample's real corporate actions as SPLITS and DIVIDENDS events, newest first, by
    (function, symbol): `corporate_actions.csv` (the splits and the dividends implied by the
    sample's adjusted close, see the README beside it)."""
    text = gzip.decompress((SAMPLE_DATA / "corporate_actions.csv.gz").read_bytes()).decode()
    events: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in csv.DictReader(io.StringIO(text)):
        day, value = row["ex_date"], row["implied_value"]
        if row["type"] == "split":
            events[SPLITS, row["ticker"]].append(
                {"effective_date": day, "split_factor": f"{float(value):.4f}"}
            )
        else:
            events[DIVIDENDS, row["ticker"]].append(
                {"ex_dividend_date": day, "declaration_date": "None", "record_date": "None",
                 "payment_date": "None", "amount": value}
            )
    return {key: sorted(found, key=lambda e: next(iter(e.values())), reverse=True)
            for key, found in events.items()}


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

    def actions(self, function: str, symbol: str) -> dict | None:
        """A SPLITS or DIVIDENDS payload: an extra one given as (function, symbol), else the
        bundled events, else none at all (`data` empty) for a symbol with a daily series, as
        Alpha Vantage answers for a symbol that never split or paid."""
        if (function, symbol) in self._extra:
            return self._extra[function, symbol]
        events = bundled_actions().get((function, symbol))
        if events is None and self.series(DAILY, symbol) is None:
            return None
        return {"symbol": symbol, "data": events or []}

    def answer(
        self, params: dict[str, str], *, alter: Callable[[dict], dict] | None = None
    ) -> Reply:
        """The reply to one query; `alter` changes the full-history payload before rendering."""
        function = params.get("function", "")
        symbol = params.get("symbol", "")
        if function in ACTION_FIELDS:
            payload = self.actions(function, symbol)
            if payload is None:
                return Reply(200, "application/json", error_payload("error_invalid_call"))
            return _json_reply(payload)
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
