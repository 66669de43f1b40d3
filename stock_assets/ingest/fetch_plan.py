"""How much history to ask for: `compact` (last 100 days) when it reaches what is stored."""

from datetime import date

from stock_assets.alphavantage.api import COMPACT_ROWS
from stock_assets.exchanges import exchange_of
from stock_assets.trading_calendar import sessions_between

SAFETY_SESSIONS = 5  # compact's window must overlap the stored history, with room to spare


def choose_outputsize(
    symbol: str, last_stored: date | None, today: date, *, full_allowed: bool
) -> str:
    """`compact` when the stored history ends within the last 100 trading days of the symbol's
    exchange, else `full`.

    A plan without `outputsize=full` always gets `compact` (a first load then holds 100 days).
    """
    if not full_allowed:
        return "compact"
    if last_stored is None:
        return "full"
    missing = len(sessions_between(last_stored, today, exchange_of(symbol))) - 1
    return "compact" if missing <= COMPACT_ROWS - SAFETY_SESSIONS else "full"
