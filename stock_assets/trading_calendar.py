"""Trading calendars (exchange_calendars), one per exchange, shared by ingest and validation."""

from datetime import date
from functools import cache

import exchange_calendars as xcals
import pandas as pd

from stock_assets.exchanges import NYSE, Exchange

CALENDAR_START = pd.Timestamp("1990-01-01")
YEARS_AHEAD = 2
# The first day a row can be dated when the calendar records no first day of its own (XNYS):
# earlier days are typos or defaults, not history Alpha Vantage serves.
EARLIEST_DAY = pd.Timestamp("1970-01-01")


def _today() -> date:
    return date.today()


@cache
def _recorded_span(code: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The days a calendar's holidays are known for (XBOM's and XSHG's end in a year near now)."""
    kind = type(xcals.get_calendar(code, start="2020-01-01", end="2020-12-31"))
    first, last = kind.bound_min(), kind.bound_max()
    return (
        CALENDAR_START if first is None else max(first, CALENDAR_START),
        pd.Timestamp.max if last is None else last,
    )


def _covered(code: str, month: date) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first and last day a calendar made in `month` covers."""
    first, last = _recorded_span(code)
    return first, min(pd.Timestamp(month.replace(year=month.year + YEARS_AHEAD)), last)


@cache
def _calendar(code: str, month: date) -> xcals.ExchangeCalendar:
    first, last = _covered(code, month)
    return xcals.get_calendar(code, start=first, end=last)


def _this_month() -> date:
    return _today().replace(day=1)


def calendar(exchange: Exchange = NYSE) -> xcals.ExchangeCalendar:
    """The exchange's calendar from 1990 (or its first recorded year) to two years past this
    month (or its last recorded year): made again each month, so a process that runs for years
    (the daemon) never reaches its end."""
    return _calendar(exchange.calendar, _this_month())


def nyse() -> xcals.ExchangeCalendar:
    """The NYSE's calendar, the one the offline sample's days follow."""
    return calendar(NYSE)


def sessions_between(first: date, last: date, exchange: Exchange = NYSE) -> pd.DatetimeIndex:
    """The exchange's sessions from `first` to `last`, both included.

    Outside the span its calendar covers, every weekday counts as a session: nothing there is
    taken for a holiday, a gap is never hidden and a fetch plan never undercounts.
    """
    known = calendar(exchange)
    covered_first, covered_last = _covered(exchange.calendar, _this_month())
    start, end = pd.Timestamp(first), pd.Timestamp(last)
    low, high = max(start, known.first_session), min(end, known.last_session)
    inside = known.sessions_in_range(low, high) if low <= high else pd.DatetimeIndex([])
    before = pd.bdate_range(start, min(end, covered_first - pd.Timedelta(days=1)))
    after = pd.bdate_range(max(start, covered_last + pd.Timedelta(days=1)), end)
    return before.append([inside, after])


def plausible_days(exchange: Exchange = NYSE) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first and last day a row of the exchange can be dated: its calendar's first recorded
    day (`EARLIEST_DAY` when it records none), and the last day of the calendar made this month.

    The end is two years past this month even where holidays are recorded for less (XBOM's end
    in a year near now): a real session beyond them must not be set aside.
    """
    first = type(calendar(exchange)).bound_min()
    month = _this_month()
    return (
        EARLIEST_DAY if first is None else pd.Timestamp(first),
        pd.Timestamp(month.replace(year=month.year + YEARS_AHEAD)),
    )
