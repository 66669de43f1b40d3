"""The whole pipeline on 500 symbols, as single Dagster runs, against the limits of its parts.

Data: `--symbols` (default 500) distinct daily histories S0001... made by `SyntheticSample` from
the five bundled real ones (2000-2013, about 1.2 M rows for 500): re-tickered, prices scaled by a
factor of each symbol's own, volumes jittered, and the days moved forward session for session on
the NYSE calendar so that each history ends on the last session before today. That move is what
makes the refresh honest: the fetch plan asks `compact` only when the stored history reaches
the last 100 sessions, which the 2013 originals never would. The first load is served the
histories as of the session before that (one day short), the refresh the full ones, so the
refresh brings exactly one new day per symbol, as a daily refresh does.

Servers: the loopback Alpha Vantage (`SampleServer`, answers rendered ahead) and moto's S3
server, each in a child process (`bench.loopback`), so this process holds what the pipeline
holds; the local PostgreSQL (127.0.0.1:5432, trust auth), in a throwaway database dropped at the
end. The project is configured through its environment variables before `stock_assets.
definitions` is imported, with a fresh DAGSTER_HOME. Each run is `refresh_all` (or its
raw_quotes part) over the partition range of every symbol, as one run, by `dg.execute_job` with
the in-process executor: all steps in this process, as a run worker would do them
(`execute_in_process` would also keep every step's output in memory until the run ends):

(a) first load, all three assets, request pacing off, no server latency;
(b) the limits of its parts on the same data, measured in this process afterwards: `json.loads`
    of the 500 full answers (a) was served, Parquet writes of its 500 cleaned histories
    (`pa.Table.from_pandas` + `pq.write_table` to memory, as the IO manager encodes; the
    histories are read back from S3 after the refresh and its one new day dropped), and one
    raw binary COPY of all their rows (encoded beforehand by `bench.postgres_load`'s code)
    into an empty table shaped like `daily_prices`. Target: (a) ÷ (b) ≤ 2;
(c) the daily compact refresh, the same run right after (a). Target: (c) ÷ (a) ≤ 0.1;
(d) a raw_quotes-only refresh with ALPHAVANTAGE_REQUESTS_PER_MINUTE=600 (and per second 10,
    `--per-second`) and 200 ms server latency: the rate the server saw, against 600/min
    (target ≥ 0.95), and the sliding 60 s (and 1 s) windows over the limit (target 0).

A window over the limit is counted once per request that starts it (`windows_over_limit`).

Also: peak RSS of this process through the runs (target ≤ 1 GiB; per step from samples every
0.2 s) and of each child, API calls per symbol in each run from the server's log (target exactly
1), each step's timeline from the run's events (the time up to each event, consecutive events of
a kind summed), and with `--profile PREFIX` cProfiles of (a) and (c) (PREFIX.first_load.prof,
PREFIX.refresh.prof, each with a .txt of the top functions). The Dagster instance keeps its runs
and events in SQLite under DAGSTER_HOME, as the shipped dagster.yaml does, or with `--instance
postgres` in a throwaway Postgres database, as the Helm chart deploys it. Each figure is one
measurement (a run of 500 takes minutes): compare ratios from one run.

    .venv/bin/python -m bench.end_to_end                 # 500 symbols
    .venv/bin/python -m bench.end_to_end --symbols 20    # a quick look
    .venv/bin/python -m bench.end_to_end --instance postgres
    .venv/bin/python -m bench.end_to_end --symbols 50 --profile /tmp/e2e
"""

import argparse
import bisect
import cProfile
import importlib
import io
import json
import os
import pstats
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import boto3
import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from bench.loopback import ChildServer, MotoService, SampleService, peak_rss_mib, rss_mib
from bench.postgres_load import SERVER_URL, Bench, binary_copy_data, lineages
from bench.rate_limits import request_rate, windows_over_limit
from bench.synthetic_sample import SyntheticSample, last_session_before
from stock_assets.alphavantage.api import DAILY
from stock_assets.alphavantage.sample import render
from stock_assets.alphavantage.sample_server import Arrival
from stock_assets.asset_keys import RAW_QUOTES_KEY
from stock_assets.storage.formats import get_format
from stock_assets.trading_calendar import sessions_between
from stock_assets.warehouse.load import COLUMNS

