"""The Alpha Vantage resource: the API key, endpoint, plan and request budget in one place."""

import dagster as dg
from pydantic import PrivateAttr

from stock_assets.alphavantage.api_client import DEFAULT_RETRY_BUDGET_SECONDS, AlphaVantageAPIClient
from stock_assets.alphavantage.client import AlphaVantageClient
from stock_assets.alphavantage.sample import sample_symbols
from stock_assets.alphavantage.sample_client import AlphaVantageSampleClient
from stock_assets.database.resource import DatabaseResource
from stock_assets.ingest.budget import RequestBudget
from stock_assets.settings import (
    DEFAULT_BASE_URL,
    DEFAULT_CORPORATE_ACTIONS_DAYS,
    DEFAULT_MAX_CONCURRENT_REQUESTS,
    DEFAULT_REQUEST_DEADLINE_SECONDS,
    FREE_PER_DAY,
    FREE_PER_MINUTE,
    FREE_PER_SECOND,
    resolve,
)


class AlphaVantageResource(dg.ConfigurableResource):
    """An empty `api_key` selects the offline sample source bundled with the package.

    The request budget lives in the warehouse `database`, so every run and process shares it.
    """

    database: dg.ResourceDependency[DatabaseResource]
    api_key: str = ""
    base_url: str = DEFAULT_BASE_URL
    requests_per_second: int = FREE_PER_SECOND
    requests_per_minute: int = FREE_PER_MINUTE
    requests_per_day: int = FREE_PER_DAY
    max_concurrent_requests: int = DEFAULT_MAX_CONCURRENT_REQUESTS
    request_deadline_seconds: int = DEFAULT_REQUEST_DEADLINE_SECONDS
    # One symbol's attempts together: asking and backing off, not waiting for a rate slot.
    retry_budget_seconds: float = DEFAULT_RETRY_BUDGET_SECONDS
    premium: bool = False
    full_history: bool = True
    datatype: str = "json"
    retry_backoff_seconds: float = 1.0
    corporate_actions_every_days: int = DEFAULT_CORPORATE_ACTIONS_DAYS
    _client: AlphaVantageClient | None = PrivateAttr(default=None)

    @property
    def offline(self) -> bool:
        return not self.api_key

    def get_budget(self) -> RequestBudget:
        return RequestBudget(
            self.database.get_engine(),
            per_second=self.requests_per_second,
            per_minute=self.requests_per_minute,
            per_day=self.requests_per_day,
        )

    def get_client(self) -> AlphaVantageClient:
        """One client per process; the offline one spends no budget."""
        if self._client is None:
            if self.offline:
                self._client = AlphaVantageSampleClient()
            else:
                self._client = AlphaVantageAPIClient(
                    api_key=self.api_key,
                    base_url=self.base_url,
                    budget=self.get_budget(),
                    backoff_seconds=self.retry_backoff_seconds,
                    connections=self.max_concurrent_requests,
                    deadline_seconds=self.request_deadline_seconds,
                    retry_budget_seconds=self.retry_budget_seconds,
                )
        return self._client

    def describe(self) -> str:
        """Where answers come from, for a person: never the key."""
        if self.offline:
            return (
                f"offline sample (no ALPHAVANTAGE_API_KEY): real daily prices bundled in the "
                f"package for {', '.join(sample_symbols())}, 2000-2013; nothing is sent to "
                f"Alpha Vantage"
            )
        plan = "premium (adjusted endpoint)" if self.premium else "free (daily endpoint)"
        return (
            f"Alpha Vantage at {resolve(self.base_url)}, {plan} plan, "
            f"{resolve(self.max_concurrent_requests)} requests in flight at most"
        )
