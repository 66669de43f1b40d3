"""The shared budget as the API sees it: real fetch threads, a real Postgres budget row and the
loopback server in a process of its own, counting windows over the limit at its arrivals.

A fetch thread that wakes late for its slot (the OS or the interpreter lock handing it back
late) used to send anyway, together with the next slots' requests: a one-second window over
the limit at the server. The test makes one sleep in seven wake 80 ms late, more than the
headroom's 40 ms over ten requests.
"""

import time
import uuid
from collections import Counter

import pytest
import sqlalchemy as sa

from bench.loopback import ChildServer, SampleService
from bench.rate_limits import windows_over_limit
from stock_assets.alphavantage.api_client import AlphaVantageAPIClient
from stock_assets.ingest.batch import fetch_batch
from stock_assets.ingest.budget import RequestBudget

PER_SECOND, PER_MINUTE = 10, 600
SYMBOLS = [f"S{number:04d}" for number in range(1, 41)]  # four seconds at 10/s
LATE_WAKE = 0.08


class WakesLate:
    """`time.sleep`, but every seventh sleep wakes `LATE_WAKE` seconds late."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, seconds: float) -> None:
        self.calls += 1
        time.sleep(seconds + (LATE_WAKE if self.calls % 7 == 0 else 0.0))


@pytest.fixture(scope="module")
def api_server():
    """The loopback server over the synthetic symbols, in a child process, 200 ms per reply."""
    server = ChildServer(SampleService, len(SYMBOLS), None, 7)
    server.call("prepare", None, ["compact"])
    server.call("set_latency", 0.2)
    yield server
    server.stop()


@pytest.mark.slow
def test_late_wake_ups_never_put_a_second_over_the_limit(api_server, postgres_url):
    api_server.call("clear")
    engine = sa.create_engine(postgres_url)
    budget = RequestBudget(
        engine, name=f"test-{uuid.uuid4().hex[:8]}", per_second=PER_SECOND,
        per_minute=PER_MINUTE, per_day=0, sleep=WakesLate(),
    )
    client = AlphaVantageAPIClient(
        api_key="test-key", base_url=api_server.url, budget=budget, connections=4
    )
    try:
        result = fetch_batch(
            lambda symbol: client.fetch_daily(symbol, outputsize="compact"), SYMBOLS, workers=4
        )
    finally:
        engine.dispose()
    arrivals = api_server.call("arrivals")
    assert sorted(result.fetched) == SYMBOLS
    assert Counter(a.symbol for a in arrivals) == dict.fromkeys(SYMBOLS, 1)
    times = [a.monotonic for a in arrivals]
    assert windows_over_limit(times, 1.0, PER_SECOND) == 0
    assert windows_over_limit(times, 60.0, PER_MINUTE) == 0
