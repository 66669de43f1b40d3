"""Each exchange's calendar: its own sessions, valid for a process that runs for years (the
daemon), and past the years it records."""

from datetime import date, timedelta

import pandas as pd
import pytest

from stock_assets import trading_calendar
from stock_assets.exchanges import SUFFIXES
from stock_assets.trading_calendar import calendar, sessions_between


def test_a_long_running_process_still_knows_next_years_sessions(monkeypatch):
    monkeypatch.setattr(trading_calendar, "_today", lambda: date(2026, 12, 2))
    assert len(sessions_between(date(2027, 3, 1), date(2027, 3, 1))) == 1
    # Three years later, in the same process: the calendar was made again for that month.
    monkeypatch.setattr(trading_calendar, "_today", lambda: date(2029, 12, 3))
    assert len(sessions_between(date(2030, 3, 1), date(2030, 3, 1))) == 1  # a Friday
    assert len(sessions_between(date(2030, 12, 25), date(2030, 12, 25))) == 0  # Christmas


def test_each_exchange_has_its_own_sessions():
    juneteenth = date(2023, 6, 19)
    assert not len(sessions_between(juneteenth, juneteenth))
    assert len(sessions_between(juneteenth, juneteenth, SUFFIXES["TRV"])) == 1
    assert len(sessions_between(juneteenth, juneteenth, SUFFIXES["LON"])) == 1
    chinese_new_year = date(2024, 2, 12)
    assert len(sessions_between(chinese_new_year, chinese_new_year)) == 1
    assert not len(sessions_between(chinese_new_year, chinese_new_year, SUFFIXES["SHZ"]))


@pytest.mark.parametrize("suffix", ["BSE", "SHH"])
def test_past_the_years_a_calendar_records_every_weekday_counts_as_a_session(suffix):
    """exchange_calendars records Bombay's and Shanghai's holidays only to a year near now; past
    it no day is taken for a holiday (nothing quarantined, no gap hidden, no fetch undercounted)."""
    exchange = SUFFIXES[suffix]
    last = calendar(exchange).last_session.date()
    after = sessions_between(last, last + timedelta(days=14), exchange)
    assert after[0].date() == last
    assert list(after[1:]) == list(pd.bdate_range(last + timedelta(days=1), periods=10))
