"""Fetching a batch of symbols: a few requests in flight, one shared budget, a clean stop.

Several requests are in flight because the API's latency, not its rate limit, would otherwise
set the pace; the budget spaces their starts. A symbol that fails does not stop the others,
but an error that every further request would repeat (quota spent, bad key, premium-only call)
stops the batch: requests not yet sent are never sent.
"""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from stock_assets.alphavantage.errors import (
    AlphaVantageError,
    InvalidApiKey,
    PlanError,
    QuotaExhausted,
)

STOPS_THE_BATCH = (QuotaExhausted, InvalidApiKey, PlanError)


@dataclass
class BatchResult:
    """What a batch fetched, what failed (and why), and what was never asked for."""

    fetched: dict[str, Any] = field(default_factory=dict)
    failures: dict[str, AlphaVantageError] = field(default_factory=dict)
    not_sent: list[str] = field(default_factory=list)

    @property
    def quota_exhausted(self) -> bool:
        return any(isinstance(e, QuotaExhausted) for e in self.failures.values())

    @property
    def unfetched(self) -> list[str]:
        """Symbols without an answer: failed (any reason) or never sent."""
        return [*self.failures, *self.not_sent]

    @property
    def errors(self) -> dict[str, AlphaVantageError]:
        """Failures other than the quota running out: what a human has to look at."""
        return {s: e for s, e in self.failures.items() if not isinstance(e, QuotaExhausted)}


def fetch_batch(
    fetch: Callable[[str], Any],
    symbols: list[str],
    *,
    workers: int = 4,
    on_answer: Callable[[str, Any, int], None] | None = None,
) -> BatchResult:
    """Fetch every symbol (in order of submission) with `workers` requests in flight.

    `fetch(symbol)` returns the symbol's answer (in whatever form the caller keeps it) or raises
    an `AlphaVantageError`; `on_answer(symbol, answer, answers_so_far)` runs in the calling
    thread, for progress.
    """
    stop = threading.Event()

    def attempt(symbol: str) -> Any:
        if stop.is_set():
            return None
        try:
            return fetch(symbol)
        except AlphaVantageError as error:
            if isinstance(error, STOPS_THE_BATCH):
                stop.set()
            raise
        except BaseException:
            stop.set()
            raise

    result = BatchResult()
    outcomes: dict[str, Any] = {}
    fetched = 0
    with ThreadPoolExecutor(max_workers=max(workers, 1), thread_name_prefix="fetch") as pool:
        futures = {pool.submit(attempt, symbol): symbol for symbol in symbols}
        for future in as_completed(futures):
            symbol = futures[future]
            try:
                outcome = future.result()
            except AlphaVantageError as error:
                outcome = error
            except BaseException:
                stop.set()
                raise
            outcomes[symbol] = outcome
            if outcome is not None and not isinstance(outcome, AlphaVantageError):
                fetched += 1
                if on_answer is not None:
                    on_answer(symbol, outcome, fetched)
    for symbol in symbols:
        outcome = outcomes[symbol]
        if outcome is None:
            result.not_sent.append(symbol)
        elif isinstance(outcome, AlphaVantageError):
            result.failures[symbol] = outcome
        else:
            result.fetched[symbol] = outcome
    return result
