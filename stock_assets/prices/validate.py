"""Which rows of an answer can be trusted: clean rows, and the rest quarantined with reasons.

A bad row never fails its symbol and is never silently dropped: it lands in the quarantine frame
as received, with every rule it breaks named in `reason` ("; "-joined). Only identical
duplicates of a day collapse into one row. Pure pandas, vectorized over rows.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pandas as pd

from stock_assets.alphavantage.answers import Answer
from stock_assets.exchanges import Exchange, exchange_of
from stock_assets.prices import schema
from stock_assets.prices.parse import answer_frame, parse_values
from stock_assets.settings import DEFAULT_MOST_PLAUSIBLE_PRICE
from stock_assets.trading_calendar import plausible_days, sessions_between

SEPARATOR = "; "
# Volumes are stored as 64-bit integers: a larger one would wrap (1e20 became -2**63).
VOLUME_LIMIT = 2.0**63
# (column, other column, relation): the row is inconsistent when `column relation other` holds.
_OHLC_RULES = [
    ("high", "open", "below"),
    ("high", "close", "below"),
    ("high", "low", "below"),
    ("low", "open", "above"),
    ("low", "close", "above"),
]


@dataclass(frozen=True, eq=False)
class CleanedAnswer:
    """One answer, judged: trusted rows, quarantined rows and the answer's 'Last Refreshed' day.

    `clean` follows `schema.conform`, `quarantine` follows `schema.conform_quarantine`;
    `last_refreshed` is None when the answer does not state it (CSV answers never do).
    """

    clean: pd.DataFrame
    quarantine: pd.DataFrame
    last_refreshed: date | None


class NoValidRows(ValueError):
    """Every row of an answer was quarantined; `quarantine` holds them with their reasons."""

    def __init__(self, symbol: str, quarantine: pd.DataFrame):
        self.symbol = symbol
        self.quarantine = quarantine
        examples = quarantine["reason"].drop_duplicates().head(3).tolist()
        super().__init__(
            f"{symbol}: no valid rows; all {len(quarantine)} row(s) quarantined, e.g. {examples}"
        )


class _Reasons:
    """The reasons collected so far for each row (null while a row breaks no rule)."""

    def __init__(self, text: pd.DataFrame):
        self.text = text
        self.found = pd.Series(pd.NA, index=text.index, dtype="string")

    def add(self, mask: pd.Series, message: str | Callable[[pd.DataFrame], pd.Series]) -> None:
        """Record `message` for the rows in `mask`; a callable builds it from their text."""
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        rows = self.text.loc[mask]
        new = message(rows) if callable(message) else pd.Series(message, index=rows.index)
        new = new.astype("string")
        old = self.found[mask]
        self.found[mask] = (old + SEPARATOR + new).fillna(new).fillna(old)


def _field_rules(reasons: _Reasons, typed: pd.DataFrame) -> None:
    """Dates and numbers that do not parse, are missing, or are out of their domain."""
    text = reasons.text
    reasons.add(
        typed["trade_date"].isna(),
        lambda r: "trade_date '" + r["trade_date"].fillna("") + "' is not a YYYY-MM-DD date",
    )
    for name in text.columns.drop("trade_date"):
        reasons.add(text[name].isna(), f"{name} is missing")
        reasons.add(
            text[name].notna() & typed[name].isna(),
            lambda r, name=name: f"{name} '" + r[name] + "' is not a number",
        )
    for name in [*schema.PRICES, "adjusted_close", "split_coefficient"]:
        if name in typed.columns:
            reasons.add(
                typed[name] <= 0, lambda r, name=name: f"{name} " + r[name] + " is not positive"
            )
    if "dividend_amount" in typed.columns:
        reasons.add(
            typed["dividend_amount"] < 0,
            lambda r: "dividend_amount " + r["dividend_amount"] + " is negative",
        )
    volume = typed["volume"]
    reasons.add(volume < 0, lambda r: "volume " + r["volume"] + " is negative")
    reasons.add(volume % 1 > 0, lambda r: "volume " + r["volume"] + " is not a whole number")


def _plausibility_rules(reasons: _Reasons, typed: pd.DataFrame, most_price: float) -> None:
    """Numbers that parse but cannot be true, or cannot be stored as they are."""
    for name in [*schema.PRICES, "adjusted_close"]:
        if name in typed.columns:
            reasons.add(
                typed[name] > most_price,
                lambda r, name=name: f"{name} " + r[name] + f" is above the plausible "
                f"{most_price:,.0f} (STOCK_ASSETS_MOST_PLAUSIBLE_PRICE)",
            )
    reasons.add(
        typed["volume"] >= VOLUME_LIMIT,
        lambda r: "volume " + r["volume"] + " does not fit a 64-bit integer",
    )


def _ohlc_rules(reasons: _Reasons, typed: pd.DataFrame) -> None:
    """High must be the day's highest price and low its lowest."""
    for column, other, relation in _OHLC_RULES:
        if relation == "below":
            broken = typed[column] < typed[other]
        else:
            broken = typed[column] > typed[other]
        reasons.add(
            broken,
            lambda r, c=column, o=other, rel=relation: f"{c} " + r[c] + f" {rel} {o} " + r[o],
        )


