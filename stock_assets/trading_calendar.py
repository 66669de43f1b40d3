"""The NYSE trading calendar (exchange_calendars' XNYS), shared by ingest and validation."""

from datetime import date
from functools import cache

import exchange_calendars as xcals
import pandas as pd

CALENDAR_START = "1990-01-01"
YEARS_AHEAD = 2


def _today() -> date:
    return date.today()


@cache
def _calendar(month: date) -> xcals.ExchangeCalendar:
    end = month.replace(year=month.year + YEARS_AHEAD)
    return xcals.get_calendar("XNYS", start=CALENDAR_START, end=end.isoformat())


def nyse() -> xcals.ExchangeCalendar:
    """The calendar from 1990 to two years past this month: made again each month, so a process
    that runs for years (the daemon) never reaches its end."""
    return _calendar(_today().replace(day=1))


def sessions_between(first: date, last: date) -> pd.DatetimeIndex:
    """NYSE sessions from `first` to `last`, both included (clipped to the calendar's span)."""
    calendar = nyse()
    start = max(pd.Timestamp(first), calendar.first_session)
    end = min(pd.Timestamp(last), calendar.last_session)
    if start > end:
        return pd.DatetimeIndex([])
    return calendar.sessions_in_range(start, end)
