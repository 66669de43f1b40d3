"""`stock-assets materialize`: the main job, every asset for every watchlist symbol.

Each symbol runs as its own in-process Dagster run, so one rejected symbol fails only its own
partition while the others land; the exit code is non-zero if any symbol failed. Runs are
recorded in the project's Dagster instance (`stock_assets.instance`), the one `dagster dev` and
`dagster asset materialize` use from the repository root, so each sees the others' runs.
"""

import argparse
import sys
import time

import dagster as dg

from stock_assets.alerts import first_error
from stock_assets.ingest.quota import EXHAUSTED_TAG
from stock_assets.instance import describe_storage, project_instance
from stock_assets.settings import Settings
from stock_assets.watchlist import validate_symbol

_QUIET = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


def _first_error(result: dg.ExecuteInProcessResult) -> str:
    failures = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    return first_error(failures)[0] or "run failed"


def _describe(value: object) -> str:
    return f"${{{value.env_var_name}}}" if isinstance(value, dg.EnvVar) else str(value)


def materialize(symbols: list[str]) -> int:
    """Run every asset for each symbol; print one line per symbol; return the exit code."""
    from stock_assets.definitions import defs, settings

    job = defs.resolve_job_def("refresh_all")
    source = (
        "offline sample (no ALPHAVANTAGE_API_KEY)"
        if settings.offline
        else _describe(settings.base_url)
    )
    print(f"source:   {source}")
    print(f"storage:  {_describe(settings.storage_url)}")
    print(f"database: {defs.resources['database'].describe()}")
    failed = []
    with project_instance() as instance:
        print(f"dagster:  {describe_storage()} ({len(instance.get_run_ids())} runs so far)")
        for number, symbol in enumerate(symbols, start=1):
            started = time.perf_counter()
            result = job.execute_in_process(
                partition_key=symbol, instance=instance, raise_on_error=False, run_config=_QUIET
            )
            seconds = time.perf_counter() - started
            stopped_by_quota = EXHAUSTED_TAG in instance.get_run_by_id(result.run_id).tags
            if result.success and stopped_by_quota:
                failed.append(symbol)
                print(
                    f"[{number}/{len(symbols)}] {symbol}: NOT FETCHED ({seconds:.1f}s, run "
                    f"{result.run_id}): the daily quota is used up; the quota sensor (dagster "
                    f"dev or the daemon) fetches it after midnight US/Eastern"
                )
            elif result.success:
                print(
                    f"[{number}/{len(symbols)}] {symbol}: ok ({seconds:.1f}s, run {result.run_id})"
                )
            else:
                failed.append(symbol)
                print(
                    f"[{number}/{len(symbols)}] {symbol}: FAILED ({seconds:.1f}s, run "
                    f"{result.run_id}): {_first_error(result)}"
                )
    print(
        f"{len(symbols) - len(failed)} of {len(symbols)} symbols materialized"
        + (f"; failed: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stock-assets", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("materialize", help="fetch, clean and load every watchlist symbol")
    run.add_argument("symbols", nargs="*", help="a subset of the watchlist (default: all of it)")
    args = parser.parse_args(argv)

    settings = Settings.from_env()
    try:
        symbols = [validate_symbol(s) for s in args.symbols] or settings.symbols
    except ValueError as error:
        parser.error(str(error))
    unknown = sorted(set(symbols) - set(settings.symbols))
    if unknown:
        parser.error(
            f"{', '.join(unknown)} not in the watchlist (STOCK_ASSETS_SYMBOLS): "
            f"{', '.join(settings.symbols)}"
        )
    return materialize(symbols)


if __name__ == "__main__":
    sys.exit(main())
