"""Corporate actions as typed events: a SPLITS and a DIVIDENDS answer parsed and validated.

An event that cannot be trusted (a split factor of zero or less, a negative amount, a date that
does not parse) is set aside with its reason, never guessed: it would shift every earlier
adjusted price. The rest are kept as JSON-ready dicts, since they are stored with the answers.
"""

import json
import math
from dataclasses import dataclass, field
from datetime import date

from stock_assets.alphavantage.answers import Answer
from stock_assets.alphavantage.api import ACTION_FIELDS, DIVIDENDS, SPLITS
from stock_assets.prices.adjust import known_actions

OPTIONAL_DATES = ("declaration_date", "record_date", "payment_date")
UNKNOWN = {"", "none", "null", "n/a"}


class BadEvent(ValueError):
    """Why one event was set aside."""


def _day(event: dict, name: str, *, required: bool) -> str | None:
    value = event.get(name)
    if value is None or str(value).strip().lower() in UNKNOWN:
        if required:
            raise BadEvent(f"no {name}")
        return None
    try:
        return date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise BadEvent(f"unparseable {name} {str(value)[:30]!r}") from None


def _number(event: dict, name: str) -> float:
    try:
        number = float(str(event.get(name)).replace(",", ""))
    except ValueError:
        raise BadEvent(f"unparseable {name} {str(event.get(name))[:30]!r}") from None
    if not math.isfinite(number):
        raise BadEvent(f"{name} {number} is not a finite number")
    return number


def _split(event: dict) -> dict:
    day = _day(event, "effective_date", required=True)
    factor = _number(event, "split_factor")
    if factor <= 0:
        raise BadEvent(f"split factor {factor:g} is not above 0")
    return {"effective_date": day, "split_factor": factor}


def _dividend(event: dict) -> dict:
    day = _day(event, "ex_dividend_date", required=True)
    amount = _number(event, "amount")
    if amount < 0:
        raise BadEvent(f"dividend amount {amount:g} is negative")
    others = {name: _day(event, name, required=False) for name in OPTIONAL_DATES}
    return {"ex_dividend_date": day, "amount": amount, **others}


PARSERS = {SPLITS: _split, DIVIDENDS: _dividend}


@dataclass
class ParsedActions:
    """One symbol's events, oldest first, and the events set aside with their reasons."""

    splits: list[dict] = field(default_factory=list)
    dividends: list[dict] = field(default_factory=list)
    quarantine: list[dict] = field(default_factory=list)

    def as_record(self) -> dict:
        return {"splits": self.splits, "dividends": self.dividends,
                "quarantine": self.quarantine}


def parse_actions(answers: dict[str, Answer]) -> ParsedActions:
    """The events of a symbol's SPLITS and DIVIDENDS answers (already checked by
    `validate_answer`: this symbol's, with a `data` list)."""
    parsed = ParsedActions()
    for function, answer in answers.items():
        kept = parsed.splits if function == SPLITS else parsed.dividends
        for event in json.loads(answer.body)["data"]:
            try:
                if not isinstance(event, dict):
                    raise BadEvent("the event is not an object")
                kept.append(PARSERS[function](event))
            except BadEvent as reason:
                parsed.quarantine.append(
                    {"function": function, "event": event, "reason": str(reason)}
                )
    first_field = {function: fields[0] for function, fields in ACTION_FIELDS.items()}
    parsed.splits.sort(key=lambda e: e[first_field[SPLITS]])
    parsed.dividends.sort(key=lambda e: e[first_field[DIVIDENDS]])
    return parsed


def lost_events(stored: dict | None, fetched: dict) -> list[str]:
    """Events on record that a new fetch no longer lists: corporate actions are history, so an
    answer that drops one (an empty `data` after a glitch) is not trusted over the record."""
    if not known_actions(stored):
        return []
    lost = []
    for kind, when in (("splits", "effective_date"), ("dividends", "ex_dividend_date")):
        now = {event[when] for event in fetched[kind]}
        lost += [f"{kind[:-1]} {e[when]}" for e in stored[kind] if e[when] not in now]
    return lost