def _calendar_rules(
    reasons: _Reasons, typed: pd.DataFrame, exchange: Exchange, last_refreshed: date | None
) -> None:
    """Days the symbol's exchange did not trade (weekends, holidays, closures) or after
    'Last Refreshed'."""
    days = typed["trade_date"]
    first, last = plausible_days(exchange)
    reasons.add(
        days < first,
        lambda r: r["trade_date"] + f" is before the first day {exchange.name}'s calendar holds "
        f"({first.date().isoformat()})",
    )
    reasons.add(
        days > last,
        lambda r: r["trade_date"] + f" is after the last day {exchange.name}'s calendar holds "
        f"({last.date().isoformat()})",
    )
    # Only days within the calendar are looked up: one before 1677 cannot be a pandas session.
    days = days.where((days >= first) & (days <= last))
    dated = days.dropna()
    if not dated.empty:
        sessions = sessions_between(dated.min().date(), dated.max().date(), exchange)
        weekend = days.dt.dayofweek >= 5
        why = pd.Series("market closed", index=days.index).where(~weekend, days.dt.day_name())
        reasons.add(
            days.notna() & ~days.isin(sessions),
            lambda r: r["trade_date"] + f" is not {exchange.session} (" + why[r.index] + ")",
        )
    if last_refreshed is not None:
        reasons.add(
            days > pd.Timestamp(last_refreshed),
            f"after the answer's Last Refreshed {last_refreshed.isoformat()}",
        )


def _conflicting_duplicates(reasons: _Reasons, typed: pd.DataFrame) -> None:
    """A day sent more than once with different values: no way to tell which is right."""
    days = typed["trade_date"]
    repeated = days.notna() & days.duplicated(keep=False)
    copies = days.map(days.value_counts())
    reasons.add(
        repeated,
        lambda r: (
            "day sent " + copies[r.index].astype(int).astype(str) + " times with different values"
        ),
    )


def validate_rows(
    symbol: str, text: pd.DataFrame, last_refreshed: date | None = None, *,
    most_plausible_price: float = DEFAULT_MOST_PLAUSIBLE_PRICE,
) -> CleanedAnswer:
    """Split an answer's text rows (as `parse.answer_frame` returns them) into clean and
    quarantined rows. Raises `NoValidRows` when no row is clean.
    """
    typed = parse_values(text)
    identical = typed.notna().all(axis=1) & typed.duplicated(keep="first")
    text, typed = text.loc[~identical], typed.loc[~identical]

    reasons = _Reasons(text)
    _field_rules(reasons, typed)
    _plausibility_rules(reasons, typed, most_plausible_price)
    _ohlc_rules(reasons, typed)
    _calendar_rules(reasons, typed, exchange_of(symbol), last_refreshed)
    _conflicting_duplicates(reasons, typed)

    bad = reasons.found.notna()
    clean = schema.conform(typed.loc[~bad].assign(symbol=symbol))
    quarantine = schema.conform_quarantine(
        text.loc[bad].assign(symbol=symbol, reason=reasons.found[bad])
    )
    if clean.empty:
        raise NoValidRows(symbol, quarantine)
    return CleanedAnswer(clean=clean, quarantine=quarantine, last_refreshed=last_refreshed)


def clean_answer(
    answer: Answer, *, most_plausible_price: float = DEFAULT_MOST_PLAUSIBLE_PRICE
) -> CleanedAnswer:
    """Parse an answer (JSON or CSV, daily or adjusted) and keep only the rows one can trust.

    Quarantined, each with its reasons: unparseable or missing values or dates, non-positive
    prices, negative or fractional volume, prices above `most_plausible_price`, volumes no 64-bit
    integer holds, inconsistent OHLC, days outside the exchange calendar's range
    (`trading_calendar.plausible_days`) or that are not sessions of the symbol's exchange
    (`exchanges.exchange_of`), days after the answer's 'Last Refreshed', and a day sent twice with
    different values.
    Raises `parse.UnparseableAnswer` when the answer holds no series at all, `NoValidRows` when
    every row is quarantined.
    """
    text, last_refreshed = answer_frame(answer)
    return validate_rows(
        answer.symbol, text, last_refreshed, most_plausible_price=most_plausible_price
    )
