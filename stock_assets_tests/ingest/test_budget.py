"""`RequestBudget` paces requests in short windows and stops at the daily quota without waiting."""

import time

import pytest

from stock_assets.ingest.budget import RequestBudget
from stock_assets.ingest.errors import QuotaExhausted


def test_daily_quota_raises_once_spent():
    budget = RequestBudget(per_second=0, per_minute=0, per_day=3)
    for _ in range(3):
        budget.acquire("AAPL")
    with pytest.raises(QuotaExhausted) as caught:
        budget.acquire("MSFT")
    assert caught.value.symbol == "MSFT"
    assert not caught.value.retryable
    assert str(caught.value) == (
        "MSFT: Alpha Vantage daily quota exhausted: "
        "the configured budget of 3 requests per day is used up"
    )


def test_daily_quota_never_waits_even_when_pacing_would():
    budget = RequestBudget(per_second=1, per_minute=5, per_day=1)
    budget.acquire("AAPL")
    started = time.monotonic()
    with pytest.raises(QuotaExhausted):
        budget.acquire("AAPL")
    assert time.monotonic() - started < 0.2


def test_spent_quota_stays_spent():
    budget = RequestBudget(per_second=0, per_minute=0, per_day=1)
    budget.acquire("AAPL")
    for _ in range(3):
        with pytest.raises(QuotaExhausted):
            budget.acquire("AAPL")


def test_zero_limits_mean_unlimited():
    budget = RequestBudget(per_second=0, per_minute=0, per_day=0)
    started = time.monotonic()
    for _ in range(500):
        budget.acquire("AAPL")
    assert time.monotonic() - started < 0.5


def test_per_second_pacing_spaces_requests():
    """Three go at once; the fourth waits for the one-second window to move on."""
    budget = RequestBudget(per_second=3, per_minute=0, per_day=0)
    started = time.monotonic()
    for _ in range(3):
        budget.acquire("AAPL")
    burst = time.monotonic() - started
    budget.acquire("AAPL")
    total = time.monotonic() - started
    assert burst < 0.3
    assert 0.95 <= total < 2.0
