"""The request budget: Alpha Vantage's per-second, per-minute and per-day limits in one process.

Short windows block until a request may go; the daily quota never waits (a day is too long),
it raises `QuotaExhausted` so the run stops cleanly.
"""

from pyrate_limiter import Duration, Limiter, Rate

from stock_assets.ingest.errors import QuotaExhausted


class RequestBudget:
    """Acquire one permit per HTTP request; a limit of 0 means unlimited."""

    def __init__(self, *, per_second: int = 1, per_minute: int = 5, per_day: int = 25):
        rates = []
        # pyrate-limiter refuses a rate another one already implies (e.g. 5/s with 5/min).
        if per_second > 0 and not 0 < per_minute <= per_second:
            rates.append(Rate(per_second, Duration.SECOND))
        if per_minute > 0 and not 0 < per_second * 60 <= per_minute:
            rates.append(Rate(per_minute, Duration.MINUTE))
        self.per_day = per_day
        self._pace = Limiter(rates) if rates else None
        self._daily = Limiter(Rate(per_day, Duration.DAY)) if per_day > 0 else None

    def acquire(self, symbol: str) -> None:
        """Wait for the per-second/minute windows; raise if today's quota is spent."""
        if self._daily is not None and not self._daily.try_acquire("day", blocking=False):
            raise QuotaExhausted(
                symbol, f"the configured budget of {self.per_day} requests per day is used up"
            )
        if self._pace is not None:
            self._pace.try_acquire("pace")
