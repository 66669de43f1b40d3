"""The fault campaign (issue 16): real `stock-assets materialize` runs under network and database
faults, each followed by integrity checks and a clean re-run.

Each row is one fault on a fresh deployment (`bench.fault_deployment`) of two symbols, the
faulted one materialized first: Alpha Vantage and S3 faults come from a `FaultProxy` in front of
the server, the PostgreSQL one from `pg_terminate_backend` mid-load (`bench.load_killer`). A
transient fault (shorter than the retries) must leave the run successful; a persistent one must
fail the faulted symbol with a message naming the fault and store the other. Either way the run
must end within its deadline (the clean re-run's time, plus what the fault may add by the
product's own deadlines and retries, `Fault.bound`, plus `SLACK_SECONDS` of this machine's
noise), nothing stored may be torn (`bench.store_integrity`), and a clean re-run must succeed
and converge.

    python -m bench.fault_campaign [--short] [--seed N]
"""

import argparse
import random
import re
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from bench.fault_deployment import LOCAL, REQUEST_DEADLINE_SECONDS, S3_POSTGRES, Deployment, Servers
from bench.load_killer import LoadKiller
from bench.reliability_table import Table
from bench.store_integrity import EQUAL, Integrity, check

SYMBOLS = ["AAPL", "MSFT"]
RETRIES = 5  # attempts, for the Alpha Vantage client and botocore alike
BACKOFFS = 1 + 2 + 4 + 8  # seconds at most between 5 attempts (both back off exponentially)
SLACK_SECONDS = 15.0  # on top of the clean re-run's time: this machine's noise
COLUMNS = [
    "fault", "backend", "schedule", "injected", "exit", "faulted symbol's line", "other symbol",
    "wall / deadline", "ended within deadline", "objects: SHA-256 and parse",
    "table = stored history", "duplicate rows", "raw answers retrievable", "clean re-run",
    "as expected",
]


@dataclass(frozen=True)
class Fault:
    """One row: the fault, where it strikes, and what the run should do under it."""

    name: str
    backend: str
    kind: str  # a proxy fault, or "terminate" (the PostgreSQL backend)
    match: str | None  # the requests' first lines it hits ({symbol}: the faulted symbol)
    times: int | None  # how many (None: every one: persistent)
    expect_exit: int
    expect: str  # a regex the faulted symbol's line (or, when it succeeds, its retry) matches
    bound: float  # seconds the fault may add, by the product's deadlines and retries
    status: int = 503
    drip_head: bool = False
    drip_seconds: float = 0.05  # between two bytes of a drip
    short: bool = False

    @property
    def on_alpha_vantage(self) -> bool:
        return self.name.startswith("Alpha Vantage")

    def schedule(self, symbol: str) -> str:
        if self.kind == "terminate":
            return f"{symbol}'s load, once"
        which = (self.match or "any request").replace("{symbol}", symbol)
        return f"{'every' if self.times is None else f'next {self.times}'}: {which}"


AV_DAILY = r"TIME_SERIES_DAILY&symbol={symbol}&"
ATTEMPTS = RETRIES * REQUEST_DEADLINE_SECONDS + BACKOFFS  # a persistently failing request
FAULTS = [
    Fault("Alpha Vantage reset", LOCAL, "reset", AV_DAILY, None, 1, r"ConnectionError", BACKOFFS),
    Fault("Alpha Vantage stall", LOCAL, "stall", AV_DAILY, None, 1,
          r"timed out after 3 s \(deadline\): no answer arrived", ATTEMPTS),
    Fault("Alpha Vantage drip (body)", LOCAL, "drip", AV_DAILY, 1, 0,
          r"timed out after 3 s \(deadline\): the answer was still arriving", 3 + 1, short=True),
    Fault("Alpha Vantage drip (head too)", LOCAL, "drip", AV_DAILY, 1, 0,
          r"timed out after 3 s \(deadline\): the headers were still arriving", 3 + 1,
          drip_head=True, drip_seconds=0.25),
    Fault("Alpha Vantage truncate", LOCAL, "truncate", AV_DAILY, None, 1,
          r"ChunkedEncodingError|ConnectionError|IncompleteRead", BACKOFFS),
    Fault("Alpha Vantage 503 burst", LOCAL, "5xx", AV_DAILY, 2, 0,
          r"service unavailable: HTTP 503", 1 + 2),
    Fault("S3 reset", S3_POSTGRES, "reset", r"^PUT \S*{symbol}", 2, 0, r"^ok", 1 + 2),
    Fault("S3 stall", S3_POSTGRES, "stall", r"^PUT \S*cleaned_daily_prices/{symbol}", 1, 0,
          r"^ok", 30 + 1),
    Fault("S3 truncate", S3_POSTGRES, "truncate", r"{symbol}", None, 1,
          r"S3", 2 * BACKOFFS),
    Fault("S3 SlowDown burst", S3_POSTGRES, "5xx", None, 3, 0, r"^ok", 1 + 2 + 4),
    Fault("PostgreSQL backend terminated mid-load", S3_POSTGRES, "terminate", None, 1, 1,
          r"terminat|administrator command|server closed the connection|connection is lost", 0),
]


@dataclass
class Outcome:
    """What one row's runs did."""

    injected: str
    faulty_exit: int
    message: str
    other: str
    seconds: float
    deadline: float
    after_fault: Integrity
    rerun_exit: int
    converged: Integrity


