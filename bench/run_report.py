"""What a benchmark run shows: the run itself (time, result, the requests the server saw, this
process's RSS over time), each step's timeline from its events, requests per symbol, check
outcomes and materialized figures, and cProfile dumps."""

import bisect
import cProfile
import io
import pstats
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from bench.loopback import rss_mib
from stock_assets.alphavantage.api import ACTION_FIELDS
from stock_assets.alphavantage.sample_server import Arrival

RSS_SAMPLE_SECONDS = 0.2


@dataclass
class Run:
    """One Dagster run as the bench saw it."""

    name: str
    seconds: float
    result: dg.JobExecutionResult
    arrivals: list[Arrival]
    rss: list[tuple[float, float]]  # (wall time, MiB) every RSS_SAMPLE_SECONDS

    def peak_rss_between(self, start: float, end: float) -> float:
        return max((mib for at, mib in self.rss if start <= at <= end), default=0.0)


class RssSampler(threading.Thread):
    """Samples this process's RSS while a run goes, to see which step holds the memory."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[float, float]] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.samples.append((time.time(), rss_mib()))
            self.done.wait(RSS_SAMPLE_SECONDS)

    def stop(self) -> list[tuple[float, float]]:
        self.done.set()
        self.join()
        return self.samples


def write_profile(profiler: cProfile.Profile, path: str) -> None:
    profiler.dump_stats(path)
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text).strip_dirs()
    for order in ("cumulative", "tottime"):
        text.write(f"\n==== top 60 by {order} ====\n")
        stats.sort_stats(order).print_stats(60)
    Path(f"{path}.txt").write_text(text.getvalue())
    print(f"  profile of this run: {path} (top functions in {path}.txt)")


_LABELS = {
    "STEP_START": "start",
    "LOADED_INPUT": "load input {}",
    "STEP_INPUT": "check input {}",
    "STEP_OUTPUT": "compute, up to output {}",
    "HANDLED_OUTPUT": "output {} handled (IO manager done)",
    "ASSET_MATERIALIZATION": "materialization events recorded",
    "LOG_MESSAGE": "log messages (context.log), with the work before them",
    "ASSET_CHECK_EVALUATION": "check evaluations",
    "STEP_SUCCESS": "success",
    "STEP_FAILURE": "FAILURE",
}


def _event_name(event: dg.DagsterEvent) -> str:
    data = event.event_specific_data
    handle = getattr(data, "step_output_handle", None)
    name = getattr(handle, "output_name", None) or getattr(data, "output_name", None)
    return name or getattr(data, "input_name", None) or ""


def _kind(record: dg.EventLogEntry) -> str:
    return record.dagster_event.event_type_value if record.dagster_event else "LOG_MESSAGE"


def step_timelines(instance: dg.DagsterInstance, run: Run) -> None:
    """Each step's duration, split at its events and log messages: each line is the time up to
    an event (the last of a run of events of one kind) since the line before."""
    steps: dict[str, list] = {}
    for record in instance.all_logs(run.result.run_id):
        # A step's planning events come at the run's start: its timeline starts at STEP_START.
        if record.step_key in steps or _kind(record) == "STEP_START":
            steps.setdefault(record.step_key, []).append(record)
    in_steps = 0.0
    for step, events in steps.items():
        total = events[-1].timestamp - events[0].timestamp
        in_steps += total
        peak = run.peak_rss_between(events[0].timestamp, events[-1].timestamp)
        print(f"  step {step:<44} {total:8.1f} s   peak RSS {peak:,.0f} MiB")
        groups: list[tuple[str, int, float]] = []
        previous = events[0].timestamp
        for record in events:
            kind = _kind(record)
            name = _event_name(record.dagster_event) if record.dagster_event else ""
            label = _LABELS.get(kind, kind.lower()).format(repr(name))
            if groups and groups[-1][0] == label:
                _, count, seconds = groups[-1]
                groups[-1] = (label, count + 1, seconds + record.timestamp - previous)
            else:
                groups.append((label, 1, record.timestamp - previous))
            previous = record.timestamp
        for label, count, seconds in groups:
            if seconds >= 0.05 or label == "FAILURE":
                times = f"{count} x " if count > 1 else ""
                print(f"      {seconds:8.2f} s  {times}{label}")
    print(f"  outside steps (run setup, planning, teardown): {run.seconds - in_steps:.1f} s")


def busiest_window(times: list[float], window: float) -> int:
    """The most requests any sliding window of `window` seconds holds."""
    ordered = sorted(times)
    return max(
        (bisect.bisect_left(ordered, t + window, lo=i) - i for i, t in enumerate(ordered)),
        default=0,
    )


def calls_per_symbol(run: Run, symbols: list[str]) -> tuple[int, int]:
    """The fewest and most daily-series requests any symbol got in the run, with the sizes
    asked; the corporate actions' requests (SPLITS, DIVIDENDS) are counted apart."""
    series = [a for a in run.arrivals if a.function not in ACTION_FIELDS]
    counts = Counter(a.symbol for a in series)
    per_symbol = [counts.get(s, 0) for s in symbols]
    sizes = Counter(a.outputsize for a in series)
    strangers = set(counts) - set(symbols)
    print(f"  API calls: {len(series)} for {len(symbols)} symbols "
          f"({min(per_symbol)}-{max(per_symbol)} per symbol), outputsize {dict(sizes)}; "
          f"{len(run.arrivals) - len(series)} for corporate actions"
          + (f"; unexpected symbols {sorted(strangers)}" if strangers else ""))
    return min(per_symbol), max(per_symbol)


def check_outcomes(run: Run) -> None:
    evaluations = run.result.get_asset_check_evaluations()
    failed = sorted({f"{e.check_name} ({e.severity.value})" for e in evaluations if not e.passed})
    print(f"  asset checks: {len(evaluations)} evaluations, "
          f"{'all passed' if not failed else 'failed: ' + ', '.join(failed)}")


def materialized_metadata(run: Run, node: str, asset: str, key: str) -> object:
    for materialization in run.result.asset_materializations_for_node(node):
        if materialization.asset_key.to_user_string() == asset and key in materialization.metadata:
            return materialization.metadata[key].value
    return None


def materialized_total(run: Run, node: str, asset: str, key: str) -> int:
    """A figure summed over the asset's per-symbol materializations."""
    return sum(
        m.metadata[key].value
        for m in run.result.asset_materializations_for_node(node)
        if m.asset_key.to_user_string() == asset and key in m.metadata
    )


