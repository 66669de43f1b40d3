"""The hostile-input corpus (issue 16, part 4): what a server or a user may throw at the pipeline,
each case with the outcome it must have.

Written by us, independent of the sample server's canned errors: every answer is built here
from the good one (AAPL's real history relabelled, `server.good_json`), broken on purpose.
A case is a small record: its name, its level (wire, envelope, value, symbol), what is served
(`serve(symbol)` gives the server's `Behaviour`) and what must come of it:

- `rejected(fragment)`: the symbol's CLI line says FAILED with the fragment, and nothing the
  symbol had stored changes (objects byte for byte, table rows);
- `quarantined(fragment, day)`: the day is in the symbol's quarantine file with the fragment
  in its reason, and the run goes on;
- `accepted()`: the answer is stored and the run is ok.

Over 300 lines: the corpus is one list a reader scans for what is covered; each case is a line
or two, grouped by level.
"""

import datetime
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from stock_assets.alphavantage.api import SERIES_KEY
from stock_assets_tests.hostile.server import (
    Behaviour,
    Drip,
    Raw,
    Reply,
    Reset,
    Stall,
    Then,
    chunked,
    good_csv,
    good_json,
    good_payload,
    gzipped,
    head,
    model_days,
)

KEY = "hostile-KEY-0123"  # the API key every run uses: it must show up nowhere
DEADLINE_SECONDS = 2  # ALPHAVANTAGE_REQUEST_DEADLINE_SECONDS for the runs
GARBAGE_BYTES = 50 * 1024 * 1024
# Seconds a retried failure waits in backoff (1 + 2 + 4 + 8 over five attempts), and one that
# also runs into the deadline on each attempt: how the runner balances its batches.
RETRIED, TIMED_OUT = 16.0, 16.0 + 5 * DEADLINE_SECONDS
JSON, CSV = "application/json", "application/x-download"
FULL_WIDTH_438 = "\uff14\uff13\uff18"  # 438 in full-width digits, which float() would read


@dataclass(frozen=True)
class Expect:
    """The outcome a case must have; `fragment` may name the case's `{symbol}`."""

    outcome: str  # "rejected", "quarantined" or "accepted"
    fragment: str = ""
    day: str = ""
    status: str = ""  # the CLI line's word, when not the outcome's usual (ok / FAILED)
    line: str = ""  # what the CLI line must also say

    @property
    def line_status(self) -> str:
        return self.status or ("FAILED" if self.outcome == "rejected" else "ok")

    def describe(self) -> str:
        detail = f" ({self.fragment!r}{' on ' + self.day if self.day else ''})"
        return self.outcome + (detail if self.fragment else "")


def rejected(fragment: str) -> Expect:
    return Expect("rejected", fragment)


def quarantined(fragment: str, day: str, status: str = "", line: str = "") -> Expect:
    return Expect("quarantined", fragment, day, status, line)


def accepted() -> Expect:
    return Expect("accepted")


@dataclass(frozen=True)
class Case:
    """One answer-level case: served to its own symbol in a batch of runs."""

    name: str
    level: str
    serve: Callable[[str], Behaviour]
    expect: Expect
    datatype: str = "json"  # ALPHAVANTAGE_DATATYPE of its batch
    refused: bool = False  # its batch's hostile run points at a port nobody listens on
    waits: float = 0.0  # seconds it spends waiting (backoff, deadlines), for balancing


@dataclass(frozen=True)
class SymbolCase:
    """A watchlist (`STOCK_ASSETS_SYMBOLS`) or command-line symbol, refused or accepted."""

    name: str
    symbols: str
    expect: Expect
    argument: bool = False  # given on the command line rather than in the variable
    level: str = "symbol"


# --- what is served ------------------------------------------------------------------------


def _json(payload: object) -> Reply:
    return Reply((json.dumps(payload, indent=4) + "\n").encode())


def _altered(change: Callable[[dict], None]) -> Callable[[str], Behaviour]:
    """The good payload with `change(payload)` applied, as JSON."""

    def serve(symbol: str) -> Behaviour:
        payload = good_payload(symbol)
        change(payload)
        return _json(payload)

    return serve


def _row(day: str, field: str, value: object) -> Callable[[str], Behaviour]:
    """One value of one day replaced ('1. open', '5. volume', ...); None removes the field."""

    def change(payload: dict) -> None:
        row = payload[SERIES_KEY][day]
        if value is _ABSENT:
            del row[field]
        else:
            row[field] = value

    return _altered(change)


