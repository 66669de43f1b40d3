"""An Alpha Vantage answer as received, and its classification before anyone parses it.

Alpha Vantage reports errors as HTTP 200 JSON bodies, even for ``datatype=csv``, so every body
is classified on its keys and text: a good answer passes, anything else raises the
`stock_assets.alphavantage.errors` exception that says what to do about it.
"""

import base64
import datetime
import hashlib
import json
import re
from dataclasses import asdict, dataclass

from stock_assets.alphavantage.api import ACTION_FIELDS, CSV_HEADERS, SERIES_KEY
from stock_assets.alphavantage.errors import (
    AlphaVantageError,
    AnswerForAnotherSymbol,
    InvalidApiKey,
    MalformedAnswer,
    PlanError,
    QuotaExhausted,
    SymbolRejected,
    Throttled,
    UnusableAnswer,
)

# More days than an exchange has had sessions in two centuries: no real history is this long,
# and one that is reaches back before the days pandas can hold.
MOST_DAYS = 50_000


@dataclass(frozen=True)
class Answer:
    """One answer, byte for byte, with when, where and how it was fetched (URL without key)."""

    symbol: str
    function: str
    outputsize: str
    datatype: str
    source: str
    url: str
    fetched_at: str
    status_code: int
    content_type: str
    body: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    def to_record(self) -> dict:
        """A JSON-ready record; the body stays verbatim (text when UTF-8, else base64)."""
        record = asdict(self)
        try:
            record["body"] = self.body.decode("utf-8")
            record["body_encoding"] = "utf-8"
        except UnicodeDecodeError:
            record["body"] = base64.b64encode(self.body).decode("ascii")
            record["body_encoding"] = "base64"
        record["body_sha256"] = self.sha256
        return record

    @classmethod
    def from_record(cls, record: dict) -> "Answer":
        fields = {k: v for k, v in record.items() if k in cls.__dataclass_fields__}
        if record.get("body_encoding") == "base64":
            fields["body"] = base64.b64decode(record["body"])
        else:
            fields["body"] = record["body"].encode("utf-8")
        answer = cls(**fields)
        if "body_sha256" in record and answer.sha256 != record["body_sha256"]:
            raise ValueError(f"{answer.symbol}: stored answer body does not match its sha256")
        return answer


def redact(text: str, secret: str) -> str:
    """Replace every occurrence of the secret (the API key) with ***."""
    return text.replace(secret, "***") if secret else text


_PREMIUM_PARAMETER = re.compile(r"the (\S+) parameter value is a premium feature", re.IGNORECASE)


def _classify_notice(symbol: str, text: str) -> AlphaVantageError:
    """Turn an `Information`/`Note` text into the exception that says what to do."""
    lowered = text.lower()
    if "demo" in lowered and "api key" in lowered:
        return PlanError(symbol, f"the demo API key only serves demo requests: {text}")
    if match := _PREMIUM_PARAMETER.search(text):
        return PlanError(
            symbol,
            f"{match.group(1)} is premium-only for this key; set ALPHAVANTAGE_FULL_HISTORY=false "
            "or use a premium plan (ALPHAVANTAGE_PREMIUM=true)",
        )
    # "…higher API call volume" was sent for per-minute and per-day limits alike: a rate limit,
    # retried within the budget. Asked first: "Burst pattern detected…" also offers to "unlock
    # all premium endpoints" and names the 25 requests per day, yet it is a throttle.
    if re.search(r"per (second|minute)|call (frequency|volume)|spreading out|burst", lowered):
        return Throttled(symbol, text)
    if "premium endpoint" in lowered:
        return PlanError(
            symbol,
            "this endpoint is premium-only for this key; unset ALPHAVANTAGE_PREMIUM "
            "or upgrade the plan",
        )
    if re.search(r"per day|daily", lowered):
        return QuotaExhausted(symbol, text)
    return PlanError(symbol, f"unexpected notice: {text}")


def _check_json(symbol: str, body: bytes, secret: str) -> dict:
    try:
        payload = json.loads(body)
    except ValueError:
        raise MalformedAnswer(symbol, f"body is not valid JSON ({len(body)} bytes)") from None
    except RecursionError:
        raise UnusableAnswer(
            symbol, f"JSON nested too deeply to read ({len(body)} bytes)"
        ) from None
    if not isinstance(payload, dict):
        raise MalformedAnswer(symbol, "JSON body is not an object")
    if "Error Message" in payload:
        text = redact(str(payload["Error Message"]), secret)
        if re.search(r"api ?key", text, re.IGNORECASE):
            raise InvalidApiKey(symbol, text)
        raise SymbolRejected(symbol, text)
    for key in ("Information", "Note"):
        if key in payload:
            raise _classify_notice(symbol, redact(str(payload[key]), secret))
    return payload


