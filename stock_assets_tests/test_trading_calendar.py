"""The NYSE calendar stays valid for a process that runs for years (the daemon)."""

from datetime import date

from stock_assets import trading_calendar
from stock_assets.trading_calendar import sessions_between


def test_a_long_running_process_still_knows_next_years_sessions(monkeypatch):
    monkeypatch.setattr(trading_calendar, "_today", lambda: date(2026, 12, 2))
    assert len(sessions_between(date(2027, 3, 1), date(2027, 3, 1))) == 1
    # Three years later, in the same process: the calendar was made again for that month.
    monkeypatch.setattr(trading_calendar, "_today", lambda: date(2029, 12, 3))
    assert len(sessions_between(date(2030, 3, 1), date(2030, 3, 1))) == 1  # a Friday
    assert len(sessions_between(date(2030, 12, 25), date(2030, 12, 25))) == 0  # Christmas
