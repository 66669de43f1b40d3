"""`stock-assets materialize`: the main job, every asset for every watchlist symbol.

`stock-assets replay` rebuilds the cleaned prices and the table from every archived answer, with
no API request; `stock-assets answers SYMBOL` lists a symbol's archived answers.

Each symbol runs as its own in-process Dagster run, so one rejected symbol fails only its own
partition while the others land; the exit code is non-zero if any symbol failed. Runs are
recorded in the project's Dagster instance (`stock_assets.instance`), the one `dagster dev` and
`dagster asset materialize` use from the repository root, so each sees the others' runs.

On screen: where answers come from and go, then one line per symbol with the checks that warned
or failed. Log lines and tracebacks stay in each run's event log (the UI shows them), and on
screen too with ``--verbose``.
"""

import argparse
import logging
import sys
import time
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg

from stock_assets.alerts import first_error
from stock_assets.asset_keys import RAW_QUOTES_KEY
from stock_assets.check_phrases import describe_checks
from stock_assets.database.resource import DatabaseResource
from stock_assets.ingest.quota import EXHAUSTED_TAG
from stock_assets.instance import describe_storage, project_instance
from stock_assets.listing import plural
from stock_assets.pool_wait import saying_pool_waits
from stock_assets.stale_runs import free_stale_slots, process_tags
from stock_assets.storage.archived_answers import NoArchivedAnswers, archived_answers
from stock_assets.storage.history_store import archive_folder
from stock_assets.storage.objects import StorageError
from stock_assets.watchlist import validate_symbol


def _run_config(verbose: bool) -> dict:
    """Dagster's console logger: the run's INFO lines and tracebacks with --verbose, else off
    (the event log keeps them all either way)."""
    level = "INFO" if verbose else "CRITICAL"
    return {"loggers": {"console": {"config": {"log_level": level}}}}


def _quiet_python() -> None:
    """Keep Python's own warnings and log records (logging's last-resort handler prints WARNING
    and up, tracebacks included) off the screen; the runs' events are untouched."""
    warnings.simplefilter("ignore")
    logging.getLogger().addHandler(logging.NullHandler())


def _first_error(result: dg.ExecuteInProcessResult) -> str:
    failures = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    return first_error(failures)[0] or "run failed"


def report_removed_symbols(database: DatabaseResource, watchlist: list[str]) -> None:
    """Rows of symbols no longer in the watchlist stay in the table: say so, and how to remove
    them, rather than keep them silently."""
    with dg.build_resources({"database": database}) as resources:  # resolves its EnvVar
        removed = sorted(resources.database.stored_symbols() - set(watchlist))
    if removed:
        print(
            f"note: daily_prices still holds {', '.join(removed)}, no longer in the watchlist "
            f"(STOCK_ASSETS_SYMBOLS); delete their rows with SQL if you no longer want them: "
            f"DELETE FROM daily_prices WHERE symbol IN ({', '.join(repr(s) for s in removed)})"
        )


@dataclass(frozen=True)
class _Command:
    """What differs between the commands that run a job per symbol: the job, where answers
    come from, what a successful symbol's line adds, and the word for done."""

    job: str
    source: Callable[[dict], str]
    done: str
    detail: Callable[[dg.ExecuteInProcessResult], str] = lambda result: ""


def _archive_of(resources: dict) -> str:
    """Where replay reads, e.g. s3://bucket/prices/raw_quotes/_history/<SYMBOL>/."""
    root = resources["object_store"].describe().rstrip("/")
    return f"{root}/{archive_folder(RAW_QUOTES_KEY, '<SYMBOL>')}/"


def _replayed(result: dg.ExecuteInProcessResult) -> str:
    """': 2 archived answers replayed, 3270 days' from the cleaned history's materialization."""
    for event in result.asset_materializations_for_node("cleaned_daily_prices"):
        if event.asset_key.path == ["cleaned_daily_prices"]:
            meta = {k: v.value for k, v in event.metadata.items()}
            if "answers_replayed" in meta and "rows" in meta:
                return (f": {plural(meta['answers_replayed'], 'archived answer')} replayed, "
                        f"{meta['rows']} days")
    return ""


MATERIALIZE = _Command(
    "refresh_all", lambda resources: resources["alphavantage"].describe(), "materialized"
)
REPLAY = _Command(
    "replay",
    lambda resources: f"archived answers, {_archive_of(resources)} (no request to Alpha Vantage)",
    "rebuilt from the archive",
    _replayed,
)


