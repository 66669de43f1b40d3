"""The kill campaign (issue 16, part 3): `stock-assets materialize` SIGKILLed at seeded points
inside every phase of a run, on both backends, and what each kill left checked.

A run's phases are fetch, archive, clean, write, copy, merge and commit; `bench.kill_point` says
where inside each the process kills itself. Each trial starts from a fresh state, or (a seeded
choice; always for merge, which a first load never reaches) from a copy of the state a good run
left when the answers were five sessions behind (a second server serves them so), so the kill
lands in a refresh that changes the history and the table. After the kill: no torn object (each
lists, reads back with its SHA-256 and parses), no half-loaded symbol (each holds exactly its
rows from before the run or those of a complete load), no leftover after
`cleanup(older_than_seconds=0)` (temp files and lock files, or incomplete multipart uploads);
then the same command, unarmed, must free the dead run's pool slot itself, exit 0 and leave the
same snapshot (`bench.kill_state`) as a clean run of the same scenario. Which (backend, phase,
n, scenario) each trial is comes from `random.Random(seed)`, n drawn from the times a clean run
reaches the point, so every trial kills.

The states, the servers (the loopback Alpha Vantage twice, moto's S3 in a child process) and the
Postgres databases are the campaign's own. Runs are children of fork servers that have imported
the command's libraries (`bench.kill_launcher`; ``--console-script`` runs the console script
itself, armed by `sitecustomize`).

    python -m bench.kill_campaign [--short] [--seed 16] [--work DIR] [--symbols AAPL,IBM]
        [--kills 200] [--slots 2] [--minutes M] [--console-script]
"""

import argparse
import json
import random
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import boto3

from bench.kill_launcher import Launcher
from bench.kill_plan import FRESH, REFRESH, Trial, plan, sessions_behind, short_plan
from bench.kill_state import BACKENDS, BUCKET, LOCAL, MOTO_KEYS, NOTHING_LOADED, State, loaded
from bench.kill_table import Outcome, grouped_table, trial_table
from bench.loopback import ChildServer, MotoService
from bench.reliability_table import Table
from stock_assets.alphavantage.sample import SampleAnswers
from stock_assets.alphavantage.sample_server import SampleServer

FULL_SYMBOLS, SHORT_SYMBOLS = ["AAPL", "IBM"], ["IBM"]
FULL_KILLS = 200
@dataclass(frozen=True)
class Reference:
    """A clean run's snapshot, and how often it reached each kill point."""

    snapshot: dict[str, str]
    counts: Counter
    before: dict[str, tuple[str, str]]  # each symbol's rows before the run: (count, digest)


