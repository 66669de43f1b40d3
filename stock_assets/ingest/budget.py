"""The request budget: Alpha Vantage's pacing and daily quota, shared by every run and process.

The budget is one row of the warehouse database (`api_budget`), claimed by a single atomic
UPDATE, so two backfills at once, a scheduled run beside a sensor's, or pods on different nodes
all draw from one allowance. Pacing is a schedule of slots: each request is given the next free
instant, spaced by the tighter of the per-second and per-minute limits, and sleeps until it, so
concurrent fetchers keep the plan's rate without bursts. A request leaves only while its slot is
current: a thread woken late (a loaded machine, the interpreter lock) would go out together with
the next slots' requests, a burst at the API, so it takes a fresh slot instead. The daily quota
follows Alpha Vantage's day, which resets at midnight US/Eastern; it never waits (a day is too
long) but raises `QuotaExhausted`, so the run stops cleanly and the quota sensor finishes the work
after the reset.

pyrate-limiter's buckets were the first choice; they keep sliding windows, not a calendar day
that resets at a fixed hour, and share state across hosts only through an extra pool library.
"""

import math
import time
from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from stock_assets.alphavantage.errors import QuotaExhausted
from stock_assets.database.schema import api_budget
from stock_assets.settings import FREE_PER_DAY, FREE_PER_MINUTE, FREE_PER_SECOND

QUOTA_TIMEZONE = ZoneInfo("America/New_York")


def quota_day(timestamp: float) -> date:
    """The Alpha Vantage day a moment belongs to (its quota resets at midnight US/Eastern)."""
    return datetime.fromtimestamp(timestamp, QUOTA_TIMEZONE).date()


def quota_day_start(timestamp: float) -> float:
    """When the Alpha Vantage day of a moment began (epoch seconds)."""
    day = quota_day(timestamp)
    return datetime(day.year, day.month, day.day, tzinfo=QUOTA_TIMEZONE).timestamp()


# Slots are 4 % further apart than the limits allow: ten slots at 10/s span 1.04 s, and those 40 ms
# absorb how late a request may leave its slot (`late_allowed`) and its way to the API. At 3 %
# (15 ms late allowed) a loaded 2-core machine gave up about one slot in five (bench.paced_fetch);
# above 5 % the rate would fall under 95 % of the plan's.
HEADROOM = 1.04


def spacing_seconds(per_second: int, per_minute: int) -> float:
    """The gap between two requests that honours both limits (0 = that limit is off)."""
    return HEADROOM * max(
        1 / per_second if per_second > 0 else 0.0, 60 / per_minute if per_minute > 0 else 0.0
    )


def late_allowed(spacing: float, per_second: int, per_minute: int) -> float:
    """How late after its slot a request may still leave: half of what the headroom leaves over
    the tightest limit's window (`limit + 1` slots span the window and that much more), the other
    half being for the way from here to the API."""
    slacks = [
        limit * spacing - window
        for limit, window in ((per_second, 1.0), (per_minute, 60.0))
        if limit > 0
    ]
    return min(slacks) / 2 if slacks else math.inf


class RequestBudget:
    """Acquire one slot per HTTP request; a limit of 0 means unlimited.

    `engine` must hold the `api_budget` table (the shared database schema); `clock` and `sleep` are
    wall-clock seconds, shared by every process that uses the same row.
    """

    def __init__(
        self,
        engine: sa.Engine,
        *,
        name: str = "alphavantage",
        per_second: int = FREE_PER_SECOND,
        per_minute: int = FREE_PER_MINUTE,
        per_day: int = FREE_PER_DAY,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.engine = engine
        self.name = name
        self.per_day = per_day
        self.spacing = spacing_seconds(per_second, per_minute)
        self.late_allowed = late_allowed(self.spacing, per_second, per_minute)
        self._clock = clock
        self._sleep = sleep
        self._ensure_row()

    def _ensure_row(self) -> None:
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        row = {"name": self.name, "quota_day": date(1970, 1, 1), "used": 0, "next_slot": 0.0}
        with self.engine.begin() as connection:
            connection.execute(dialect.insert(api_budget).values(row).on_conflict_do_nothing())

    def acquire(self, symbol: str) -> float:
        """Claim the next slot, sleep until it comes, and return it (epoch seconds).

        A thread that wakes too late for its slot (`late_allowed`) would leave together with the
        next slots' requests, so it gives that slot up and waits for a fresh one; only the first
        claim counts against the day. Raises `QuotaExhausted`, without waiting, once today's
        quota is spent.
        """
        slot, round_trip = self._claim(symbol, self._clock(), counted=True)
        while True:
            wait = slot - self._clock()
            if wait > 0:
                self._sleep(wait)
            if self._clock() - slot <= self.late_allowed:
                return slot
            # Ask for a slot at least one round trip ahead, so it is not already past on arrival.
            slot, round_trip = self._claim(symbol, self._clock() + round_trip, counted=False)

    def _claim(self, symbol: str, now: float, *, counted: bool) -> tuple[float, float]:
        """The first free slot from `now` on, and the seconds the claim took."""
        today = quota_day(now)
        table = api_budget.c
        same_day = table.quota_day == today
        start = sa.case((table.next_slot > now, table.next_slot), else_=now)
        values: dict = {"next_slot": start + self.spacing}
        if counted:
            values |= {"used": sa.case((same_day, table.used + 1), else_=1), "quota_day": today}
        claim = (
            sa.update(api_budget)
            .where(table.name == self.name)
            .values(values)
            .returning(table.next_slot)
        )
        if counted and self.per_day > 0:
            claim = claim.where(sa.or_(~same_day, table.used < self.per_day))
        started = self._clock()
        with self.engine.begin() as connection:
            next_slot = connection.execute(claim).scalar()
        if next_slot is None:
            raise QuotaExhausted(
                symbol, f"the configured budget of {self.per_day} requests per day is used up"
            )
        return next_slot - self.spacing, self._clock() - started

    def mark_exhausted(self) -> None:
        """The API said today's quota is spent: stop every process from asking again today."""
        if self.per_day <= 0:
            return
        with self.engine.begin() as connection:
            connection.execute(
                sa.update(api_budget)
                .where(api_budget.c.name == self.name)
                .values(quota_day=quota_day(self._clock()), used=self.per_day)
            )

    def used_today(self) -> int:
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(api_budget.c.quota_day, api_budget.c.used).where(
                    api_budget.c.name == self.name
                )
            ).one()
        return row.used if row.quota_day == quota_day(self._clock()) else 0
