"""The request budget as the API sees it: one batch fetched through a Postgres budget row, with
the machine loaded on purpose, counting windows over the limit at the server's arrivals.

The loopback server runs in a child process (`bench.loopback`) with a fixed latency; this
process fetches `--requests` synthetic symbols with the package's fetch pool and live client,
as the `raw_quotes` step does. `--hogs N` starts N busy processes (a loaded machine: threads wake
late); `--hold-ms` makes each answer hold the interpreter lock that long in the calling thread,
as a run's own work does. The budget row is in a throwaway database on the local PostgreSQL::

    .venv/bin/python -m bench.paced_fetch --hogs 3
    .venv/bin/python -m bench.paced_fetch --hold-ms 30 --requests 200
"""

import argparse
import multiprocessing
import statistics
import time
import uuid
from collections.abc import Callable

import sqlalchemy as sa

from bench.loopback import ChildServer, SampleService
from bench.pipeline_harness import throwaway_database
from bench.postgres_load import SERVER_URL
from bench.rate_limits import request_rate, windows_over_limit
from stock_assets.alphavantage.api_client import AlphaVantageAPIClient
from stock_assets.database.migrations import ensure_schema
from stock_assets.ingest.batch import fetch_batch
from stock_assets.ingest.budget import RequestBudget


def _busy() -> None:
    while True:
        pass


def lock_holder(milliseconds: float) -> Callable[..., None]:
    """A callback that holds the interpreter lock about that long: one C call, never
    interrupted (calibrated here)."""
    started = time.perf_counter()
    sum(range(1_000_000))
    loops = int(milliseconds * 1_000_000 / ((time.perf_counter() - started) * 1000))
    return lambda *_: sum(range(loops)) and None


def fetch(args: argparse.Namespace, url: str, database: str) -> tuple[dict[str, float], float]:
    """Fetch the batch; each symbol's slot and the seconds the whole batch took."""
    engine = sa.create_engine(database)
    ensure_schema(engine)
    budget = RequestBudget(engine, name=f"bench-{uuid.uuid4().hex[:8]}",
                           per_second=args.per_second, per_minute=args.per_minute, per_day=0)
    slots: dict[str, float] = {}
    claim = budget.acquire

    def acquire(symbol: str) -> float:
        slots[symbol] = claim(symbol)
        return slots[symbol]

    budget.acquire = acquire  # type: ignore[method-assign]
    client = AlphaVantageAPIClient(api_key="bench", base_url=url, budget=budget, connections=4)
    symbols = [f"S{n:04d}" for n in range(1, args.requests + 1)]
    started = time.perf_counter()
    fetch_batch(lambda s: client.fetch_daily(s, outputsize="compact"), symbols, workers=4,
                on_answer=lock_holder(args.hold_ms))
    engine.dispose()
    return slots, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--per-second", type=int, default=10)
    parser.add_argument("--per-minute", type=int, default=600)
    parser.add_argument("--latency", type=float, default=0.2, help="server latency, s")
    parser.add_argument("--hogs", type=int, default=0, help="busy processes beside")
    parser.add_argument("--hold-ms", type=float, default=0.0, help="lock held per answer")
    args = parser.parse_args()
    server = ChildServer(SampleService, args.requests, None, 7)
    server.call("prepare", None, ["compact"])
    server.call("set_latency", args.latency)
    hogs = [multiprocessing.Process(target=_busy, daemon=True) for _ in range(args.hogs)]
    for hog in hogs:
        hog.start()
    try:
        with throwaway_database(SERVER_URL) as database:
            slots, seconds = fetch(args, server.url, database)
    finally:
        for hog in hogs:
            hog.terminate()
        arrivals = server.call("arrivals")
        server.stop()
    times = [a.wall for a in arrivals]
    late = [a.wall - slots[a.symbol] for a in arrivals]
    configured = min(args.per_minute, args.per_second * 60 or args.per_minute)
    print(f"{len(times)} requests in {seconds:.1f} s, {args.hogs} busy processes, lock held "
          f"{args.hold_ms:g} ms per answer: {request_rate(times):,.0f}/min achieved = "
          f"{request_rate(times) / configured:.3f} of {configured}/min")
    print(f"windows over the limit at the server: {windows_over_limit(times, 1.0, args.per_second)}"
          f" of 1 s, {windows_over_limit(times, 60.0, args.per_minute)} of 60 s")
    deciles = statistics.quantiles(late, n=10)
    print(f"slot to arrival: median {deciles[4] * 1000:.1f} ms, 90 % {deciles[8] * 1000:.1f} ms, "
          f"max {max(late) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
