"""The NYSE trading calendar (exchange_calendars' XNYS), shared by ingest and validation."""

from datetime import date
from functools import cache

import exchange_calendars as xcals
import pandas as pd

CALENDAR_START = "1990-01-01"


@cache
def nyse() -> xcals.ExchangeCalendar:
    return xcals.get_calendar("XNYS", start=CALENDAR_START)


def sessions_between(first: date, last: date) -> pd.DatetimeIndex:
    """NYSE sessions from `first` to `last`, both included (clipped to the calendar's span)."""
    calendar = nyse()
    start = max(pd.Timestamp(first), calendar.first_session)
    end = min(pd.Timestamp(last), calendar.last_session)
    if start > end:
        return pd.DatetimeIndex([])
    return calendar.sessions_in_range(start, end)
