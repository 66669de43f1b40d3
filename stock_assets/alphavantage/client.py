"""The Alpha Vantage client interface: one daily-series answer per call, whoever answers it."""

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
