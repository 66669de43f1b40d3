"""The Alpha Vantage client interface: one answer per call (a daily series or a symbol's corporate
actions), whoever answers it."""

from abc import ABC, abstractmethod

from stock_assets.alphavantage.answers import Answer


class AlphaVantageClient(ABC):
    """Fetches daily series; `source` names where answers come from, stored with each answer."""

    source: str

    @abstractmethod
    def fetch_daily(
        self, symbol: str, *, adjusted: bool = False, outputsize: str = "full",
        datatype: str = "json",
    ) -> Answer:
        """Fetch one symbol's daily series; raises an `AlphaVantageError` subclass on failure."""

    @abstractmethod
    def fetch_actions(self, symbol: str, function: str) -> Answer:
        """Fetch one symbol's corporate actions (`api.SPLITS` or `api.DIVIDENDS`), the same way."""