class Campaign:
    """The servers, the clean references and the trials of one campaign."""

    def __init__(self, short: bool, seed: int, work: Path, stack: ExitStack,
                 symbols: list[str] | None = None, fork_servers: int = 0):
        self.short, self.seed, self.work = short, seed, work
        self.launcher = Launcher(fork_servers) if fork_servers else None
        if self.launcher is not None:
            stack.callback(self.launcher.stop)
        self.symbols = symbols or (SHORT_SYMBOLS if short else FULL_SYMBOLS)
        self.tag = f"kills_{uuid.uuid4().hex[:8]}"
        self.current = stack.enter_context(SampleServer())
        self.behind = stack.enter_context(SampleServer(SampleAnswers(provider=sessions_behind)))
        self.moto = ChildServer(MotoService)
        stack.callback(self.moto.stop)
        boto3.client("s3", endpoint_url=self.moto.url, region_name="us-east-1",
                     **MOTO_KEYS).create_bucket(Bucket=BUCKET)
        self.states: list[State] = []
        stack.callback(self._drop_all)
        self.templates: dict[str, State] = {}
        self.references: dict[tuple[str, str], Future] = {}
        self.surprises: list[str] = []
        self.stop_at = float("inf")  # no trial starts after this (time.monotonic())

    def state(self, backend: str, label: str, template: State | None = None) -> State:
        state = State(backend, self.work / label, f"{self.tag}_{label}".replace("-", "_"),
                      self.symbols, self.moto.url, template, self.launcher)
        self.states.append(state)
        return state

    def _drop_all(self) -> None:
        for state in self.states:
            state.drop()

    def _counted_run(self, state: State, api_url: str, label: str) -> Counter:
        """A clean run on `state` that counts the kill points it reaches."""
        note = self.work / f"{label}.note"
        result = state.materialize(api_url, "count", note)
        if result.returncode != 0:
            raise RuntimeError(f"the clean run {label} failed ({result.returncode}):\n"
                               f"{result.stdout}{result.stderr}")
        return Counter(noted_counts(note.read_text()))

    def reference(self, backend: str, scenario: str) -> Reference:
        """A clean run of the scenario on a state of its own."""
        short = backend.split("+")[0]
        if scenario == FRESH:
            state = self.state(backend, f"reference-{short}-fresh")
            before = dict.fromkeys(self.symbols, NOTHING_LOADED)
        else:
            template = self.state(backend, f"template-{short}")
            self._counted_run(template, self.behind.url, f"template-{short}")
            self.templates[backend] = template
            before_snapshot = template.snapshot()
            before = {symbol: loaded(before_snapshot, symbol) for symbol in self.symbols}
            state = self.state(backend, f"reference-{short}-refresh", template)
        counts = self._counted_run(state, self.current.url, f"reference-{short}-{scenario}")
        return Reference(state.snapshot(), counts, before)

    def trial(self, trial: Trial) -> Outcome | None:
        """Kill a run at the trial's point, check what it left, run again, compare; a trial
        that breaks down is a surprise, and the others go on; None once the time is up."""
        if time.monotonic() > self.stop_at:
            return None
        try:
            return self._trial(trial)
        except Exception as error:  # the table shows it; the campaign goes on
            self.surprises.append(f"{trial.describe()} broke down: {error!r}")
            return Outcome(trial, False, "", [], [], 0, [], f"broke down: {error!r}", [], 0.0)

    def _trial(self, trial: Trial) -> Outcome:
        label = f"trial-{trial.number:03d}"
        template = self.templates[trial.backend] if trial.scenario == REFRESH else None
        state = self.state(trial.backend, label, template)
        note = self.work / f"{label}.note"
        started = time.perf_counter()
        result = state.materialize(self.current.url, f"{trial.phase}:{trial.n}", note)
        lines = note.read_text().splitlines() if note.exists() else []
        killed = result.returncode == -signal.SIGKILL
        where = next((line.split(" ", 3)[3] for line in lines if line.startswith("killed ")), "")
        for line in lines:
            if line.startswith("survived "):
                self.surprises.append(f"{trial.describe()}: armed and got through: {line}")
        if not killed:
            self.surprises.append(
                f"{trial.describe()}: the point was not reached (exit {result.returncode}, "
                f"points reached {lines[-1:] or 'none noted'}): {result.stderr[-300:]}"
            )
        torn = state.torn_objects()
        half = self._half_loaded(state, self.references[trial.backend, trial.scenario].result())
        debris = state.leftovers()
        state.store().cleanup(older_than_seconds=0)
        left = state.leftovers()
        rerun, differing = self._rerun(state, trial)
        outcome = Outcome(trial, killed, where, torn, half, len(debris), left, rerun, differing,
                          time.perf_counter() - started)
        self._report(outcome)
        state.drop()
        self.states.remove(state)
        return outcome

    def _half_loaded(self, state: State, reference: Reference) -> list[str]:
        snapshot = state.table_snapshot()
        found = []
        for symbol in self.symbols:
            now = loaded(snapshot, symbol)
            complete = loaded(reference.snapshot, symbol)
            if now not in (reference.before[symbol], complete):
                found.append(f"{symbol}: {now[0]} rows, neither the {reference.before[symbol][0]} "
                             f"from before the run nor the {complete[0]} of a complete load")
        return found

    def _rerun(self, state: State, trial: Trial) -> tuple[str, list[str]]:
        try:
            result = state.materialize(self.current.url)
        except subprocess.TimeoutExpired:
            result = subprocess.CompletedProcess([], -signal.SIGALRM)
        if result.returncode == -signal.SIGALRM:
            return "timed out (a pool slot still held?)", []
        if result.returncode != 0:
            return f"exit {result.returncode}: {result.stdout[-300:]}", []
        reference = self.references[trial.backend, trial.scenario].result().snapshot
        now = state.snapshot()
        differing = sorted(k for k in reference.keys() | now.keys()
                           if reference.get(k) != now.get(k))
        freed = "note: freed the pool slots" in result.stdout
        return ("ok, slot freed" if freed else "ok"), differing

    def _report(self, outcome: Outcome) -> None:
        name = outcome.trial.describe()
        for what, found in [("torn objects", outcome.torn),
                            ("half-loaded symbols", outcome.half_loaded),
                            ("leftovers after cleanup", outcome.leftovers),
                            ("differences from a clean run after the re-run", outcome.differing)]:
            if found:
                self.surprises.append(f"{name}: {len(found)} {what}: {'; '.join(found[:3])}")
        if not outcome.rerun.startswith("ok"):
            self.surprises.append(f"{name}: the re-run did not succeed: {outcome.rerun}")
        print(f"{name}: {'killed' if outcome.killed else 'NOT KILLED'} at {outcome.where or '-'}"
              f"; torn {len(outcome.torn)}, half-loaded {len(outcome.half_loaded)}, debris "
              f"{outcome.debris} -> {len(outcome.leftovers)}, re-run {outcome.rerun}, "
              f"{'converged' if outcome.converged else 'NOT CONVERGED'} "
              f"({outcome.seconds:.1f} s)", flush=True)


