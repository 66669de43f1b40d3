"""The offline sample source: real daily prices bundled in the package, served in Alpha Vantage's
exact wire format (JSON or CSV, compact or full, and its error payloads).

It backs two things: the offline default (a `requests` adapter, so the client runs unchanged
with no API key) and the loopback test server in `stock_assets.ingest.sample_server`. For load
tests, `SyntheticSample` makes any number of distinct symbols out of the five bundled histories.
"""

import csv
import gzip
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib.resources import files
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd
import requests
from requests.adapters import BaseAdapter

from stock_assets.ingest.answers import SERIES_KEY
from stock_assets.trading_calendar import nyse

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


_PRICE_FIELDS = ("1. open", "2. high", "3. low", "4. close")
_VOLUME_FIELD = "5. volume"
_GOLDEN = (5**0.5 - 1) / 2


def shift_sessions(days: list[str], last_session: date) -> list[str]:
    """ISO days that are NYSE sessions, moved session for session so the newest is `last_session`:
    gaps (closures, missing days) stay where they were relative to each other."""
    sessions = nyse().sessions
    positions = sessions.get_indexer(pd.DatetimeIndex(days))
    if (positions < 0).any():
        raise ValueError(f"{days[int(np.argmin(positions))]} is not an NYSE session")
    target = sessions.get_indexer(pd.DatetimeIndex([last_session]))[0]
    if target < 0:
        raise ValueError(f"{last_session} is not an NYSE session")
    moved = positions + (target - positions.max())
    if moved.min() < 0:
        raise ValueError(f"the history does not fit before {last_session} in the calendar")
    return list(sessions[moved].strftime("%Y-%m-%d"))


@cache
def _daily_arrays(base: str, last_session: date | None) -> tuple[dict, list[str], np.ndarray]:
    """A bundled daily history: meta data, days newest first, open/high/low/close/volume rows."""
    payload = bundled_series(DAILY, base)
    if payload is None:
        raise ValueError(f"no bundled daily history for {base}")
    series = payload[SERIES_KEY]
    days = list(series)
    values = np.array(
        [[float(row[name]) for name in (*_PRICE_FIELDS, _VOLUME_FIELD)] for row in series.values()]
    )
    if last_session is not None:
        days = shift_sessions(days, last_session)
    return payload["Meta Data"], days, values


class SyntheticSample:
    """Any number of distinct daily histories made from the bundled ones; a `SeriesProvider`.

    Symbol number i (``S0001``, ``S0002``, ...) is the i-th bundled daily history, round robin,
    with all its prices multiplied by a factor of its own (0.5 to 2, different for every symbol)
    and rounded to four decimals like the originals (rounding a scaled value keeps every order
    between a day's prices, so open and close stay between low and high), and each volume
    jittered by up to 10 %. The days are the original NYSE sessions, or with `last_session` the
    same sessions moved forward so that the history ends on that day. Setting `as_of` serves the
    days up to then only, as the API would have answered on an earlier day.
    """

    def __init__(
        self, count: int, *, prefix: str = "S", seed: int = 0, last_session: date | None = None
    ):
        width = max(4, len(str(count)))
        self.symbols = [f"{prefix}{number:0{width}d}" for number in range(1, count + 1)]
        self.seed = seed
        self.last_session = last_session
        self.as_of: date | None = None
        self._number = {symbol: number for number, symbol in enumerate(self.symbols)}
        self._bases = sample_symbols()

    def base(self, symbol: str) -> str:
        """The bundled symbol this one is made from."""
        return self._bases[self._number[symbol] % len(self._bases)]

    def factor(self, symbol: str) -> float:
        """This symbol's price factor: the golden-ratio sequence never repeats a value."""
        return 0.5 + 1.5 * ((self._number[symbol] + 1) * _GOLDEN % 1)

    def __call__(self, function: str, symbol: str) -> dict | None:
        if function != DAILY or symbol not in self._number:
            return None
        meta, days, values = _daily_arrays(self.base(symbol), self.last_session)
        rng = np.random.default_rng([self.seed, self._number[symbol]])
        prices = values[:, :4] * self.factor(symbol)
        volumes = np.rint(values[:, 4] * rng.uniform(0.9, 1.1, len(values))).astype(np.int64)
        cutoff = self.as_of.isoformat() if self.as_of is not None else days[0]
        first = next((i for i, day in enumerate(days) if day <= cutoff), len(days))
        if first == len(days):
            return None
        series = {
            days[i]: {
                **{name: f"{p:.4f}" for name, p in zip(_PRICE_FIELDS, prices[i], strict=True)},
                _VOLUME_FIELD: str(volumes[i]),
            }
            for i in range(first, len(days))
        }
        meta = dict(meta, **{"2. Symbol": symbol, "3. Last Refreshed": days[first]})
        return {"Meta Data": meta, SERIES_KEY: series}


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
