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
    raw binary COPY of all their rows (encoded beforehand by `bench.price_data`)
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
import io
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from bench.figures import verdict
from bench.loopback import peak_rss_mib, rss_mib
from bench.pipeline_harness import EndToEnd
from bench.postgres_load import SERVER_URL, Bench
from bench.price_data import binary_copy_data, lineages
from bench.rate_limits import request_rate, windows_over_limit
from bench.run_report import (
    busiest_window,
    calls_per_symbol,
    check_outcomes,
    materialized_metadata,
    materialized_total,
    step_timelines,
)
from stock_assets.alphavantage.api import DAILY
from stock_assets.alphavantage.sample import render
from stock_assets.warehouse.load import COLUMNS

TARGET_VS_PARTS = 2.0
TARGET_RSS_MIB = 1024
TARGET_REFRESH_VS_FIRST = 0.1
TARGET_RATE = 0.95


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


def parse_args() -> argparse.Namespace:
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
    return parser.parse_args()


@dataclass
class Figures:
    """What the summary compares with the targets."""

    symbols: int = 0
    rows: int = 0
    first: float = 0.0
    refresh: float = 0.0
    parts: float = 0.0
    rss_first: float = 0.0
    rss_runs: float = 0.0
    calls: list[tuple[int, int]] = field(default_factory=list)
    achieved: float = 0.0
    configured: int = 0
    violations: int = 0
    violations_1s: int = 0
    api_rss: float = 0.0
    s3_rss: float = 0.0


def first_load(bench: EndToEnd, args: argparse.Namespace, figures: Figures) -> None:
    """(a): every asset over every partition as one run, pacing off."""
    print(f"\n(a) first load: refresh_all over {figures.symbols} partitions as one run, "
          f"pacing off")
    bench.serve(bench.first_load_day, "full")
    first = bench.run("first load", profile=args.profile and f"{args.profile}.first_load")
    figures.first, figures.rss_first = first.seconds, peak_rss_mib()
    print(f"  RSS now {rss_mib():,.0f} MiB, peak {figures.rss_first:,.0f} MiB")
    step_timelines(bench.instance, first)
    check_outcomes(first)
    figures.rows = bench.served_rows(bench.first_load_day)
    quarantined = materialized_total(
        first, "cleaned_daily_prices", "quarantined_price_rows", "rows_quarantined"
    )
    print(f"  rows: {bench.table_rows():,} in the table, {figures.rows:,} served; "
          f"quarantined {quarantined}")
    figures.calls.append(calls_per_symbol(first, bench.symbols))
    print(f"  (a) {first.seconds:.1f} s; peak RSS so far {figures.rss_first:,.0f} MiB")


def daily_refresh(bench: EndToEnd, args: argparse.Namespace, figures: Figures) -> None:
    """(c): the same run right after, the answers one session later."""
    print(f"\n(c) daily refresh: the same run, answers a session later ({bench.last_session})")
    bench.serve(bench.last_session, "compact")
    refresh = bench.run("refresh", profile=args.profile and f"{args.profile}.refresh")
    figures.refresh = refresh.seconds
    step_timelines(bench.instance, refresh)
    check_outcomes(refresh)
    inserted = materialized_metadata(
        refresh, "daily_prices_table", "daily_prices_table", "rows_inserted"
    )
    print(f"  rows: {bench.table_rows():,} in the table, {inserted} inserted")
    figures.calls.append(calls_per_symbol(refresh, bench.symbols))
    print(f"  RSS now {rss_mib():,.0f} MiB, peak {peak_rss_mib():,.0f} MiB")
    print(f"  (c) {refresh.seconds:.1f} s")