def noted_counts(note: str) -> dict[str, int]:
    """The times a `count` run reached each point, as it noted them (its last line, JSON)."""
    return json.loads(note.strip().splitlines()[-1])


def run(short: bool, seed: int, work: Path, *, symbols: list[str] | None = None,
        fork: bool = True, kills: int = FULL_KILLS, slots: int = len(BACKENDS),
        minutes: float | None = None) -> Table:
    """The campaign: the short one (a trial per backend from a fresh state, run beside one clean
    reference, which both backends must match) or the full one (`FULL_KILLS` trials, two at a
    time (`slots`), after a clean reference per backend and scenario). `fork`: runs are children
    of fork servers (`bench.kill_launcher`) rather than console scripts. No trial starts after
    `minutes`; those left out are a surprise."""
    rng, started = random.Random(seed), time.perf_counter()
    workers = 1 + len(BACKENDS) if short else slots
    with ExitStack() as stack:
        campaign = Campaign(short, seed, work, stack, symbols, workers if fork else 0)
        if minutes is not None:
            campaign.stop_at = time.monotonic() + minutes * 60
        with ThreadPoolExecutor(workers) as pool:
            if short:
                shared = pool.submit(campaign.reference, LOCAL, FRESH)
                campaign.references = {(backend, FRESH): shared for backend in BACKENDS}
                trials = short_plan(rng)
            else:
                for backend in BACKENDS:
                    for scenario in (FRESH, REFRESH):
                        campaign.references[backend, scenario] = pool.submit(
                            campaign.reference, backend, scenario)
                counts = {key: f.result().counts for key, f in campaign.references.items()}
                trials = plan(rng, counts, kills, campaign.surprises)
                print(f"clean references done in {time.perf_counter() - started:.0f} s; "
                      f"{len(trials)} trials", flush=True)
                _compare_backends(campaign)
            outcomes = [o for o in pool.map(campaign.trial, trials) if o is not None]
    if len(outcomes) < len(trials):
        campaign.surprises.append(f"only {len(outcomes)} of the {len(trials)} trials planned "
                                  f"started within {minutes} minutes")
    table = (trial_table if short else grouped_table)(outcomes, seed)
    table.surprises.extend(campaign.surprises)
    return table


def _compare_backends(campaign: Campaign) -> None:
    """Both backends' clean runs store the same bytes and rows (what the snapshot holds)."""
    fresh = [campaign.references[backend, FRESH].result().snapshot for backend in BACKENDS]
    differing = sorted(k for k in fresh[0].keys() | fresh[1].keys()
                       if fresh[0].get(k) != fresh[1].get(k))
    if differing:
        campaign.surprises.append(f"the clean runs on {' and '.join(BACKENDS)} differ: "
                                  f"{', '.join(differing[:5])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="one trial per backend")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--work", type=Path, help="where the states go (default: a temp dir)")
    parser.add_argument("--symbols", help=f"comma-separated (default: {','.join(FULL_SYMBOLS)}; "
                        f"short: {','.join(SHORT_SYMBOLS)})")
    parser.add_argument("--kills", type=int, default=FULL_KILLS, help="full campaign's trials")
    parser.add_argument("--slots", type=int, default=len(BACKENDS),
                        help="full campaign's trials at once")
    parser.add_argument("--minutes", type=float, help="start no trial after this many minutes")
    parser.add_argument("--console-script", action="store_true",
                        help="run the stock-assets console script (armed by sitecustomize) "
                        "instead of forking pre-imported children")
    args = parser.parse_args()
    symbols = args.symbols.split(",") if args.symbols else None
    work = args.work or Path(tempfile.mkdtemp(prefix="kill_campaign_"))
    started = time.perf_counter()
    try:
        table = run(args.short, args.seed, work, symbols=symbols,
                    fork=not args.console_script, kills=args.kills, slots=args.slots,
                    minutes=args.minutes)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print(table.render())
    print(f"\n{table.summary}; wall time {time.perf_counter() - started:.0f} s")
    raise SystemExit(1 if table.surprises else 0)


if __name__ == "__main__":
    main()
