"""When a symbol's corporate actions are fetched: on its first load, then every few days (splits
and dividends are announced weeks ahead, so a weekly look keeps up), and at once when its prices
jump by a split ratio that no split on record explains. Never twice in one day."""

from collections.abc import Callable
from datetime import date, datetime

from stock_assets.ingest.budget import quota_day


def fetched_on(record: dict | None) -> date | None:
    """The Alpha Vantage day (US/Eastern, as its quota) the stored corporate actions were
    fetched on (None: never)."""
    when = (record or {}).get("fetched_at")
    return quota_day(datetime.fromisoformat(when).timestamp()) if when else None


def why_due(record: dict | None, today: date, every_days: int,
            unexplained_jumps: Callable[[], list[str]]) -> str | None:
    """Why the actions should be fetched today, or None when the stored ones will do; the
    prices' jumps are looked for (`unexplained_jumps`) only when nothing else makes them due."""
    last = fetched_on(record)
    if last is None:
        return "never fetched"
    if last >= today:
        return None
    if every_days > 0 and (today - last).days >= every_days:
        return f"last fetched {last}, {(today - last).days} days ago (every {every_days})"
    if jumps := unexplained_jumps():
        return f"price jump with no split on record: {', '.join(jumps[:3])}"
    return None