def run(short: bool, seed: int, work: Path) -> Table:
    """Run every fault, one fresh deployment each; `short` (the suite's): one of them, its time
    shown but not judged (tests never assert on time, and the suite runs beside it)."""
    table = Table("Faults: real materializations under injected faults", COLUMNS)
    faults = [fault for fault in FAULTS if fault.short or not short]
    rng = random.Random(seed)
    pairs = [rng.sample(SYMBOLS, 2) for _ in faults]  # (faulted, other), drawn up front
    with ExitStack() as stack:
        servers = Servers(stack)

        def row(number: int) -> Outcome:
            with ExitStack() as row_stack:
                folder = work / f"row{number:02d}"
                deployment = Deployment(servers, faults[number].backend, folder, row_stack)
                return _run_row(faults[number], deployment, *pairs[number])

        # Short: the rows side by side (each has its own proxies, store and database); full:
        # one at a time, so each row's times are its own.
        with ThreadPoolExecutor(max_workers=len(faults) if short else 1) as pool:
            outcomes = list(pool.map(row, range(len(faults))))
    for fault, (faulted, _), outcome in zip(faults, pairs, outcomes, strict=True):
        _judge(table, fault, faulted, outcome, judge_time=not short)
    surprised = {surprise.split(":")[0] for surprise in table.surprises}
    table.summary = (f"{len(faults)} faults, all as expected" if not surprised else
                     f"{len(faults)} faults, {len(surprised)} not as expected")
    return table


def _run_row(fault: Fault, deployment: Deployment, faulted: str, other: str) -> Outcome:
    """The faulty run, the checks, then the clean re-run and the checks again."""
    symbols = [faulted, other]
    proxy = deployment.api_proxy if fault.on_alpha_vantage else deployment.s3_proxy
    proxy.drip_seconds = fault.drip_seconds
    before = sum(proxy.counts.values())
    killer = None
    if fault.kind == "terminate":
        killer = LoadKiller(deployment.database_url).start()
    else:
        match = fault.match.replace("{symbol}", faulted) if fault.match else None
        proxy.inject(fault.kind, match=match, times=fault.times, status=fault.status,
                     drip_head=fault.drip_head)
    try:
        faulty = deployment.materialize(symbols)
    finally:
        proxy.clear()
        if killer is not None:
            killer.stop()
    if killer is not None:
        injected = "; ".join(killer.killed) or "no load seen"
    else:
        injected = f"{sum(proxy.counts.values()) - before} {fault.kind}"
    after_fault = check(deployment.store, deployment.engine, symbols)
    clean = deployment.materialize(symbols)
    message = faulty.line(faulted)
    retry = faulty.retry(faulted)
    if faulty.returncode == 0 and retry:
        message += f" (after: {retry})"
    return Outcome(
        injected, faulty.returncode, message, faulty.line(other), faulty.seconds,
        clean.seconds + fault.bound + SLACK_SECONDS, after_fault, clean.returncode,
        check(deployment.store, deployment.engine, symbols),
    )


def _judge(
    table: Table, fault: Fault, faulted: str, outcome: Outcome, *, judge_time: bool
) -> None:
    """The row, and a surprise for each way it differs from what was expected."""
    found = []
    if outcome.injected.startswith(("0 ", "no ")):
        found.append(f"the fault was never injected ({outcome.injected})")
    if outcome.faulty_exit != fault.expect_exit:
        found.append(f"exit {outcome.faulty_exit}, expected {fault.expect_exit}")
    if not re.search(fault.expect, outcome.message):
        found.append(f"the message does not match /{fault.expect}/: {outcome.message}")
    if not outcome.other.startswith("ok"):
        found.append(f"the other symbol did not succeed: {outcome.other}")
    within = outcome.seconds <= outcome.deadline
    if judge_time and not within:
        found.append(f"took {outcome.seconds:.1f} s, over its deadline of "
                     f"{outcome.deadline:.0f} s (clean run + {fault.bound:g} s + slack)")
    found += [f"torn after the fault: {problem}" for problem in outcome.after_fault.problems()]
    if fault.expect_exit == 0 and not outcome.after_fault.converged():
        found.append(f"not converged after an absorbed fault: {outcome.after_fault.table_cell()}")
    if any(state != EQUAL for symbol, state in outcome.after_fault.table.items()
           if symbol != faulted):
        found.append(f"the other symbol's rows are not its history: "
                     f"{outcome.after_fault.table_cell()}")
    if outcome.rerun_exit != 0 or not outcome.converged.converged():
        found.append(f"the clean re-run did not converge (exit {outcome.rerun_exit}; "
                     f"{outcome.converged.table_cell()}; {outcome.converged.problems()})")
    table.surprises += [f"{fault.name}: {what}" for what in found]
    after = outcome.after_fault
    table.add(
        fault.name, fault.backend, fault.schedule(faulted), outcome.injected,
        outcome.faulty_exit, _cell(f"{faulted}: {outcome.message}"), _cell(outcome.other, 40),
        f"{outcome.seconds:.1f} s / {outcome.deadline:.0f} s",
        ("yes" if within else "NO") if judge_time else "not judged (short)",
        after.objects_cell(), after.table_cell(), after.duplicates, after.answers_cell(),
        "ok, converged" if outcome.rerun_exit == 0 and outcome.converged.converged() else "NO",
        "yes" if not found else "NO",
    )


def _cell(text: str, limit: int = 160) -> str:
    text = text.replace("|", "/").replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as work:
        table = run(args.short, args.seed, Path(work))
    print(table.render())
    print(f"\n{table.summary} ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