_ABSENT = object()


def _day(day: str, row: object = None) -> Callable[[str], Behaviour]:
    """One more day in the series (a copy of the newest day's values unless `row` is given)."""

    def change(payload: dict) -> None:
        series = payload[SERIES_KEY]
        series[day] = row if row is not None else dict(next(iter(series.values())))

    return _altered(change)


def _series(value: object) -> Callable[[str], Behaviour]:
    def change(payload: dict) -> None:
        payload[SERIES_KEY] = value

    return _altered(change)


def _meta_symbol(named: object) -> Callable[[str], Behaviour]:
    def serve(symbol: str) -> Behaviour:
        payload = good_payload(symbol)
        payload["Meta Data"]["2. Symbol"] = named(symbol) if callable(named) else named
        return _json(payload)

    return serve


def _keys(rename: Callable[[str], str], rows: bool = False) -> Callable[[str], Behaviour]:
    """The top-level keys (or, with `rows`, every row's field names) renamed."""

    def change(payload: dict) -> None:
        if rows:
            for day, row in payload[SERIES_KEY].items():
                payload[SERIES_KEY][day] = {rename(k): v for k, v in row.items()}
        else:
            for key in list(payload):
                payload[rename(key)] = payload.pop(key)

    return _altered(change)


def _body(make: Callable[[bytes], bytes], content_type: str = JSON,
          headers: tuple = ()) -> Callable[[str], Behaviour]:
    """The good JSON body transformed by `make`, well framed."""
    return lambda symbol: Reply(make(good_json(symbol)), content_type=content_type,
                                headers=headers)


def _raw(make: Callable[[bytes], bytes]) -> Callable[[str], Behaviour]:
    """Exactly the bytes `make(good body)` returns, framing included."""
    return lambda symbol: Raw(make(good_json(symbol)))


def _status(status: int, body: bytes = b"") -> Callable[[str], Behaviour]:
    return lambda symbol: Reply(body, status=status, content_type="text/plain")


def _then_good(first: Callable[[str], Behaviour]) -> Callable[[str], Behaviour]:
    return lambda symbol: Then((first(symbol), Reply(good_json(symbol))))


def _duplicate(day: str, conflicting: bool) -> Callable[[str], Behaviour]:
    """The day sent twice in the series object (JSON allows the text; a dict cannot hold it)."""

    def serve(symbol: str) -> Behaviour:
        payload = good_payload(symbol)
        row = dict(payload[SERIES_KEY][day])
        if conflicting:
            row["4. close"] = f"{float(row['4. close']) + 1:.4f}"
        text = json.dumps(payload, indent=4)
        again = json.dumps({day: row}, indent=4)[1:-1].strip()
        marker = f'"{day}": {{'
        return Reply(text.replace(marker, again + ",\n" + marker, 1).encode())

    return serve


@cache
def _garbage() -> bytes:
    return random.Random(16).randbytes(GARBAGE_BYTES)


def _garbage_reply(symbol: str) -> Behaviour:
    return Raw(make=lambda: head(200, {"Content-Type": JSON}, length=GARBAGE_BYTES) + _garbage())


def _deeply_nested(symbol: str) -> Behaviour:
    depth = 100_000
    return Reply(b'{"a": ' + b"[" * depth + b"]" * depth + b"}")


def _many_days(count: int) -> Callable[[str], Behaviour]:
    """`count` consecutive days back from the good answer's last, every one of them sent."""
    row = '{"1. open": "10", "2. high": "11", "3. low": "9", "4. close": "10", "5. volume": "1"}'
    last = datetime.date.fromisoformat(model_days()[0])

    def serve(symbol: str) -> Behaviour:
        days = ",".join(f'"{last - datetime.timedelta(days=i)}": {row}' for i in range(count))
        meta = json.dumps(good_payload(symbol)["Meta Data"])
        return Reply(f'{{"Meta Data": {meta}, "{SERIES_KEY}": {{{days}}}}}'.encode())

    return serve


def _same_query(symbol: str) -> str:
    return f"/query?function=TIME_SERIES_DAILY&symbol={symbol}&outputsize=full&datatype=json"