def run_per_symbol(command: _Command, symbols: list[str], *, verbose: bool = False) -> int:
    """Run the command's job for each symbol; print one line per symbol; return the exit code."""
    from stock_assets.definitions import defs, settings

    job = defs.resolve_job_def(command.job)
    print(f"source:   {command.source(defs.resources)}")
    print(f"storage:  {defs.resources['object_store'].describe()}")
    print(f"database: {defs.resources['database'].describe()}")
    failed = []
    with project_instance() as instance:
        print(f"dagster:  {describe_storage()} ({len(instance.get_run_ids())} runs so far)")
        for freed in free_stale_slots(instance):
            print(f"note: {freed}")
        for number, symbol in enumerate(symbols, start=1):
            started = time.perf_counter()
            # A run config given here replaces the job's own (replay's `replay: true`): merge.
            run_config = {**job.get_run_config_for_partition_key(symbol), **_run_config(verbose)}
            run_id = str(uuid.uuid4())
            with saying_pool_waits(instance, run_id, lambda line: print(line, flush=True)):
                result = job.execute_in_process(
                    partition_key=symbol, instance=instance, raise_on_error=False,
                    run_config=run_config, tags=process_tags(), run_id=run_id,
                )
            seconds = time.perf_counter() - started
            head = f"[{number}/{len(symbols)}] {symbol}:"
            where = f"({seconds:.1f}s, run {result.run_id[:8]})"
            checks = "".join(f" — {c}" for c in describe_checks(
                result.get_asset_check_evaluations()
            ))
            stopped_by_quota = EXHAUSTED_TAG in instance.get_run_by_id(result.run_id).tags
            if result.success and stopped_by_quota:
                failed.append(symbol)
                print(
                    f"{head} NOT FETCHED {where}: the daily quota is used up; the quota sensor "
                    f"(dagster dev or the daemon) fetches it after midnight US/Eastern{checks}"
                )
            elif result.success:
                print(f"{head} ok {where}{command.detail(result)}{checks}")
            else:
                failed.append(symbol)
                print(f"{head} FAILED {where}: {_first_error(result)}{checks}")
    report_removed_symbols(defs.resources["database"], settings.symbols)
    hint = "" if verbose else " (tracebacks: the runs' logs, or --verbose)"
    print(
        f"{len(symbols) - len(failed)} of {len(symbols)} symbols {command.done}"
        + (f"; failed: {', '.join(failed)}{hint}" if failed else "")
    )
    return 1 if failed else 0


def materialize(symbols: list[str], *, verbose: bool = False) -> int:
    """Run every asset for each symbol; print one line per symbol; return the exit code."""
    return run_per_symbol(MATERIALIZE, symbols, verbose=verbose)


def replay(symbols: list[str], *, verbose: bool = False) -> int:
    """Rebuild each symbol's cleaned history and rows from all its archived answers."""
    return run_per_symbol(REPLAY, symbols, verbose=verbose)


def list_answers(symbol: str) -> int:
    """Print one line per archived answer of the symbol, oldest first; return the exit code."""
    from stock_assets.definitions import defs

    with dg.build_resources({"object_store": defs.resources["object_store"]}) as resources:
        store = resources.object_store.get_store()  # resolves its EnvVar
        try:
            for archived in archived_answers(store, symbol):
                print(archived.describe())
        except (NoArchivedAnswers, StorageError) as error:  # each names the symbol or object
            print(f"error: {error}", file=sys.stderr)
            return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stock-assets", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, helped in [
        ("materialize", "fetch, clean and load every watchlist symbol"),
        ("replay", "rebuild the cleaned prices and the table from every archived answer, "
                   "with no API request"),
    ]:
        run = commands.add_parser(name, help=helped)
        run.add_argument("symbols", nargs="*", help="a subset of the watchlist (default: all)")
        run.add_argument("-v", "--verbose", action="store_true", help="show the runs' log lines "
                         "and tracebacks (always kept in each run's log)")
    listing = commands.add_parser("answers", help="list a symbol's archived answers: fetch "
                                  "time, outputsize, bytes, sha256, key")
    listing.add_argument("symbol")
    args = parser.parse_args(argv)
    if not getattr(args, "verbose", False):
        _quiet_python()
    if args.command == "answers":
        try:
            return list_answers(validate_symbol(args.symbol))
        except ValueError as error:
            parser.error(str(error))
    try:  # the settings are read once, where the definitions are built
        from stock_assets.definitions import settings
    except ValueError as error:  # a setting refused, naming its variable
        parser.error(str(error))

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
    run_command = replay if args.command == "replay" else materialize
    return run_command(symbols, verbose=args.verbose)


if __name__ == "__main__":
    sys.exit(main())
