"""`python -m bench.reliability [--short] [--seed N]`: the pipeline under faults, kills and
hostile input, each judged against what must hold, as three tables and one last line.

- faults (`bench.fault_campaign`): real runs of the main command through a TCP proxy that resets,
  stalls, drips, truncates and throttles Alpha Vantage and S3, and a PostgreSQL backend killed
  mid-load; then every object, the table and the archive are checked;
- kills (`bench.kill_campaign`): seeded SIGKILLs at every phase of a run on both backends, each
  followed by the integrity checks and a re-run that must converge to a clean run's bytes and rows;
- hostile input (`bench.hostile_corpus`): the corpus of `stock_assets_tests.hostile`, served by an
  independent loopback Alpha Vantage, each case's outcome against the one it states.

`--short` runs a few rows of each, the three parts side by side (the suite runs it); the full
bench runs one part after the other. The exit code is 1 if anything was not as expected. Unlike
the speed benches there is no ratio here: the figure is the count of surprises, and its baseline
is zero.
"""

import argparse
import importlib
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.reliability_table import Table

PARTS = {"faults": "bench.fault_campaign", "kills": "bench.kill_campaign",
         "hostile": "bench.hostile_corpus"}


def run_part(name: str, short: bool, seed: int, work: Path) -> tuple[Table, float]:
    """One part's table, and the seconds it took."""
    module = importlib.import_module(PARTS[name])
    folder = work / name
    folder.mkdir()
    started = time.perf_counter()
    table = module.run(short=short, seed=seed, work=folder)
    return table, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="a few rows of each part")
    parser.add_argument("--seed", type=int, default=16, help="the kill campaign's plan")
    parser.add_argument("--only", choices=sorted(PARTS), action="append",
                        help="run only this part (repeatable)")
    args = parser.parse_args(argv)
    names = [name for name in PARTS if not args.only or name in args.only]
    started = time.perf_counter()
    with (tempfile.TemporaryDirectory(prefix="stock-assets-reliability-") as work,
          ThreadPoolExecutor(len(names) if args.short else 1) as pool):
        runs = {name: pool.submit(run_part, name, args.short, args.seed, Path(work))
                for name in names}
        tables = {}
        for name, future in runs.items():
            tables[name], seconds = future.result()
            print(f"{tables[name].render()}\n({name}: {seconds:.1f} s)\n", flush=True)
    print(f"({time.perf_counter() - started:.1f} s in all)")
    surprises = sum(len(table.surprises) for table in tables.values())
    print("reliability: " + "; ".join(f"{name}: {t.summary}" for name, t in tables.items())
          + f"; {surprises} not as expected")
    return 1 if surprises else 0


if __name__ == "__main__":
    sys.exit(main())
