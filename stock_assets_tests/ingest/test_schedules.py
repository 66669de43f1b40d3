"""The after-close schedule: New York time across DST, days an exchange of the watchlist traded,
one run per batch."""

from datetime import UTC, date, datetime
from itertools import islice
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from dagster._utils.schedules import cron_string_iterator

from stock_assets import trading_calendar
from stock_assets.definitions import defs, settings
from stock_assets.ingest.schedules import batches, build_refresh_schedule, closed_exchanges
from stock_assets.partitions import RANGE_END_TAG, RANGE_START_TAG
from stock_assets.watchlist import build_symbol_partitions

WATCHLIST = build_symbol_partitions(settings.symbols)

NEW_YORK = ZoneInfo("America/New_York")


def _evaluate(schedule: dg.ScheduleDefinition, moment: datetime):
    context = dg.build_schedule_context(scheduled_execution_time=moment)
    return schedule.evaluate_tick(context)


def test_batches_cover_every_symbol_once_in_order():
    keys = ["AAPL", "MSFT", "IBM", "GOOG", "FB"]
    assert batches(keys, 100) == [("AAPL", "FB")]
    assert batches(keys, 2) == [("AAPL", "MSFT"), ("IBM", "GOOG"), ("FB", "FB")]
    assert batches(keys, 1) == [(k, k) for k in keys]


def test_the_default_schedule_runs_after_the_close_in_new_york_across_dst():
    schedule = defs.resolve_schedule_def("refresh_after_close")
    assert schedule.execution_timezone == "America/New_York"
    start = datetime(2026, 3, 5, 12, tzinfo=UTC).timestamp()  # DST starts on Sunday 2026-03-08
    ticks = list(islice(
        cron_string_iterator(start, schedule.cron_schedule, schedule.execution_timezone), 4
    ))
    assert [t.astimezone(UTC).strftime("%a %d %H:%M") for t in ticks] == [
        "Thu 05 22:30", "Fri 06 22:30", "Mon 09 21:30", "Tue 10 21:30"
    ]
    assert {t.astimezone(NEW_YORK).strftime("%H:%M") for t in ticks} == {"17:30"}


def test_a_trading_day_asks_for_every_symbol_in_one_run():
    schedule = defs.resolve_schedule_def("refresh_after_close")
    tick = _evaluate(schedule, datetime(2026, 11, 24, 17, 30, tzinfo=NEW_YORK))
    [request] = tick.run_requests
    assert request.tags[RANGE_START_TAG] == "AAPL" and request.tags[RANGE_END_TAG] == "FB"
    assert request.run_key == "2026-11-24:AAPL..FB"
    assert request.job_name in (None, "refresh_raw_quotes")


def test_a_small_batch_size_gives_one_run_per_batch():
    tick = _evaluate(build_refresh_schedule(WATCHLIST, "30 17 * * 1-5", 2),
                     datetime(2026, 11, 24, 17, 30, tzinfo=NEW_YORK))
    assert [(r.tags[RANGE_START_TAG], r.tags[RANGE_END_TAG]) for r in tick.run_requests] == [
        ("AAPL", "MSFT"), ("IBM", "GOOG"), ("FB", "FB")
    ]


@pytest.mark.parametrize(
    ("day", "why"),
    [(datetime(2026, 11, 26, 17, 30), "Thursday 2026-11-26"),  # Thanksgiving
     (datetime(2026, 12, 25, 17, 30), "Friday 2026-12-25")],
)
def test_exchange_holidays_are_skipped(day, why):
    tick = _evaluate(defs.resolve_schedule_def("refresh_after_close"), day.replace(tzinfo=NEW_YORK))
    assert tick.run_requests == []
    assert tick.skip_message == f"the NYSE did not trade on {why}"


def test_without_the_trading_day_rule_every_tick_refreshes():
    schedule = build_refresh_schedule(WATCHLIST, "* * * * *", 100, trading_days_only=False)
    tick = _evaluate(schedule, datetime(2026, 11, 26, 17, 30, tzinfo=NEW_YORK))
    assert len(tick.run_requests) == 1


@pytest.mark.parametrize(
    ("symbols", "day", "closed"),
    [
        (["AAPL"], date(2023, 6, 19), ["NYSE"]),  # Juneteenth
        (["AAPL", "GPV.TRV"], date(2023, 6, 19), []),  # the TSX Venture Exchange traded
        (["AAPL", "SHOP.TRT"], date(2024, 7, 1), []),  # Canada Day: the NYSE traded
        (["AAPL", "GPV.TRV", "SHOP.TRT"], date(2023, 12, 25),
         ["NYSE", "TSX Venture Exchange", "Toronto Stock Exchange"]),
        (["600104.SHH", "000002.SHZ"], date(2024, 2, 12),
         ["Shanghai Stock Exchange", "Shenzhen Stock Exchange"]),  # Chinese New Year
    ],
)
def test_a_day_is_skipped_only_when_no_exchange_of_the_watchlist_traded(symbols, day, closed):
    assert closed_exchanges(symbols, day) == closed


def test_a_daemon_running_for_years_still_refreshes_on_trading_days(monkeypatch):
    """Issue 12 item 7: the calendar was built once, to a year after the process started, so a
    daemon running longer skipped every tick. Started in 2026, ticking in 2029: a Monday still
    refreshes and Christmas is still skipped."""
    schedule = defs.resolve_schedule_def("refresh_after_close")
    monkeypatch.setattr(trading_calendar, "_today", lambda: date(2026, 12, 2))
    assert len(_evaluate(schedule, datetime(2026, 12, 7, 17, 30, tzinfo=NEW_YORK)).run_requests)
    monkeypatch.setattr(trading_calendar, "_today", lambda: date(2029, 12, 3))
    [request] = _evaluate(schedule, datetime(2029, 12, 3, 17, 30, tzinfo=NEW_YORK)).run_requests
    assert request.run_key == "2029-12-03:AAPL..FB"
    christmas = _evaluate(schedule, datetime(2029, 12, 25, 17, 30, tzinfo=NEW_YORK))
    assert christmas.run_requests == []
    assert christmas.skip_message == "the NYSE did not trade on Tuesday 2029-12-25"
