"""`choose_outputsize` asks for `compact` only when its 100 sessions reach the stored history."""

from datetime import date

import pytest

from stock_assets.alphavantage.api import COMPACT_ROWS
from stock_assets.exchanges import exchange_of
from stock_assets.ingest.fetch_plan import SAFETY_SESSIONS, choose_outputsize
from stock_assets.trading_calendar import sessions_between

TODAY = date(2024, 6, 28)  # a Friday session
LONGEST_GAP = COMPACT_ROWS - SAFETY_SESSIONS  # sessions after the stored one that compact covers


def sessions_back(count: int, today: date = TODAY) -> date:
    """The session `count` sessions before `today` (0 is today's own session)."""
    sessions = sessions_between(date(today.year - 1, 1, 1), today)
    return sessions[-1 - count].date()


def test_nothing_stored_gets_full_history():
    assert choose_outputsize("IBM", None, TODAY, full_allowed=True) == "full"


@pytest.mark.parametrize("last_stored", [None, date(2000, 3, 1), TODAY])
def test_plan_without_full_history_always_gets_compact(last_stored):
    assert choose_outputsize("IBM", last_stored, TODAY, full_allowed=False) == "compact"


@pytest.mark.parametrize("count", [0, 1, 30, 90, LONGEST_GAP])
def test_recent_history_gets_compact(count):
    assert choose_outputsize("IBM", sessions_back(count), TODAY, full_allowed=True) == "compact"


@pytest.mark.parametrize("count", [LONGEST_GAP + 1, COMPACT_ROWS, 250])
def test_older_history_gets_full(count):
    assert choose_outputsize("IBM", sessions_back(count), TODAY, full_allowed=True) == "full"


def test_sample_history_ending_2013_gets_full():
    assert choose_outputsize("IBM", date(2013, 3, 1), TODAY, full_allowed=True) == "full"


def test_gap_is_counted_in_nyse_sessions_not_calendar_days():
    last_stored = sessions_back(LONGEST_GAP)
    assert (TODAY - last_stored).days > COMPACT_ROWS + 30  # weekends and holidays in between
    assert choose_outputsize("IBM", last_stored, TODAY, full_allowed=True) == "compact"


def test_weekend_today_counts_no_extra_sessions():
    saturday, friday = date(2024, 6, 29), date(2024, 6, 28)
    assert choose_outputsize("IBM", friday, saturday, full_allowed=True) == "compact"
    boundary = sessions_back(LONGEST_GAP, friday)
    assert choose_outputsize("IBM", boundary, saturday, full_allowed=True) == "compact"
    older = sessions_back(LONGEST_GAP + 1, friday)
    assert choose_outputsize("IBM", older, saturday, full_allowed=True) == "full"


@pytest.mark.parametrize("symbol", ["GPV.TRV", "MBG.DEX", "600104.SHH"])
def test_the_gap_is_counted_in_sessions_of_the_symbols_own_exchange(symbol):
    """Compact holds the symbol's last 100 rows, so its own exchange's sessions are what count:
    the boundary sits where the NYSE's count would misplace it."""
    exchange = exchange_of(symbol)
    sessions = sessions_between(date(TODAY.year - 1, 1, 1), TODAY, exchange)
    boundary, older = sessions[-1 - LONGEST_GAP].date(), sessions[-2 - LONGEST_GAP].date()
    nyse_count = len(sessions_between(older, TODAY)) - 1
    assert nyse_count != LONGEST_GAP + 1  # the NYSE's calendar would put the boundary elsewhere
    assert choose_outputsize(symbol, boundary, TODAY, full_allowed=True) == "compact"
    assert choose_outputsize(symbol, older, TODAY, full_allowed=True) == "full"