TARGET_VS_PARTS = 2.0
TARGET_RSS_MIB = 1024
TARGET_REFRESH_VS_FIRST = 0.1
TARGET_RATE = 0.95
BUCKET, PREFIX = "bench", "bench"
RUN_CONFIG = {  # the definitions' executor is in-process already
    "loggers": {"console": {"config": {"log_level": "WARNING"}}},
}
RSS_SAMPLE_SECONDS = 0.2


def verdict(value: float, target: float, *, at_most: bool, unit: str = "") -> str:
    met = value <= target if at_most else value >= target
    return f"target {'≤' if at_most else '≥'} {target:g}{unit}: {'met' if met else 'MISSED'}"


@contextmanager
def throwaway_database(server_url: str) -> Iterator[str]:
    """A new database on the server, dropped (connections and all) on the way out."""
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"stock_assets_bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def refresh_all_job() -> dg.JobDefinition:
    """The job a deployment runs; imported only once the environment is configured."""
    return importlib.import_module("stock_assets.definitions").defs.resolve_job_def("refresh_all")


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


class EndToEnd:
    """The configured project, its servers and the runs measured on them."""

    def __init__(self, args: argparse.Namespace, work: Path, stack: ExitStack):
        self.args = args
        today = datetime.now(UTC).date()
        self.last_session = last_session_before(today)
        self.first_load_day = sessions_between(date(today.year - 1, 1, 1), self.last_session)[
            -2
        ].date()
        self.sample = SyntheticSample(args.symbols, seed=args.seed, last_session=self.last_session)
        self.symbols = self.sample.symbols
        started = time.perf_counter()
        self.api = ChildServer(SampleService, args.symbols, self.last_session, args.seed)
        stack.callback(self.api.stop)
        self.s3 = ChildServer(MotoService)
        stack.callback(self.s3.stop)
        self.database_url = stack.enter_context(throwaway_database(args.server))
        self.instance_url = None
        if args.instance == "postgres":
            url = sa.make_url(stack.enter_context(throwaway_database(args.server)))
            self.instance_url = url.set(drivername="postgresql+psycopg2").render_as_string(False)
        self.work = work
        self.configure()
        self.s3_client = boto3.client("s3", endpoint_url=self.s3.url, region_name="us-east-1")
        self.s3_client.create_bucket(Bucket=BUCKET)
        print(f"servers up in {time.perf_counter() - started:.1f} s: Alpha Vantage {self.api.url}, "
              f"S3 {self.s3.url}, database {sa.make_url(self.database_url).database}")
        definitions = importlib.import_module("stock_assets.definitions")
        self.settings = definitions.settings
        self.job = dg.reconstructable(refresh_all_job)
        self.instance = stack.enter_context(dg.DagsterInstance.get())
        self.engine = sa.create_engine(self.database_url)
        stack.callback(self.engine.dispose)

    def configure(self) -> None:
        """The project's whole configuration, as a deployment would set it."""
        home = self.work / "dagster_home"
        home.mkdir()
        storage = ""
        if self.instance_url is not None:
            storage = f"storage:\n  postgres:\n    postgres_url: {self.instance_url}\n"
        (home / "dagster.yaml").write_text(f"telemetry:\n  enabled: false\n{storage}")
        os.environ.update({
            "STOCK_ASSETS_SYMBOLS": ",".join(self.symbols),
            "ALPHAVANTAGE_API_KEY": "bench-key",
            "ALPHAVANTAGE_BASE_URL": self.api.url,
            "ALPHAVANTAGE_REQUESTS_PER_SECOND": "0",
            "ALPHAVANTAGE_REQUESTS_PER_MINUTE": "0",
            "ALPHAVANTAGE_REQUESTS_PER_DAY": "0",
            "STOCK_ASSETS_STORAGE_URL": f"s3://{BUCKET}/{PREFIX}",
            "STOCK_ASSETS_DATABASE_URL": self.database_url,
            "STOCK_ASSETS_DATA_DIR": str(self.work / "data"),
            "DAGSTER_HOME": str(home),
            "AWS_ENDPOINT_URL": self.s3.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",  # moto's
            "AWS_DEFAULT_REGION": "us-east-1",
        })
        if self.args.max_concurrent is not None:
            os.environ["ALPHAVANTAGE_MAX_CONCURRENT_REQUESTS"] = str(self.args.max_concurrent)

    def serve(self, as_of: date, outputsize: str, latency: float = 0.0) -> None:
        seconds = self.api.call("prepare", as_of, [outputsize])
        self.api.call("set_latency", latency)
        self.api.call("clear")
        print(f"  (answers as of {as_of}, {outputsize}, rendered ahead in {seconds:.1f} s; "
              f"server latency {latency * 1000:.0f} ms)")

    def run(self, name: str, *, only_raw_quotes: bool = False, profile: str | None = None) -> Run:
        options = {
            "instance": self.instance,
            "tags": {
                "dagster/asset_partition_range_start": self.symbols[0],
                "dagster/asset_partition_range_end": self.symbols[-1],
            },
            "run_config": RUN_CONFIG,
            "asset_selection": [RAW_QUOTES_KEY] if only_raw_quotes else None,
            "raise_on_error": True,
        }
        profiler = cProfile.Profile() if profile else None
        sampler = RssSampler()
        sampler.start()
        started = time.perf_counter()
        try:
            if profiler is not None:
                result = profiler.runcall(dg.execute_job, self.job, **options)
            else:
                result = dg.execute_job(self.job, **options)
        finally:
            seconds = time.perf_counter() - started
            samples = sampler.stop()
        if profiler is not None and profile is not None:
            write_profile(profiler, f"{profile}.prof")
        return Run(name, seconds, result, self.api.call("arrivals"), samples)

    def table_rows(self) -> int:
        with self.engine.connect() as connection:
            return connection.execute(sa.text("SELECT count(*) FROM daily_prices")).scalar_one()

    def served_rows(self, as_of: date) -> int:
        """Rows of all full histories as of that day."""
        self.sample.as_of = as_of
        return sum(len(self.sample(DAILY, s)["Time Series (Daily)"]) for s in self.symbols)

    def cleaned_histories(self) -> dict[str, pd.DataFrame]:
        """The stored cleaned histories, decoded as the IO manager decodes them."""
        parquet = get_format("parquet")
        histories = {}
        for symbol in self.symbols:
            key = f"{PREFIX}/cleaned_daily_prices/{symbol}.parquet"
            data = self.s3_client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
            histories[symbol] = parquet.decode(data, as_frame=True)
        return histories


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
    """The fewest and most requests any symbol got in the run, with the sizes asked."""
    counts = Counter(a.symbol for a in run.arrivals)
    per_symbol = [counts.get(s, 0) for s in symbols]
    sizes = Counter(a.outputsize for a in run.arrivals)
    strangers = set(counts) - set(symbols)
    print(f"  API calls: {len(run.arrivals)} for {len(symbols)} symbols "
          f"({min(per_symbol)}-{max(per_symbol)} per symbol), outputsize {dict(sizes)}"
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


def timed(function: Callable[[], object]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def component_limits(bench: EndToEnd) -> dict[str, float]:
    """(b): the parts' limits on (a)'s data, each summed over the 500 symbols."""
    bench.sample.as_of = bench.first_load_day
    seconds = dict.fromkeys(["json", "parquet", "copy"], 0.0)
    for symbol in bench.symbols:
        body = render(bench.sample(DAILY, symbol)).body
        seconds["json"] += timed(lambda body=body: json.loads(body))
    histories = {s: frame.iloc[:-1] for s, frame in bench.cleaned_histories().items()}
    assert all(str(f["trade_date"].iloc[-1])[:10] == str(bench.first_load_day)
               for f in histories.values()), "the stored histories do not end where expected"
    for frame in histories.values():
        seconds["parquet"] += timed(lambda frame=frame: pq.write_table(
            pa.Table.from_pandas(frame, preserve_index=False), io.BytesIO()
        ))
    data = binary_copy_data(histories, lineages(histories))
    baseline = Bench(bench.database_url, repeat=1)
    try:
        baseline.admin(
            "CREATE TABLE copy_baseline (LIKE daily_prices INCLUDING ALL)", "CHECKPOINT"
        )
        os.sync()
        seconds["copy"] = timed(lambda: baseline.copy(
            f"COPY copy_baseline ({', '.join(COLUMNS)}) FROM STDIN (FORMAT binary)", data
        ))
    finally:
        baseline.engine.dispose()
    rows = sum(map(len, histories.values()))
    print(f"  json.loads of {len(bench.symbols)} full answers:   {seconds['json']:7.2f} s")
    print(f"  Parquet write of the cleaned histories: {seconds['parquet']:7.2f} s")
    print(f"  raw binary COPY of {rows:,} rows ({len(data) / 1e6:,.0f} MB): "
          f"{seconds['copy']:7.2f} s ({rows / seconds['copy']:,.0f} rows/s)")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--per-minute", type=int, default=600, help="(d)'s configured limit")
    parser.add_argument("--per-second", type=int, default=10, help="(d)'s, 0 for none")
    parser.add_argument("--latency", type=float, default=0.2, help="(d)'s server latency, s")
    parser.add_argument("--max-concurrent", type=int, default=None,
                        help="ALPHAVANTAGE_MAX_CONCURRENT_REQUESTS (default: the package's)")
    parser.add_argument("--profile", metavar="PREFIX", help="cProfile (a) and (c) to files")
    parser.add_argument(
        "--instance", choices=["sqlite", "postgres"], default="sqlite",
        help="the Dagster instance's storage: SQLite under DAGSTER_HOME (the shipped dagster.yaml)"
        " or a Postgres database (as the Dagster Helm chart deploys it)",
    )
    parser.add_argument("--server", default=SERVER_URL, help="admin URL of the Postgres server")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up servers and databases

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="stock_assets_e2e_") as work, ExitStack() as stack:
        bench = EndToEnd(args, Path(work), stack)
        n = len(bench.symbols)
        print(f"{n} symbols {bench.symbols[0]}..{bench.symbols[-1]}, histories ending "
              f"{bench.last_session}; Dagster instance on {args.instance}; max concurrent requests "
              f"{os.environ.get('ALPHAVANTAGE_MAX_CONCURRENT_REQUESTS', 'package default')}; "
              f"this process {peak_rss_mib():,.0f} MiB before the runs")

        print(f"\n(a) first load: refresh_all over {n} partitions as one run, pacing off")
        bench.serve(bench.first_load_day, "full")
        first = bench.run("first load", profile=args.profile and f"{args.profile}.first_load")
        rss_first = peak_rss_mib()
        print(f"  RSS now {rss_mib():,.0f} MiB, peak {rss_first:,.0f} MiB")
        step_timelines(bench.instance, first)
        check_outcomes(first)
        expected = bench.served_rows(bench.first_load_day)
        quarantined = materialized_total(
            first, "cleaned_daily_prices", "quarantined_price_rows", "rows_quarantined"
        )
        print(f"  rows: {bench.table_rows():,} in the table, {expected:,} served; "
              f"quarantined {quarantined}")
        calls = [calls_per_symbol(first, bench.symbols)]
        print(f"  (a) {first.seconds:.1f} s; peak RSS so far {rss_first:,.0f} MiB")

        print(f"\n(c) daily refresh: the same run, answers a session later ({bench.last_session})")
        bench.serve(bench.last_session, "compact")
        refresh = bench.run("refresh", profile=args.profile and f"{args.profile}.refresh")
        step_timelines(bench.instance, refresh)
        check_outcomes(refresh)
        inserted = materialized_metadata(
            refresh, "daily_prices_table", "daily_prices_table", "rows_inserted"
        )
        print(f"  rows: {bench.table_rows():,} in the table, {inserted} inserted")
        calls.append(calls_per_symbol(refresh, bench.symbols))
        print(f"  RSS now {rss_mib():,.0f} MiB, peak {peak_rss_mib():,.0f} MiB")
        print(f"  (c) {refresh.seconds:.1f} s")

        limits = f"{args.per_minute}/min" + (f", {args.per_second}/s" if args.per_second else "")
        print(f"\n(d) raw_quotes refresh at {limits}, {args.latency * 1000:.0f} ms server latency")
        os.environ["ALPHAVANTAGE_REQUESTS_PER_MINUTE"] = str(args.per_minute)
        os.environ["ALPHAVANTAGE_REQUESTS_PER_SECOND"] = str(args.per_second)
        bench.serve(bench.last_session, "compact", latency=args.latency)
        paced = bench.run("paced", only_raw_quotes=True)
        step_timelines(bench.instance, paced)
        calls.append(calls_per_symbol(paced, bench.symbols))
        times = [a.monotonic for a in paced.arrivals]
        configured = min(args.per_minute, args.per_second * 60 or args.per_minute)
        achieved = request_rate(times, per=60.0)
        violations = windows_over_limit(times, 60.0, args.per_minute)
        violations_1s = windows_over_limit(times, 1.0, args.per_second) if args.per_second else 0
        print(f"  {len(times)} requests over {max(times) - min(times):.1f} s: "
              f"{achieved:,.0f}/min achieved; busiest windows: "
              f"{busiest_window(times, 60.0)} in 60 s, {busiest_window(times, 1.0)} in 1 s")
        print(f"  RSS now {rss_mib():,.0f} MiB, peak {peak_rss_mib():,.0f} MiB")
        print(f"  (d) {paced.seconds:.1f} s")
        rss_runs = peak_rss_mib()

        print("\n(b) the parts' limits on (a)'s data, in this process")
        parts = component_limits(bench)
        baseline = sum(parts.values())
        print(f"  (b) {baseline:.2f} s")
        for server in (bench.api, bench.s3):
            server.stop()

    whole = time.perf_counter() - started
    print(f"\nsummary ({n} symbols, {expected:,} rows; whole bench {whole:.0f} s)")
    ratio = first.seconds / baseline
    print(f"  (a) first load {first.seconds:.1f} s ÷ (b) parts {baseline:.1f} s = {ratio:6.2f}   "
          f"{verdict(ratio, TARGET_VS_PARTS, at_most=True)}")
    print(f"  peak RSS of this process: {rss_first:,.0f} MiB through (a), {rss_runs:,.0f} MiB "
          f"through (d)   {verdict(rss_runs, TARGET_RSS_MIB, at_most=True, unit=' MiB')} "
          f"({peak_rss_mib():,.0f} MiB with the bench's own (b))")
    print(f"  peak RSS of the children: Alpha Vantage server {bench.api.peak_rss_mib:,.0f} MiB, "
          f"moto S3 {bench.s3.peak_rss_mib:,.0f} MiB")
    ratio = refresh.seconds / first.seconds
    print(f"  (c) refresh {refresh.seconds:.1f} s ÷ (a) = {ratio:6.3f}   "
          f"{verdict(ratio, TARGET_REFRESH_VS_FIRST, at_most=True)}")
    exact = all(low == high == 1 for low, high in calls)
    print("  API calls per symbol per run, (a) (c) (d): "
          + ", ".join(f"{low}-{high}" if low != high else str(low) for low, high in calls)
          + f"   target exactly 1: {'met' if exact else 'MISSED'}")
    ratio = achieved / configured
    print(f"  (d) achieved {achieved:,.0f}/min ÷ configured {configured}/min = {ratio:5.2f}   "
          f"{verdict(ratio, TARGET_RATE, at_most=False)}")
    print(f"  (d) windows over the limit at the server: {violations} of 60 s, {violations_1s} "
          f"of 1 s   target 0: {'met' if violations + violations_1s == 0 else 'MISSED'}")


if __name__ == "__main__":
    main()
