"""What the live client needs of a request budget; the ingest stage supplies a shared one."""

from typing import Protocol


class Budget(Protocol):
    """Paces requests and learns when the day's quota is gone."""

    def acquire(self, symbol: str) -> float:
        """Wait until a request for `symbol` may start (raising if none may today)."""
        ...

    def mark_exhausted(self) -> None:
        """Record that Alpha Vantage said the day's quota is spent."""
        ...