def _check_csv(symbol: str, body: bytes) -> None:
    if not body.startswith(CSV_HEADERS):
        raise MalformedAnswer(symbol, "CSV body does not start with the daily-series header")
    if not body.endswith(b"\n"):
        raise MalformedAnswer(symbol, "CSV body is truncated (no final line end)")
    lines = body.splitlines()
    _check_length(symbol, len(lines) - 1)
    width = lines[0].count(b",")
    if len(lines) < 2 or any(line.count(b",") != width for line in lines[1:]):
        raise MalformedAnswer(symbol, "CSV body has no rows or rows of the wrong width")


def _check_actions(answer: Answer, payload: dict) -> None:
    """A SPLITS or DIVIDENDS answer: this symbol's, with a list of events (maybe empty)."""
    if not isinstance(payload.get("data"), list):
        raise MalformedAnswer(
            answer.symbol, f"{answer.function} answer without a 'data' list: keys "
            f"{sorted(payload)[:5]}"
        )
    named = payload.get("symbol")
    if not isinstance(named, str) or named.upper() != answer.symbol.upper():
        raise AnswerForAnotherSymbol(
            answer.symbol, f"the {answer.function} answer is for {str(named)[:20]!r}, not "
            f"{answer.symbol}; it was not stored as {answer.symbol}'s"
        )


def _check_own_symbol(answer: Answer, meta: object) -> None:
    """A daily answer whose Meta Data names another symbol is that symbol's history, not this
    one's (an answer without the field is not judged on it)."""
    named = meta.get("2. Symbol") if isinstance(meta, dict) else None
    if named is not None and str(named).upper() != answer.symbol.upper():
        raise AnswerForAnotherSymbol(
            answer.symbol, f"the answer is for {str(named)[:20]!r}, not {answer.symbol}; it was "
            f"not stored as {answer.symbol}'s"
        )


def _check_length(symbol: str, days: int) -> None:
    if days > MOST_DAYS:
        raise UnusableAnswer(
            symbol, f"{days} days, more than any real history ({MOST_DAYS}): not read"
        )


_JSON_KINDS = {list: "a list", str: "a string", int: "a number", float: "a number",
               bool: "a boolean", type(None): "null"}


# The fields every day must carry, as cleaning names them ("1. open" -> open).
PRICE_FIELDS = ("open", "high", "low", "close", "volume")


def _field_name(field: str) -> str:
    return field.split(". ", 1)[-1].strip().replace(" ", "_")


def _check_series(symbol: str, series: object) -> None:
    """The series must be an object of days, not empty and not implausibly long, and some day
    must carry each price field (a day missing one is quarantined, a field no day carries is
    the answer's): anything else would fail in cleaning, and fail the same way on every retry."""
    if not isinstance(series, dict):
        kind = _JSON_KINDS.get(type(series), "not an object")
        raise UnusableAnswer(symbol, f"{SERIES_KEY!r} is {kind}, not an object of days")
    if not series:
        raise UnusableAnswer(symbol, f"{SERIES_KEY!r} holds no day")
    _check_length(symbol, len(series))
    carried = {_field_name(str(f)) for day in series.values() if isinstance(day, dict)
               for f in day}
    missing = [field for field in PRICE_FIELDS if field not in carried]
    if missing:
        raise UnusableAnswer(
            symbol, f"no day carries {missing}: the days' fields are {sorted(carried)[:8]}"
        )


def _check_last_refreshed(symbol: str, meta: object) -> None:
    """A stated 'Last Refreshed' must be a date: cleaning judges the days against it."""
    stated = meta.get("3. Last Refreshed") if isinstance(meta, dict) else None
    if stated is None:
        return
    try:
        datetime.date.fromisoformat(str(stated)[:10])
    except ValueError:
        raise UnusableAnswer(
            symbol, f"Meta Data's 'Last Refreshed' {str(stated)[:40]!r} is not a date"
        ) from None


def validate_answer(answer: Answer, *, secret: str = "") -> None:
    """Raise the matching error unless the answer holds a daily price series of this symbol's
    (or, for SPLITS and DIVIDENDS, this symbol's list of events).

    Runs in the fetch, so an answer it rejects is never stored: not another symbol's, not an
    empty or list series, not JSON nested too deep, not more days than any real history, not
    days that never carry a price field, not a 'Last Refreshed' that is no date.

    `secret` (the API key) is redacted from any text quoted in the error.
    """
    body = answer.body.lstrip()
    if answer.function in ACTION_FIELDS:
        _check_actions(answer, _check_json(answer.symbol, body, secret))
        return
    if body.startswith(b"{") or answer.datatype == "json":
        payload = _check_json(answer.symbol, body, secret)
        if answer.datatype == "csv" or SERIES_KEY not in payload:
            raise MalformedAnswer(
                answer.symbol, f"JSON answer without {SERIES_KEY!r}: keys {sorted(payload)[:5]}"
            )
        _check_own_symbol(answer, payload.get("Meta Data"))
        _check_last_refreshed(answer.symbol, payload.get("Meta Data"))
        _check_series(answer.symbol, payload[SERIES_KEY])
        return
    _check_csv(answer.symbol, body)
