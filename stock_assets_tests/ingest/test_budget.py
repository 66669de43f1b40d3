"""`RequestBudget`: slots spaced by the plan's rate and a daily quota that resets at midnight
US/Eastern, shared through the database by every thread and process (SQLite and Postgres)."""

import itertools
import multiprocessing
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from stock_assets.alphavantage.errors import QuotaExhausted
from stock_assets.database.migrations import ensure_schema
from stock_assets.ingest.budget import HEADROOM, RequestBudget, quota_day, spacing_seconds


class FakeClock:
    """Wall-clock seconds that only move when someone sleeps or the test says so."""

    def __init__(self, start: datetime):
        self.now = start.timestamp()
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture(params=["sqlite", "postgresql"])
def budget_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'budget.sqlite'}"
        engine = sa.create_engine(url)
        ensure_schema(engine)
        engine.dispose()
        return url
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def make_budget(budget_url):
    engine = sa.create_engine(budget_url)
    name = f"test-{uuid.uuid4().hex[:8]}"

    def make(clock: FakeClock | None = None, **limits) -> RequestBudget:
        timing = {"clock": clock.time, "sleep": clock.sleep} if clock else {}
        return RequestBudget(engine, name=name, **limits, **timing)

    yield make
    engine.dispose()


WINTER_NOON = datetime(2026, 1, 15, 17, 0, tzinfo=UTC)  # 12:00 in New York (EST, UTC-5)


def test_spacing_is_the_tighter_limit_with_headroom():
    assert spacing_seconds(1, 5) == pytest.approx(12 * HEADROOM)
    assert spacing_seconds(10, 75) == pytest.approx(0.8 * HEADROOM)
    assert spacing_seconds(5, 0) == pytest.approx(0.2 * HEADROOM)
    assert spacing_seconds(0, 0) == 0
    assert 1 < HEADROOM <= 1 / 0.95  # still within 95 % of the plan's rate


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        (datetime(2026, 1, 16, 4, 59, tzinfo=UTC), date(2026, 1, 15)),  # 23:59 EST
        (datetime(2026, 1, 16, 5, 0, tzinfo=UTC), date(2026, 1, 16)),  # midnight EST
        (datetime(2026, 7, 16, 3, 59, tzinfo=UTC), date(2026, 7, 15)),  # 23:59 EDT
        (datetime(2026, 7, 16, 4, 0, tzinfo=UTC), date(2026, 7, 16)),  # midnight EDT
    ],
)
def test_the_quota_day_turns_at_midnight_in_new_york(moment, day):
    assert quota_day(moment.timestamp()) == day


def test_daily_quota_raises_once_spent_without_waiting(make_budget):
    clock = FakeClock(WINTER_NOON)
    budget = make_budget(clock, per_second=1, per_minute=5, per_day=3)
    for _ in range(3):
        budget.acquire("AAPL")
    waited = sum(clock.slept)
    with pytest.raises(QuotaExhausted) as caught:
        budget.acquire("MSFT")
    assert sum(clock.slept) == waited
    assert caught.value.symbol == "MSFT"
    assert not caught.value.retryable
    assert str(caught.value) == (
        "MSFT: Alpha Vantage daily quota exhausted: "
        "the configured budget of 3 requests per day is used up"
    )
    assert budget.used_today() == 3


def test_a_spent_quota_stays_spent_until_midnight_new_york(make_budget):
    clock = FakeClock(WINTER_NOON)
    budget = make_budget(clock, per_second=0, per_minute=0, per_day=2)
    budget.acquire("AAPL")
    budget.acquire("AAPL")
    clock.now = datetime(2026, 1, 16, 4, 59, 59, tzinfo=UTC).timestamp()
    with pytest.raises(QuotaExhausted):
        budget.acquire("AAPL")
    clock.now = datetime(2026, 1, 16, 5, 0, 1, tzinfo=UTC).timestamp()
    budget.acquire("AAPL")
    assert budget.used_today() == 1


def test_slots_are_spaced_by_the_plan_and_slept_for(make_budget):
    clock = FakeClock(WINTER_NOON)
    budget = make_budget(clock, per_second=1, per_minute=5, per_day=0)
    slots = [budget.acquire("AAPL") for _ in range(4)]
    gap = 12 * HEADROOM
    assert [b - a for a, b in itertools.pairwise(slots)] == pytest.approx([gap, gap, gap])
    assert clock.slept == pytest.approx([gap, gap, gap])


def test_an_idle_budget_does_not_bank_slots(make_budget):
    clock = FakeClock(WINTER_NOON)
    budget = make_budget(clock, per_second=1, per_minute=0, per_day=0)
    budget.acquire("AAPL")
    clock.now += 3600
    first = budget.acquire("AAPL")
    second = budget.acquire("AAPL")
    assert first == pytest.approx(clock.now - HEADROOM)
    assert second - first == pytest.approx(HEADROOM)


def test_zero_limits_mean_unlimited(make_budget):
    clock = FakeClock(WINTER_NOON)
    budget = make_budget(clock, per_second=0, per_minute=0, per_day=0)
    for _ in range(200):
        budget.acquire("AAPL")
    assert clock.slept == []


def test_marking_exhausted_stops_every_holder_of_the_budget(make_budget):
    clock = FakeClock(WINTER_NOON)
    budget = make_budget(clock, per_second=0, per_minute=0, per_day=25)
    other = make_budget(clock, per_second=0, per_minute=0, per_day=25)
    budget.acquire("AAPL")
    budget.mark_exhausted()
    with pytest.raises(QuotaExhausted):
        other.acquire("MSFT")


def test_threads_share_one_budget_exactly(make_budget):
    budget = make_budget(per_second=0, per_minute=0, per_day=30)

    def claim(_: int) -> bool:
        try:
            budget.acquire("AAPL")
        except QuotaExhausted:
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        granted = list(pool.map(claim, range(50)))
    assert sum(granted) == 30


def _claim_in_process(url: str, name: str, attempts: int, queue) -> None:
    engine = sa.create_engine(url)
    budget = RequestBudget(engine, name=name, per_second=0, per_minute=6000, per_day=15)
    slots = []
    for _ in range(attempts):
        try:
            slots.append(budget.acquire("AAPL"))
        except QuotaExhausted:
            break
    queue.put(slots)
    engine.dispose()


def test_two_processes_share_the_quota_and_the_pace(budget_url):
    """Two runs at once cannot exceed the plan: 15 of 20 attempts pass, never closer than 10 ms."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [
        context.Process(target=_claim_in_process, args=(budget_url, name, 10, queue))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    slots = sorted(queue.get(timeout=120) + queue.get(timeout=120))
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert len(slots) == 15
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    assert min(gaps) >= 0.01 - 1e-6


class WakesLateOnce(FakeClock):
    """The first sleep ends `late` seconds after it should (a loaded machine)."""

    def __init__(self, start: datetime, late: float):
        super().__init__(start)
        self.late = late

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds + self.late)
        self.late = 0.0


def test_a_late_wake_up_takes_a_fresh_slot_and_spends_no_more_quota(make_budget):
    clock = WakesLateOnce(WINTER_NOON, late=0.05)
    budget = make_budget(clock, per_second=10, per_minute=0, per_day=5)
    first = budget.acquire("AAPL")
    second = budget.acquire("AAPL")  # its slot passed 50 ms ago when it woke: the next one
    assert budget.late_allowed == pytest.approx((10 * 0.1 * HEADROOM - 1) / 2)
    assert second == pytest.approx(first + 2 * spacing_seconds(10, 0))
    assert clock.now == pytest.approx(second)
    assert budget.used_today() == 2
