"""What Dagster alone costs a run of N symbols, with no work in it: the floor under any pipeline
shaped like ours, and the shape that would lift it.

Three jobs of do-nothing assets with the project's shape (raw → cleaned + quarantine → table,
eight checks on the cleaned prices and one on the table), an in-memory IO manager, run as one
single-run backfill by `dg.execute_job`:

- partitioned: one partition per symbol, each check result per partition (the project's
  `check_results_by_partition`), as the project runs today (4 planned + 4 materializations +
  9 check evaluations per symbol);
- partitioned, checks per run: one partition per symbol, the checks' verdicts for every symbol
  in one result per check;
- batch: no partitions; each asset materialized once per run, its per-symbol figures a table in
  that materialization's metadata (the baseline: what a run costs Dagster at all).

Each on the instance the project ships (SQLite under DAGSTER_HOME) and on a Postgres instance
(as the Helm chart deploys it), with DAGSTER_EVENT_BATCH_SIZE unset and set to 100 (Dagster's
batch writer: dagster-postgres stores a batch in one statement, SQLite one event at a time).

    .venv/bin/python -m bench.dagster_floor                # 500 symbols
    .venv/bin/python -m bench.dagster_floor --symbols 100
"""

import argparse
import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from bench.pipeline_harness import throwaway_database
from bench.postgres_load import SERVER_URL
from stock_assets.check_results import check_results_by_partition

CHECK_NAMES = [f"rule_{n}" for n in range(8)]
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def partitioned_job(symbols: list[str], *, checks_per_partition: bool) -> dg.JobDefinition:
    """The project's shape over one partition per symbol."""
    partitions = dg.StaticPartitionsDefinition(symbols)
    single_run = dg.BackfillPolicy.single_run()

    @dg.asset(partitions_def=partitions, backfill_policy=single_run)
    def raw(context: dg.AssetExecutionContext):
        return {s: s for s in context.partition_keys}

    @dg.multi_asset(
        outs={"cleaned": dg.AssetOut(), "quarantine": dg.AssetOut()},
        ins={"raw": dg.AssetIn()},
        partitions_def=partitions,
        backfill_policy=single_run,
        check_specs=[dg.AssetCheckSpec(name, asset="cleaned") for name in CHECK_NAMES],
    )
    def cleaned(context: dg.AssetExecutionContext, raw):
        yield dg.Output(dict(raw), output_name="cleaned")
        yield dg.Output(dict(raw), output_name="quarantine")
        results = [dg.AssetCheckResult(asset_key="cleaned", check_name=name, passed=True)
                   for name in CHECK_NAMES]
        if checks_per_partition:
            yield from check_results_by_partition(context, dict.fromkeys(raw, results))
        else:
            yield from results

    @dg.asset(partitions_def=partitions, backfill_policy=single_run,
              check_specs=[dg.AssetCheckSpec("matches", asset="table")])
    def table(context: dg.AssetExecutionContext, cleaned):
        yield dg.Output(dict(cleaned))
        result = dg.AssetCheckResult(asset_key="table", check_name="matches", passed=True)
        if checks_per_partition:
            yield from check_results_by_partition(context, {key: [result] for key in cleaned})
        else:
            yield result

    return dg.Definitions(
        assets=[raw, cleaned, table],
        jobs=[dg.define_asset_job("run", partitions_def=partitions)],
        resources={"io_manager": dg.mem_io_manager},
        executor=dg.in_process_executor,
    ).resolve_job_def("run")


