"""stock_assets against the tools a user would pick instead, on the same data, servers and database.

The contenders, one after another in this process, on `bench.end_to_end`'s setup (read its
docstring): N synthetic histories ending on the last session before today, served by the one
loopback Alpha Vantage server (child process), moto's S3 server (child process) and the local
PostgreSQL server, each contender in a throwaway database of its own:

- stock_assets: `refresh_all` over every symbol as one Dagster run (`bench.pipeline_harness`);
- the hand-written script (`bench.hand_script`): requests → pandas → Parquet `put_object` to the
  same S3 server → COPY; its refresh writes one delta object;
- dlt 1.x (`bench.dlt_peer`), `merge` on (symbol, trade_date), rows as Python dicts, then as one
  Arrow table per symbol. dlt writes to its Postgres destination only, no S3 objects.

First load: each symbol's full answer as of the session before the last (one request each).
Daily refresh: each symbol's compact answer as of the last session, so exactly one new day a
symbol; stock_assets's fetch plan asks `compact` and so do the peers. Every contender's
requests (count, output size) and table rows are checked against what the server holds.

The summary is the README's table, each peer's time also as a ratio ours ÷ theirs, and a last
line for scripts: `peers: first <r>x dlt-arrow, <r>x hand; refresh <r>x dlt-arrow, <r>x own-first`
(own-first: our refresh ÷ our first load). One measurement each: compare ratios from one run.

    .venv/bin/python -m bench.peers --symbols 100
"""

import argparse
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from bench import dlt_peer, hand_script
from bench.pipeline_harness import BUCKET, EndToEnd, throwaway_database
from bench.postgres_load import SERVER_URL
from bench.storage_floor import CALLS_PER_SYMBOL, refresh_floor
from stock_assets.alphavantage.api import ACTION_FIELDS

CONTENDERS = {
    "stock_assets": "stock_assets (refresh_all, one run)",
    "hand": "hand-written script (requests → pandas → Parquet put_object → COPY)",
    "dlt-dicts": f"dlt {dlt_peer.dlt.__version__} merge on (symbol, trade_date), Python dicts",
    "dlt-arrow": f"dlt {dlt_peer.dlt.__version__} merge on (symbol, trade_date), Arrow tables",
}
ROW_QUERIES = {
    "stock_assets": "SELECT count(*) FROM daily_prices",
    "hand": "SELECT count(*) FROM prices",
    "dlt-dicts": f"SELECT count(*) FROM {dlt_peer.DATASET}.{dlt_peer.TABLE}",
    "dlt-arrow": f"SELECT count(*) FROM {dlt_peer.DATASET}.{dlt_peer.TABLE}",
}
PHASES = {"first": "full", "refresh": "compact"}


@dataclass
class Timing:
    """One contender's figures: seconds and table rows after each phase."""

    seconds: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)


class Peers:
    """The contenders on one `EndToEnd`'s servers, each with a database of its own."""

    def __init__(self, bench: EndToEnd, args: argparse.Namespace, work: Path, stack: ExitStack):
        self.bench = bench
        self.work = work
        self.urls = {"stock_assets": bench.database_url} | {
            name: stack.enter_context(throwaway_database(args.server)) for name in CONTENDERS
            if name != "stock_assets"
        }
        self.timings = {name: Timing() for name in CONTENDERS}
        self.formats: dict[str, list[str]] = {}  # the files each dlt run loaded

    def dsn(self, name: str) -> str:
        """The libpq URL of a contender's database, for psycopg2 and dlt."""
        url = sa.make_url(self.urls[name]).set(drivername="postgresql")
        return url.render_as_string(hide_password=False)

    def runner(self, name: str, phase: str) -> Callable[[], object]:
        """What one contender does in one phase, ready to be timed."""
        api, outputsize, symbols = self.bench.api.url, PHASES[phase], self.bench.symbols
        if name == "stock_assets":
            return lambda: self.bench.run(phase)
        if name == "hand":
            step = hand_script.first_load if phase == "first" else hand_script.refresh
            return lambda: step(api, symbols, self.dsn(name), self.bench.s3.url, BUCKET)
        # dlt insists on a password; the server's trust auth ignores it.
        dsn = sa.make_url(self.dsn(name)).set(password="unused")  # noqa: S106
        dsn = dsn.render_as_string(hide_password=False)
        flavor = name.removeprefix("dlt-")
        return lambda: self.formats.update({name: dlt_peer.run(
            flavor, api, symbols, outputsize, dsn, self.work / "dlt"
        )})

    def table_rows(self, name: str) -> int:
        engine = sa.create_engine(self.urls[name])
        try:
            with engine.connect() as connection:
                return connection.execute(sa.text(ROW_QUERIES[name])).scalar_one()
        finally:
            engine.dispose()

    def requests_seen(self, phase: str) -> str:
        """The server's requests since the last look, checked: one daily series per symbol, the
        right size; stock_assets also asks each symbol's corporate actions on a first load."""
        arrivals = self.bench.api.call("arrivals")
        self.bench.api.call("clear")
        series = [a for a in arrivals if a.function not in ACTION_FIELDS]
        per_symbol = Counter(a.symbol for a in series)
        sizes = Counter(a.outputsize for a in series)
        exact = set(per_symbol) == set(self.bench.symbols) and set(per_symbol.values()) == {1}
        if not exact or set(sizes) != {PHASES[phase]}:
            raise AssertionError(f"{phase}: requests {dict(sizes)}, per symbol {per_symbol}")
        actions = len(arrivals) - len(series)
        return f"{len(series)} {PHASES[phase]}, 1 per symbol" + (
            f", and {actions} for corporate actions" if actions else "")

    def phase(self, phase: str, served: int) -> None:
        """Every contender's run of this phase, one after another."""
        as_of = self.bench.first_load_day if phase == "first" else self.bench.last_session
        print(f"\n{phase}: answers as of {as_of} ({PHASES[phase]}), {served:,} rows in the "
              f"full histories")
        self.bench.serve(as_of, PHASES[phase])
        for name in CONTENDERS:
            run = self.runner(name, phase)
            started = time.perf_counter()
            run()
            seconds = time.perf_counter() - started
            timing = self.timings[name]
            timing.seconds[phase], timing.rows[phase] = seconds, self.table_rows(name)
            files = f"; dlt loaded {', '.join(self.formats[name])}" if name in self.formats else ""
            print(f"  {name:<13} {seconds:8.2f} s   {timing.rows[phase]:>10,} rows in its "
                  f"table   requests {self.requests_seen(phase)}{files}")


def ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}x" if ours / theirs >= 0.1 else f"{ours / theirs:.3f}x"


def summarize(timings: dict[str, Timing], served: dict[str, int], floor: float) -> None:
    """The README's table, row counts for scripts, the object store's floor, and the last
    line."""
    ours = timings["stock_assets"].seconds
    print("\n| contender | first load | daily refresh (1 new day each) | refresh ÷ first |")
    print("|---|---:|---:|---:|")
    for name, label in CONTENDERS.items():
        seconds = timings[name].seconds
        cells = [f"{seconds[phase]:.2f} s" for phase in PHASES]
        if name != "stock_assets":
            cells = [f"{cell} ({ratio(ours[phase], seconds[phase])})"
                     for cell, phase in zip(cells, PHASES, strict=True)]
        print(f"| {label} | {cells[0]} | {cells[1]} | "
              f"{seconds['refresh'] / seconds['first']:.3f} |")
    print("\n(Nx) is stock_assets's time ÷ that contender's: above 1, stock_assets is slower. dlt "
          "loads into Postgres only (no S3 objects) and merges each compact answer whole.")
    for phase in PHASES:
        counts = " ".join(f"{name}={timings[name].rows[phase]}" for name in CONTENDERS)
        print(f"rows {phase}: {counts} served={served[phase]}")
    arrow, hand = timings["dlt-arrow"].seconds, timings["hand"].seconds
    print(f"storage floor: {floor:.2f} s for the refresh's {CALLS_PER_SYMBOL} object-store calls "
          f"per symbol alone (bench.storage_floor), {ratio(floor, arrow['refresh'])} dlt-arrow's "
          f"whole refresh")
    print(f"peers: first {ratio(ours['first'], arrow['first'])} dlt-arrow, "
          f"{ratio(ours['first'], hand['first'])} hand; "
          f"refresh {ratio(ours['refresh'], arrow['refresh'])} dlt-arrow, "
          f"{ratio(ours['refresh'], ours['first'])} own-first")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument("--server", default=SERVER_URL, help="admin URL of the Postgres server")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    args.instance, args.max_concurrent = "sqlite", None  # as `EndToEnd` reads them
    return args


def main(argv: list[str] | None = None) -> dict[str, Timing]:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up servers and databases
    with tempfile.TemporaryDirectory(prefix="stock_assets_peers_") as work, ExitStack() as stack:
        bench = EndToEnd(args, Path(work), stack)
        peers = Peers(bench, args, Path(work), stack)
        print(f"{len(bench.symbols)} symbols {bench.symbols[0]}..{bench.symbols[-1]}, histories "
              f"ending {bench.last_session}; contenders one after another")
        served = {
            "first": bench.served_rows(bench.first_load_day),
            "refresh": bench.served_rows(bench.last_session),
        }
        for phase in PHASES:
            peers.phase(phase, served[phase])
        floor = refresh_floor(bench.s3_client, BUCKET, bench.symbols)
    summarize(peers.timings, served, floor)
    return peers.timings


if __name__ == "__main__":
    main()
