"""The after-close refresh: every day an exchange of the watchlist traded, raw quotes for the
whole watchlist.

One run per batch of symbols (a partition range, run as a single-run backfill), not one run per
symbol: each run costs seconds of process start. The cleaned prices and the table follow by
declarative automation, so the schedule only asks for what comes from the API.

The ticks stay New York time: at the default 17:30 every exchange Alpha Vantage serves has closed
that day's session (Toronto, the last, at 16:00). A day is skipped only when no watchlist symbol's
exchange traded, so a TSX Venture symbol is refreshed on Juneteenth; a day only some traded asks
for every symbol (one run per batch), which costs requests but loses nothing.
"""

from datetime import date

import dagster as dg

from stock_assets.exchanges import exchange_of
from stock_assets.ingest.assets import REFRESH_RAW_QUOTES
from stock_assets.partitions import RANGE_END_TAG, RANGE_START_TAG
from stock_assets.trading_calendar import sessions_between

MARKET_TIMEZONE = "America/New_York"

def batches(keys: list[str], size: int) -> list[tuple[str, str]]:
    """Consecutive partition ranges of at most `size` symbols (first, last)."""
    size = max(size, 1)
    return [(keys[i], keys[min(i + size, len(keys)) - 1]) for i in range(0, len(keys), size)]


def closed_exchanges(symbols: list[str], day: date) -> list[str]:
    """The watchlist's exchanges, by name, when none of them traded on `day`; else none."""
    exchanges = list(dict.fromkeys(exchange_of(symbol) for symbol in symbols))
    if any(len(sessions_between(day, day, exchange)) for exchange in exchanges):
        return []
    return [exchange.name for exchange in exchanges]


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def build_refresh_schedule(
    partitions: dg.PartitionsDefinition, cron: str, batch_size: int, *,
    trading_days_only: bool = True,
) -> dg.ScheduleDefinition:
    days = "on days an exchange of the watchlist traded" if trading_days_only else "on every tick"
    @dg.schedule(
        name="refresh_after_close",
        cron_schedule=cron,
        execution_timezone=MARKET_TIMEZONE,
        job_name=REFRESH_RAW_QUOTES,
        description=(
            f"Refresh raw quotes for every watchlist symbol at `{cron}` New York time "
            f"{days}, {batch_size} symbols per run."
        ),
    )
    def refresh_after_close(context: dg.ScheduleEvaluationContext):
        day = context.scheduled_execution_time.date()
        keys = partitions.get_partition_keys()
        closed = closed_exchanges(keys, day) if trading_days_only else []
        if closed:
            return dg.SkipReason(f"the {_and(closed)} did not trade on {day:%A %Y-%m-%d}")
        return [
            dg.RunRequest(
                run_key=f"{day}:{first}..{last}",
                tags={RANGE_START_TAG: first, RANGE_END_TAG: last},
            )
            for first, last in batches(keys, batch_size)
        ]

    return refresh_after_close