def batch_job(symbols: list[str]) -> dg.JobDefinition:
    """The same shape, unpartitioned: one materialization per asset per run, carrying a table
    of the symbols' figures."""
    figures = dg.MetadataValue.table(
        [dg.TableRecord({"symbol": s, "rows": 2430, "quarantined": 0}) for s in symbols],
        schema=dg.TableSchema(columns=[dg.TableColumn("symbol"), dg.TableColumn("rows", "int"),
                                       dg.TableColumn("quarantined", "int")]),
    )

    @dg.asset
    def raw():
        return dg.Output(symbols, metadata={"symbols": figures})

    @dg.multi_asset(
        outs={"cleaned": dg.AssetOut(), "quarantine": dg.AssetOut()},
        check_specs=[dg.AssetCheckSpec(name, asset="cleaned") for name in CHECK_NAMES],
    )
    def cleaned(raw):
        yield dg.Output(raw, output_name="cleaned", metadata={"symbols": figures})
        yield dg.Output(raw, output_name="quarantine", metadata={"symbols": figures})
        for name in CHECK_NAMES:
            yield dg.AssetCheckResult(asset_key="cleaned", check_name=name, passed=True)

    @dg.asset(check_specs=[dg.AssetCheckSpec("matches", asset="table")])
    def table(cleaned):
        yield dg.Output(cleaned, metadata={"symbols": figures})
        yield dg.AssetCheckResult(check_name="matches", passed=True)

    return dg.Definitions(
        assets=[raw, cleaned, table],
        jobs=[dg.define_asset_job("run")],
        resources={"io_manager": dg.mem_io_manager},
        executor=dg.in_process_executor,
    ).resolve_job_def("run")


@contextmanager
def instance(kind: str, server: str):
    """A fresh Dagster instance: SQLite under a temporary DAGSTER_HOME, or Postgres."""
    with tempfile.TemporaryDirectory(prefix="dagster_floor_") as home:
        if kind == "sqlite":
            yield dg.DagsterInstance.from_config(home)
            return
        with throwaway_database(server) as url:
            url = url.replace("postgresql+psycopg://", "postgresql+psycopg2://")  # dagster-postgres
            Path(home, "dagster.yaml").write_text(
                f"storage:\n  postgres:\n    postgres_url: {url}\ntelemetry:\n  enabled: false\n"
            )
            with dg.DagsterInstance.from_config(home) as pg_instance:
                yield pg_instance


def timed_run(job: dg.JobDefinition, kind: str, server: str, symbols: list[str]) -> tuple:
    """Seconds of one run of `job` over every symbol, and the events it stored."""
    partitioned = job.partitions_def is not None
    tags = ({"dagster/asset_partition_range_start": symbols[0],
             "dagster/asset_partition_range_end": symbols[-1]} if partitioned else {})
    with instance(kind, server) as dagster_instance:
        started = time.perf_counter()
        result = job.execute_in_process(instance=dagster_instance, tags=tags, run_config=QUIET)
        seconds = time.perf_counter() - started
        assert result.success
        events = len(dagster_instance.all_logs(result.run_id))
    return seconds, events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--server", default=SERVER_URL, help="admin URL of the Postgres server")
    args = parser.parse_args()
    symbols = [f"S{n:04d}" for n in range(1, args.symbols + 1)]
    jobs = {
        "partitioned, checks per partition (today)":
            partitioned_job(symbols, checks_per_partition=True),
        "partitioned, checks per run": partitioned_job(symbols, checks_per_partition=False),
        "batch (one materialization per asset)": batch_job(symbols),
    }
    print(f"{args.symbols} symbols; each figure one run of do-nothing assets (ms per symbol)")
    for kind in ("sqlite", "postgres"):
        for batch_size in ("0", "100"):
            os.environ["DAGSTER_EVENT_BATCH_SIZE"] = batch_size
            print(f"\n{kind} instance, DAGSTER_EVENT_BATCH_SIZE={batch_size}")
            figures = {name: timed_run(job, kind, args.server, symbols)
                       for name, job in jobs.items()}
            baseline = figures["batch (one materialization per asset)"][0]
            for name, (seconds, events) in figures.items():
                print(f"  {name:45s} {seconds:7.2f} s  {seconds / len(symbols) * 1000:6.1f} "
                      f"ms/symbol  {events:6d} events  {seconds / baseline:6.1f}x batch")


if __name__ == "__main__":
    main()