def _csv(make: Callable[[bytes], bytes]) -> Callable[[str], Behaviour]:
    return lambda symbol: Reply(make(good_csv()), content_type=CSV)


def _csv_row(column: int, value: str) -> Callable[[bytes], bytes]:
    """The second data row's `column` (0 is the date) replaced by `value`, verbatim."""

    def make(body: bytes) -> bytes:
        lines = body.split(b"\r\n")
        cells = lines[2].split(b",")
        cells[column] = value.encode()
        lines[2] = b",".join(cells)
        return b"\r\n".join(lines)

    return make


def _cut_mid_line(body: bytes) -> bytes:
    cut = len(body) // 2
    while body[cut - 1:cut] in b"\r\n":
        cut += 1
    return body[:cut]


def _framed(body: bytes, headers: dict[str, str], *, length: int | None = None) -> bytes:
    return head(200, {"Content-Type": JSON, **headers}, length=length) + body


def _wire_cases() -> list[Case]:
    unavailable = "Alpha Vantage service unavailable: "
    malformed = "Alpha Vantage malformed answer: "
    not_json = malformed + "body is not valid JSON"
    late = unavailable + f"timed out after {DEADLINE_SECONDS} s (deadline): "
    return [
        Case("HTML page with status 200", "wire",
             lambda s: Reply(b"<html><body><h1>Down for maintenance</h1></body></html>",
                             content_type="text/html"), rejected(not_json + " (55 bytes)"),
             waits=RETRIED),
        Case("empty JSON body", "wire", _body(lambda b: b""), rejected(not_json + " (0 bytes)"),
             waits=RETRIED),
        Case("truncated JSON body", "wire", _body(lambda b: b[: len(b) // 2]),
             rejected(not_json), waits=RETRIED),
        Case("invalid UTF-8 in a value", "wire",
             _body(lambda b: b.replace(b'"438.0000"', b'"43\xff\xfe8"', 1)), rejected(not_json),
             waits=RETRIED),
        Case("trailing garbage after the JSON", "wire", _body(lambda b: b + b"\x00garbage"),
             rejected(not_json), waits=RETRIED),
        Case("gzip header over a plain body", "wire",
             _body(lambda b: b, headers=(("Content-Encoding", "gzip"),)),
             rejected(unavailable + "ContentDecodingError"), waits=RETRIED),
        Case("truncated gzip body", "wire",
             _body(lambda b: gzipped(b)[:-200], headers=(("Content-Encoding", "gzip"),)),
             rejected(unavailable + "ContentDecodingError"), waits=RETRIED),
        Case("deflate header over a plain body", "wire",
             _body(lambda b: b, headers=(("Content-Encoding", "deflate"),)),
             rejected(unavailable + "ContentDecodingError"), waits=RETRIED),
        Case("a real gzip body", "wire",
             _body(gzipped, headers=(("Content-Encoding", "gzip"),)), accepted()),
        Case("50 MB of garbage", "wire", _garbage_reply,
             rejected(not_json + f" ({GARBAGE_BYTES} bytes)"), waits=RETRIED),
        Case("HTTP 500", "wire", _status(500), rejected(unavailable + "HTTP 500 from"),
             waits=RETRIED),
        Case("HTTP 502", "wire", _status(502, b"<html>Bad Gateway</html>"),
             rejected(unavailable + "HTTP 502 from"), waits=RETRIED),
        Case("HTTP 503", "wire", _status(503), rejected(unavailable + "HTTP 503 from"),
             waits=RETRIED),
        Case("HTTP 429", "wire", _status(429), rejected(unavailable + "HTTP 429 from"),
             waits=RETRIED),
        Case("HTTP 404", "wire", _status(404), rejected("Alpha Vantage HTTP error: HTTP 404 from")),
        Case("HTTP 204 without a body", "wire", _status(204),
             rejected("Alpha Vantage HTTP error: HTTP 204 from")),
        Case("a transient 503, then the answer", "wire", _then_good(_status(503)), accepted()),
        Case("a transient 429, then the answer", "wire",
             _then_good(lambda s: Reply(b"", status=429, headers=(("Retry-After", "1"),))),
             accepted()),
        Case("an HTML page, then the answer", "wire",
             _then_good(lambda s: Reply(b"<html></html>", content_type="text/html")), accepted()),
        Case("a reset before any byte", "wire", lambda s: Reset(),
             rejected(unavailable + "ConnectionError from"), waits=RETRIED),
        Case("a reset in the middle of the body", "wire",
             lambda s: Reset(_framed(good_json(s)[:20_000], {}, length=len(good_json(s)))),
             rejected(unavailable), waits=RETRIED),
        Case("closed without an answer", "wire", lambda s: Raw(b""),
             rejected(unavailable + "ConnectionError from"), waits=RETRIED),
        Case("connection refused", "wire", lambda s: Reply(good_json(s)),
             rejected(unavailable + "ConnectionError from"), refused=True, waits=RETRIED),
        Case("body dripped a byte at a time", "wire",
             lambda s: Drip(_framed(good_json(s), {}, length=len(good_json(s))), every=0.01,
                            step=64),
             rejected(late + "the answer was still arriving"), waits=TIMED_OUT),
        Case("stall after the headers", "wire",
             lambda s: Stall(_framed(b"", {}, length=len(good_json(s)))),
             rejected(late + "the answer was still arriving"), waits=TIMED_OUT),
        Case("stall before any byte", "wire", lambda s: Stall(),
             rejected(late + "no answer arrived"), waits=TIMED_OUT),
        Case("slowloris: status line, then silence", "wire",
             lambda s: Stall(b"HTTP/1.1 200 OK\r\n"), rejected(late), waits=TIMED_OUT),
        Case("slowloris: headers a byte at a time", "wire",
             lambda s: Drip(_framed(good_json(s), {"X-Pad": "p" * 200},
                                    length=len(good_json(s))), every=0.05),
             rejected(late), waits=TIMED_OUT),
        Case("slowloris: endless header lines", "wire",
             lambda s: Drip(b"HTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 90, every=0.02, step=3),
             rejected(late), waits=TIMED_OUT),
        Case("slowloris: chunks trickling in", "wire",
             lambda s: Drip(_framed(chunked(good_json(s), 16), {"Transfer-Encoding": "chunked"}),
                            every=0.01, step=64),
             rejected(late + "the answer was still arriving"), waits=TIMED_OUT),
        Case("Content-Length longer than the body", "wire",
             _raw(lambda b: _framed(b, {}, length=len(b) + 1000)),
             rejected(unavailable + "ChunkedEncodingError"), waits=RETRIED),
        Case("Content-Length shorter than the body", "wire",
             _raw(lambda b: _framed(b, {}, length=len(b) // 2)), rejected(not_json),
             waits=RETRIED),
        Case("two Content-Lengths that disagree", "wire",
             _raw(lambda b: _framed(b, {"Content-Length": f"{len(b)}, {len(b) + 5}"})),
             rejected(unavailable), waits=RETRIED),
        # Read until the close, as http.client does; the whole body arrives and is checked.
        Case("Content-Length not a number", "wire",
             _raw(lambda b: _framed(b, {"Content-Length": "lots"})), accepted()),
        Case("chunk size not hexadecimal", "wire",
             _raw(lambda b: _framed(b"zz\r\n" + b[:100] + b"\r\n0\r\n\r\n",
                                    {"Transfer-Encoding": "chunked"})),
             rejected(unavailable + "ChunkedEncodingError"), waits=RETRIED),
        Case("chunked body without its last chunk", "wire",
             _raw(lambda b: _framed(chunked(b)[:-5], {"Transfer-Encoding": "chunked"})),
             rejected(unavailable + "ChunkedEncodingError"), waits=RETRIED),
        Case("a chunk shorter than its size", "wire",
             _raw(lambda b: _framed(b"1000\r\n" + b[:10], {"Transfer-Encoding": "chunked"})),
             rejected(unavailable + "ChunkedEncodingError"), waits=RETRIED),
        Case("a well-formed chunked body", "wire",
             _raw(lambda b: _framed(chunked(b), {"Transfer-Encoding": "chunked"})), accepted()),
        Case("HTTP/1.0, no Content-Length, body until close", "wire",
             _raw(lambda b: head(200, {"Content-Type": JSON}, version="HTTP/1.0") + b),
             accepted()),
        Case("not HTTP at all", "wire", _raw(lambda b: b"SSH-2.0-OpenSSH_9.6\r\n\r\n"),
             rejected(unavailable + "ConnectionError from"), waits=RETRIED),
        Case("more than 100 headers", "wire",
             _raw(lambda b: _framed(b, {f"X-{i}": "v" for i in range(150)}, length=len(b))),
             rejected(unavailable + "ConnectionError from"), waits=RETRIED),
        Case("a redirect loop", "wire",
             lambda s: Reply(b"", status=302, headers=(("Location", _same_query(s)),)),
             rejected(unavailable + "TooManyRedirects"), waits=RETRIED),
        *_csv_cases(),
    ]


def _csv_cases() -> list[Case]:
    malformed = "Alpha Vantage malformed answer: CSV body "
    return [
        Case("CSV: empty body", "wire", _csv(lambda b: b""),
             rejected(malformed + "does not start with the daily-series header"), "csv",
             waits=RETRIED),
        Case("CSV: truncated mid-line", "wire", _csv(_cut_mid_line),
             rejected(malformed + "is truncated"), "csv", waits=RETRIED),
        Case("CSV: the header alone", "wire", _csv(lambda b: b.split(b"\r\n")[0] + b"\r\n"),
             rejected(malformed + "has no rows or rows of the wrong width"), "csv",
             waits=RETRIED),
        Case("CSV: an HTML page", "wire", _csv(lambda b: b"<html><body>oops</body></html>\n"),
             rejected(malformed + "does not start"), "csv", waits=RETRIED),
        Case("CSV: decimal comma 12,34 unquoted", "value", _csv(_csv_row(1, "12,34")),
             rejected(malformed + "has no rows or rows of the wrong width"), "csv",
             waits=RETRIED),
        Case('CSV: "1,234.50" quoted', "value", _csv(_csv_row(1, '"1,234.50"')),
             rejected(malformed + "has no rows or rows of the wrong width"), "csv",
             waits=RETRIED),
        Case("CSV: NaN as a price", "value", _csv(_csv_row(4, "NaN")),
             quarantined("close 'NaN' is not a number", model_days()[1]), "csv"),
        Case("CSV: a good answer", "wire", _csv(lambda b: b), accepted(), "csv"),
    ]


def _envelope_cases() -> list[Case]:
    days = model_days()
    unusable = "Alpha Vantage unusable answer: "
    without = f"Alpha Vantage malformed answer: JSON answer without {SERIES_KEY!r}"
    another = "Alpha Vantage answer for another symbol: the answer is for "
    return [
        Case("series key missing", "envelope", _altered(lambda p: p.pop(SERIES_KEY)),
             rejected(without), waits=RETRIED),
        Case("series key renamed", "envelope",
             _keys(lambda k: k.replace("Daily", "Digital")), rejected(without), waits=RETRIED),
        Case("keys in lower case", "envelope", _keys(str.lower), rejected(without),
             waits=RETRIED),
        Case("series as a list", "envelope", _series([{"1. open": "1"}]),
             rejected(unusable + f"{SERIES_KEY!r} is a list, not an object of days")),
        Case("series as a string", "envelope", _series("none today"),
             rejected(unusable + f"{SERIES_KEY!r} is a string")),
        Case("series null", "envelope", _series(None),
             rejected(unusable + f"{SERIES_KEY!r} is null")),
        Case("series empty", "envelope", _series({}),
             rejected(unusable + f"{SERIES_KEY!r} holds no day")),
        Case("Meta Data names another symbol", "envelope", _meta_symbol("MSFT"),
             rejected(another + "'MSFT', not {symbol}")),
        Case("Meta Data names it with an exchange suffix", "envelope",
             _meta_symbol(lambda s: f"{s}.LON"), rejected(another + "'{symbol}.LON'")),
        Case("Meta Data names a number", "envelope", _meta_symbol(42),
             rejected(another + "'42'")),
        Case("Meta Data names it in lower case", "envelope", _meta_symbol(str.lower),
             accepted()),
        Case("Meta Data missing", "envelope", _altered(lambda p: p.pop("Meta Data")),
             accepted()),
        Case("Meta Data as a list", "envelope",
             _altered(lambda p: p.update({"Meta Data": ["x"]})), accepted()),
        Case("row fields in upper case", "envelope", _keys(str.upper, rows=True),
             rejected(unusable + "no day carries ['open', 'high', 'low', 'close', 'volume']")),
        Case("row fields without their numbers", "envelope",
             _keys(lambda k: k.split(". ")[1], rows=True), accepted()),
        Case("an extra unknown field in every row", "envelope",
             _altered(lambda p: [r.update({"9. note": "x"}) for r in p[SERIES_KEY].values()]),
             accepted()),
        Case("an extra top-level key", "envelope",
             _altered(lambda p: p.update({"Disclaimer": {"a": [1, 2]}})), accepted()),
        Case("a day sent twice, values differing", "envelope", _duplicate(days[3], True),
             quarantined("day sent 2 times with different values", days[3])),
        Case("a day sent twice, identical", "envelope", _duplicate(days[3], False),
             accepted()),
        Case("JSON null", "envelope", lambda s: Reply(b"null"),
             rejected("Alpha Vantage malformed answer: JSON body is not an object"),
             waits=RETRIED),
        Case("JSON array", "envelope", lambda s: Reply(b"[1, 2, 3]"),
             rejected("Alpha Vantage malformed answer: JSON body is not an object"),
             waits=RETRIED),
        Case("JSON nested 100 000 deep", "envelope", _deeply_nested,
             rejected(unusable + "JSON nested too deeply to read")),
        Case("an Error Message quoting the key", "envelope",
             lambda s: _json({"Error Message": f"Invalid API call for apikey={KEY}."}),
             rejected("Alpha Vantage invalid API key: Invalid API call for apikey=***")),
        Case("an Error Message about the call", "envelope",
             lambda s: _json({"Error Message": "Invalid API call. Please retry."}),
             rejected("Alpha Vantage rejected symbol: Invalid API call. Please retry.")),
        Case("an unknown Information notice quoting the key", "envelope",
             lambda s: _json({"Information": f"Key {KEY} is under review."}),
             rejected("unexpected notice: Key *** is under review.")),
        Case("Last Refreshed not a date", "envelope",
             _altered(lambda p: p["Meta Data"].update({"3. Last Refreshed": "yesterday"})),
             rejected(unusable + "Meta Data's 'Last Refreshed' 'yesterday' is not a date")),
        Case("Last Refreshed a year before the last day", "envelope",
             _altered(lambda p: p["Meta Data"].update({"3. Last Refreshed": "2012-03-01"})),
             quarantined("after the answer's Last Refreshed 2012-03-01", days[0], "FAILED",
                         "held back: 83.3% of the answer's rows quarantined (limit 5%)")),
        Case("a row as a list", "envelope",
             _altered(lambda p: p[SERIES_KEY].update({days[4]: [1, 2, 3]})),
             quarantined("open is missing", days[4])),
        Case("a row null", "envelope",
             _altered(lambda p: p[SERIES_KEY].update({days[4]: None})),
             quarantined("close is missing", days[4])),
        Case("a one-day answer", "envelope",
             _altered(lambda p: p.update({SERIES_KEY: dict(list(p[SERIES_KEY].items())[:1])})),
             accepted()),
        Case("a UTF-8 byte-order mark", "envelope", _body(lambda b: b"\xef\xbb\xbf" + b),
             accepted()),
        Case("values as JSON numbers", "envelope",
             _altered(lambda p: [r.update({k: float(v) for k, v in r.items()})
                                 for r in p[SERIES_KEY].values()]), accepted()),
        Case("an object where a price goes", "envelope", _row(days[6], "2. high", {"v": 1}),
             quarantined("high '[('v', 1)]' is not a number", days[6])),
        Case("200 000 days", "value", _many_days(200_000),
             rejected(unusable + "200000 days, more than any real history (50000)")),
        Case("46 000 days, back to 1887", "value", _many_days(46_000),
             quarantined("1900-01-02 is before the first day", "1900-01-02", "FAILED",
                         "held back:")),
    ]


def _value_cases() -> list[Case]:
    days = model_days()
    d = days[7]

    def value(name: str, field: str, text: object, reason: str) -> Case:
        return Case(name, "value", _row(d, field, text), quarantined(reason, d))

    def day(name: str, when: str, reason: str) -> Case:
        return Case(name, "value", _day(when), quarantined(reason, when))

    return [
        value("open NaN", "1. open", "NaN", "open 'NaN' is not a number"),
        value("close inf", "4. close", "inf", "close 'inf' is not a number"),
        value("low -Infinity", "3. low", "-Infinity", "low '-Infinity' is not a number"),
        # JSON's NaN literal reads as no value at all.
        value("bare NaN literal", "1. open", float("nan"), "open is missing"),
        value("bare Infinity literal", "2. high", float("inf"), "high 'inf' is not a number"),
        value("high 1e308", "2. high", "1e308", "high 1e308 is above the plausible 10,000,000"),
        value("close negative", "4. close", "-5.25", "close -5.25 is not positive"),
        value("open zero", "1. open", "0", "open 0 is not positive"),
        value("high below low", "2. high", "1.0000", "high 1.0000 below low"),
        value("a tiny open, below the low", "1. open", "1e-300", "above open 1e-300"),
        value("decimal comma 12,34", "1. open", "12,34", "open '12,34' is not a number"),
        value("thousands separator 1,234.50", "4. close", "1,234.50",
              "close '1,234.50' is not a number"),
        value("an empty string", "3. low", "", "low '' is not a number"),
        value("a hexadecimal price", "1. open", "0x1B6", "open '0x1B6' is not a number"),
        value("full-width digits", "1. open", FULL_WIDTH_438,
              f"open '{FULL_WIDTH_438}' is not a number"),
        value("a price null", "1. open", None, "open is missing"),
        value("a price absent", "4. close", _ABSENT, "close is missing"),
        value("volume 1e20", "5. volume", "1e20", "volume 1e20 does not fit a 64-bit integer"),
        value("volume 10**30 as a JSON number", "5. volume", 10**30,
              "does not fit a 64-bit integer"),
        value("volume negative", "5. volume", "-100", "volume -100 is negative"),
        value("volume fractional", "5. volume", "100.5", "volume 100.5 is not a whole number"),
        day("a day in 1900", "1900-01-02", "1900-01-02 is before the first day"),
        day("a day in 2099", "2099-01-05", "2099-01-05 is after the last day"),
        day("2013-02-30", "2013-02-30", "trade_date '2013-02-30' is not a YYYY-MM-DD date"),
        day("a Saturday", "2013-02-23", "2013-02-23 is not an NYSE session (Saturday)"),
        day("a Sunday", "2013-02-24", "2013-02-24 is not an NYSE session (Sunday)"),
        day("a holiday", "2013-02-18", "2013-02-18 is not an NYSE session (market closed)"),
        day("a date with slashes", "2013/02/27", "'2013/02/27' is not a YYYY-MM-DD date"),
        day("a date with a time", "2013-02-27 16:00:00",
            "'2013-02-27 16:00:00' is not a YYYY-MM-DD date"),
        day("a day after Last Refreshed", "2013-03-04",
            "after the answer's Last Refreshed 2013-03-01"),
    ]


def _symbol_cases() -> list[SymbolCase]:
    refused = "STOCK_ASSETS_SYMBOLS: invalid ticker symbol "
    return [
        SymbolCase("path traversal", "../../etc", rejected(refused + "'../../etc'")),
        SymbolCase("a dot alone", "..", rejected(refused + "'..'")),
        SymbolCase("SQL", "AAPL;DROP", rejected(refused + "'AAPL;DROP'")),
        SymbolCase("SQL with a quote", "A'--", rejected(refused + "\"A'--\"")),
        SymbolCase("unicode", "ÄPPL", rejected(refused + "'ÄPPL'")),
        SymbolCase("overlong", "ABCDEFGHIJK", rejected(refused + "'ABCDEFGHIJK'")),
        SymbolCase("empty list", " , ", rejected("STOCK_ASSETS_SYMBOLS names no symbol")),
        SymbolCase("lower case", "aapl", rejected(refused + "'aapl'")),
        SymbolCase("an unknown exchange suffix", "SHOP.XYZ", rejected("STOCK_ASSETS_SYMBOLS: ")),
        SymbolCase("path traversal as an argument", "../../etc",
                   rejected("invalid ticker symbol '../../etc'"), argument=True),
        SymbolCase("empty as an argument", "", rejected("invalid ticker symbol ''"),
                   argument=True),
        SymbolCase("a share class, BRK.B", "BRK.B", accepted()),
        SymbolCase("a share class, RDS-A", "RDS-A", accepted()),
    ]


def corpus() -> list[Case]:
    """Every answer-level case, wire to value."""
    return [*_wire_cases(), *_envelope_cases(), *_value_cases()]


def symbol_corpus() -> list[SymbolCase]:
    return _symbol_cases()