def paced_refresh(bench: EndToEnd, args: argparse.Namespace, figures: Figures) -> None:
    """(d): raw quotes only, at the configured limits, with server latency."""
    limits = f"{args.per_minute}/min" + (f", {args.per_second}/s" if args.per_second else "")
    print(f"\n(d) raw_quotes refresh at {limits}, {args.latency * 1000:.0f} ms server latency")
    os.environ["ALPHAVANTAGE_REQUESTS_PER_MINUTE"] = str(args.per_minute)
    os.environ["ALPHAVANTAGE_REQUESTS_PER_SECOND"] = str(args.per_second)
    bench.serve(bench.last_session, "compact", latency=args.latency)
    paced = bench.run("paced", only_raw_quotes=True)
    step_timelines(bench.instance, paced)
    figures.calls.append(calls_per_symbol(paced, bench.symbols))
    times = [a.monotonic for a in paced.arrivals]
    figures.configured = min(args.per_minute, args.per_second * 60 or args.per_minute)
    figures.achieved = request_rate(times, per=60.0)
    figures.violations = windows_over_limit(times, 60.0, args.per_minute)
    figures.violations_1s = (
        windows_over_limit(times, 1.0, args.per_second) if args.per_second else 0
    )
    print(f"  {len(times)} requests over {max(times) - min(times):.1f} s: "
          f"{figures.achieved:,.0f}/min achieved; busiest windows: "
          f"{busiest_window(times, 60.0)} in 60 s, {busiest_window(times, 1.0)} in 1 s")
    print(f"  RSS now {rss_mib():,.0f} MiB, peak {peak_rss_mib():,.0f} MiB")
    print(f"  (d) {paced.seconds:.1f} s")
    figures.rss_runs = peak_rss_mib()


def summarize(figures: Figures, whole: float) -> None:
    print(f"\nsummary ({figures.symbols} symbols, {figures.rows:,} rows; whole bench "
          f"{whole:.0f} s)")
    ratio = figures.first / figures.parts
    print(f"  (a) first load {figures.first:.1f} s ÷ (b) parts {figures.parts:.1f} s = "
          f"{ratio:6.2f}   {verdict(ratio, TARGET_VS_PARTS, at_most=True)}")
    print(f"  peak RSS of this process: {figures.rss_first:,.0f} MiB through (a), "
          f"{figures.rss_runs:,.0f} MiB through (d)   "
          f"{verdict(figures.rss_runs, TARGET_RSS_MIB, at_most=True, unit=' MiB')} "
          f"({peak_rss_mib():,.0f} MiB with the bench's own (b))")
    print(f"  peak RSS of the children: Alpha Vantage server {figures.api_rss:,.0f} MiB, "
          f"moto S3 {figures.s3_rss:,.0f} MiB")
    ratio = figures.refresh / figures.first
    print(f"  (c) refresh {figures.refresh:.1f} s ÷ (a) = {ratio:6.3f}   "
          f"{verdict(ratio, TARGET_REFRESH_VS_FIRST, at_most=True)}")
    exact = all(low == high == 1 for low, high in figures.calls)
    print("  API calls per symbol per run, (a) (c) (d): "
          + ", ".join(f"{low}-{high}" if low != high else str(low) for low, high in figures.calls)
          + f"   target exactly 1: {'met' if exact else 'MISSED'}")
    ratio = figures.achieved / figures.configured
    print(f"  (d) achieved {figures.achieved:,.0f}/min ÷ configured {figures.configured}/min = "
          f"{ratio:5.2f}   {verdict(ratio, TARGET_RATE, at_most=False)}")
    over = figures.violations + figures.violations_1s
    print(f"  (d) windows over the limit at the server: {figures.violations} of 60 s, "
          f"{figures.violations_1s} of 1 s   target 0: {'met' if over == 0 else 'MISSED'}")


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up servers and databases
    started = time.perf_counter()
    figures = Figures()
    with tempfile.TemporaryDirectory(prefix="stock_assets_e2e_") as work, ExitStack() as stack:
        bench = EndToEnd(args, Path(work), stack)
        figures.symbols = len(bench.symbols)
        concurrent = os.environ.get("ALPHAVANTAGE_MAX_CONCURRENT_REQUESTS", "package default")
        print(f"{figures.symbols} symbols {bench.symbols[0]}..{bench.symbols[-1]}, histories "
              f"ending {bench.last_session}; Dagster instance on {args.instance}; max concurrent "
              f"requests {concurrent}; this process {peak_rss_mib():,.0f} MiB before the runs")
        first_load(bench, args, figures)
        daily_refresh(bench, args, figures)
        paced_refresh(bench, args, figures)
        print("\n(b) the parts' limits on (a)'s data, in this process")
        figures.parts = sum(component_limits(bench).values())
        print(f"  (b) {figures.parts:.2f} s")
        for server in (bench.api, bench.s3):
            server.stop()
        figures.api_rss, figures.s3_rss = bench.api.peak_rss_mib, bench.s3.peak_rss_mib
    summarize(figures, time.perf_counter() - started)


if __name__ == "__main__":
    main()
