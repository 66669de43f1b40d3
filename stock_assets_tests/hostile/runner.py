"""Runs the hostile corpus through real runs and judges each case: the one piece of code the test
(`test_hostile_corpus.py`) and the bench (`bench/hostile_corpus.py`) share.

How, so that some hundred cases take minutes, not an hour:

1. A clean run stores good data for every case symbol and the controls (AAPL, MSFT): one ranged
   run of the `refresh_all` job, as a backfill would, into a template folder (objects, SQLite
   warehouse, Dagster home).
2. The cases are split into batches, balanced on the seconds each spends waiting (retried
   failures back off 1 + 2 + 4 + 8 s, whatever the deadline); each batch gets a copy of the
   template and one `stock-assets materialize` subprocess over its symbols, a control last, all
   batches at once. The symbol-level cases are CLI invocations beside them.
3. Each case is judged from its CLI line, its stored objects and table rows against the template
   (rejected: byte for byte unchanged), its quarantine file; then every file written and every
   line printed is searched for the API key.

`python -m stock_assets_tests.hostile.runner` is the clean run itself (step 1), in the
environment the runner gives it.

Over 300 lines: one corpus run from the clean run to the last judgement, read in one place,
since how a case is judged depends on how its batch ran.
"""

import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from stock_assets_tests.environments import loopback_api, nothing_set
from stock_assets_tests.helpers import free_port
from stock_assets_tests.hostile.cases import DEADLINE_SECONDS, KEY, Case, SymbolCase
from stock_assets_tests.hostile.server import HostileServer
from stock_assets_tests.hostile.stores import LocalStore, S3PostgresStore

Store = LocalStore | S3PostgresStore

ROOT = Path(__file__).resolve().parents[2]
STOCK_ASSETS = str(Path(sys.executable).with_name("stock-assets"))
CONTROLS = ("AAPL", "MSFT")
RUN_SECONDS = 2.5  # a symbol's run, for balancing the batches
_LINE = re.compile(r"^\[\d+/\d+\] (\S+): (ok|FAILED|NOT FETCHED) (.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Finding:
    """One case's outcome: what was expected, what was found, and whether they agree."""

    case: str
    level: str
    symbol: str
    expected: str
    found: str
    as_expected: bool


@dataclass
class CorpusRun:
    """Every case's finding, problems that belong to no case (the key found, a traceback on
    screen, a control symbol not stored) and the seconds it all took."""

    findings: list[Finding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def surprises(self) -> list[str]:
        unexpected = [f"{f.case} ({f.symbol}): expected {f.expected}; found {f.found}"
                      for f in self.findings if not f.as_expected]
        return unexpected + self.problems


@contextmanager
def scratch(fallback: Path) -> Iterator[Path]:
    """A folder in memory (/dev/shm) when the machine has one, else `fallback`: the runs' SQLite
    commits cost a third of the clean run on a disk."""
    memory = Path("/dev/shm")  # noqa: S108 (a private folder is made in it)
    if not memory.is_dir():
        yield fallback
        return
    with tempfile.TemporaryDirectory(dir=memory, prefix="hostile-") as folder:
        yield Path(folder)


def case_symbols(cases: list[Case]) -> dict[str, Case]:
    """Each case's own symbol, HX001 on (valid watchlist symbols, sorted as listed)."""
    return {f"HX{number:03d}": case for number, case in enumerate(cases, start=1)}


def _env(url: str, folder: Path, symbols: list[str], datatype: str = "json",
         store: Store | None = None) -> dict[str, str]:
    (folder / "home").mkdir(parents=True, exist_ok=True)
    return {
        **nothing_set("AWS_"),
        **loopback_api(url, KEY),
        "ALPHAVANTAGE_REQUEST_DEADLINE_SECONDS": str(DEADLINE_SECONDS),
        "ALPHAVANTAGE_MAX_CONCURRENT_REQUESTS": "8",
        "ALPHAVANTAGE_DATATYPE": datatype,
        "STOCK_ASSETS_SYMBOLS": ",".join(symbols),
        "STOCK_ASSETS_DATA_DIR": str(folder / "data"),
        "DAGSTER_HOME": str(folder / "home"),
        "PYTHONPATH": str(ROOT),
        **(store.env() if store is not None else {}),
    }


@dataclass
class _Batch:
    folder: Path
    symbols: list[str]
    env: dict[str, str]
    store: Store
    process: subprocess.Popen | None = None
    stdout: str = ""
    stderr: str = ""


def _balanced(symbols: dict[str, Case], batches: int) -> list[list[str]]:
    """Symbols in batches of one datatype and base URL each, the longest waits spread first."""
    groups: dict[tuple, list[str]] = {}
    for symbol, case in symbols.items():
        groups.setdefault((case.datatype, case.refused), []).append(symbol)
    cost = {s: RUN_SECONDS + c.waits for s, c in symbols.items()}
    share = sum(cost.values()) / batches
    result = []
    for members in groups.values():
        count = max(1, min(len(members), round(sum(cost[s] for s in members) / share)))
        bins: list[list[str]] = [[] for _ in range(count)]
        for symbol in sorted(members, key=cost.get, reverse=True):
            min(bins, key=lambda b: sum(cost[s] for s in b)).append(symbol)
        result += bins
    return result


def _clean_run(url: str, template: Path, watchlist: list[str], store: Store) -> None:
    env = _env(url, template, watchlist, store=store)
    done = subprocess.run([sys.executable, "-m", "stock_assets_tests.hostile.runner"], env=env,
                          cwd=template, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"the clean run failed: {done.stdout[-2000:]}{done.stderr[-3000:]}")


def _judge(case: Case, symbol: str, line: tuple[str, str] | None, before: dict[str, bytes],
           after: dict[str, bytes], store: Store) -> tuple[str, bool]:
    """What was found for the case, and whether it is what the case expects."""
    expect = case.expect
    if line is None:
        return "no line for the symbol on screen", False
    status, text = line
    text = re.sub(r"^\([\d.]+s, run \w+\)(: )?", "", text)
    found = f"{status} {text[:160]}".strip()
    if status != expect.line_status or expect.line not in text:
        return found, False
    fragment = expect.fragment.replace("{symbol}", symbol)
    if expect.outcome == "rejected":
        changed = sorted(k for k in {*before, *after} if before.get(k) != after.get(k))
        if changed:
            return f"{found}; stored data changed: {', '.join(changed)[:200]}", False
        return found, fragment in text
    if expect.outcome == "quarantined":
        reason = store.quarantine(symbol, expect.day)
        if reason is None:
            return f"{found}; {expect.day} not in the quarantine file", False
        return f"quarantined {expect.day}: {reason[:160]}", fragment in reason
    raw = f"raw_quotes/{symbol}.json"
    stored = before.get(raw) != after.get(raw) and after["table daily_prices"] != b"[]"
    return found if stored else f"{found}; the answer was not stored", stored


def _judge_symbol(case: SymbolCase, done: subprocess.CompletedProcess, folder: Path) -> Finding:
    shown = done.stdout + done.stderr
    if case.expect.outcome == "rejected":
        errors = [line for line in done.stderr.splitlines()
                  if line and not line.startswith(("usage:", " "))]
        found = f"exit {done.returncode}: {' | '.join(errors)[:200]}"
        good = (done.returncode == 2 and len(errors) == 1 and done.stdout == ""
                and case.expect.fragment in errors[0] and "Traceback" not in shown
                and (case.argument or "STOCK_ASSETS_SYMBOLS" in errors[0]))
    else:
        lines = dict((m[0], m[1]) for m in _LINE.findall(done.stdout))
        symbol = case.symbols
        found = f"exit {done.returncode}: {lines.get(symbol, 'no line')}"
        stored = (folder / "data" / "objects" / "raw_quotes" / f"{symbol}.json").exists()
        good = done.returncode == 0 and lines.get(symbol) == "ok" and stored
        found += "" if stored else "; nothing stored"
    return Finding(case.name, case.level, case.symbols or "''", case.expect.describe(), found,
                   good)


def _run_symbol_cases(url: str, work: Path, cases: list[SymbolCase]) -> list[Finding]:
    findings = []
    for number, case in enumerate(cases):
        folder = work / f"symbol{number:02d}"
        watchlist = ["AAPL"] if case.argument else [case.symbols]
        env = _env(url, folder, watchlist)
        if not case.argument:
            env["STOCK_ASSETS_SYMBOLS"] = case.symbols
        args = [case.symbols] if case.argument else []
        done = subprocess.run([STOCK_ASSETS, "materialize", *args], env=env, cwd=folder,
                              capture_output=True, text=True, timeout=300)
        findings.append(_judge_symbol(case, done, folder))
        (folder / "screen.txt").write_text(done.stdout + done.stderr)
    return findings


def _key_sightings(work: Path) -> list[str]:
    """Files under `work` (objects, warehouse, Dagster home, screens) holding the key."""
    secret = KEY.encode()
    return sorted(str(p.relative_to(work)) for p in work.rglob("*")
                  if p.is_file() and secret in p.read_bytes())


def _start(batches: list[_Batch]) -> None:
    for batch in batches:
        batch.process = subprocess.Popen(
            [STOCK_ASSETS, "materialize", *batch.symbols], env=batch.env, cwd=batch.folder,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )


def _finish(batches: list[_Batch]) -> None:
    for batch in batches:
        batch.stdout, batch.stderr = batch.process.communicate(timeout=900)
        (batch.folder / "screen.txt").write_text(batch.stdout + batch.stderr)


def _prepare(server: HostileServer, work: Path, symbols: dict[str, Case], batches: int,
             controls: tuple[str, ...], shared: Store | None,
             ) -> tuple[list[_Batch], dict[str, dict[str, bytes]]]:
    """The clean run into a template, what each case symbol stored, then a copy of the template
    per batch (or, with a `shared` store, one batch in place), the server armed."""
    template = work / "template"
    watchlist = [*symbols, *controls]
    _clean_run(server.url, template, watchlist, shared or LocalStore(template))
    before = {s: (shared or LocalStore(template)).stored(s) for s in symbols}
    server.behaviours.update({symbol: case.serve(symbol) for symbol, case in symbols.items()})
    prepared = []
    for number, members in enumerate(_balanced(symbols, 1 if shared else batches)):
        folder = work / f"batch{number:02d}"
        shutil.copytree(template, folder)
        store = shared or LocalStore(folder)
        first = symbols[members[0]]
        url = f"http://127.0.0.1:{free_port()}/query" if first.refused else server.url
        control = [] if first.refused else [controls[number % len(controls)]]
        prepared.append(_Batch(folder, [*members, *control],
                               _env(url, folder, watchlist, first.datatype, store), store))
    return prepared, before


def run_corpus(cases: list[Case], symbol_cases: list[SymbolCase], work: Path, *,
               batches: int = 8, controls: tuple[str, ...] = CONTROLS,
               store: Store | None = None) -> CorpusRun:
    """Run every case through real runs in `work` and judge each (see the module's docstring);
    each batch ends with one of the `controls`. With a `store` (S3 and PostgreSQL), objects
    and rows go there, in one batch (cases of one datatype and base URL only)."""
    started = time.perf_counter()
    symbols = case_symbols(cases)
    run = CorpusRun()
    with HostileServer() as server, ThreadPoolExecutor(1) as beside:
        symbol_findings = beside.submit(_run_symbol_cases, server.url, work, symbol_cases)
        prepared, before = (_prepare(server, work, symbols, batches, controls, store)
                            if cases else ([], {}))
        _start(prepared)
        _finish(prepared)
        run.findings += symbol_findings.result()
    if cases and KEY not in server.keys_received:  # else "the key is nowhere" proves nothing
        run.problems.append(f"the server received keys {sorted(server.keys_received)}")
    for batch in prepared:
        lines = {m[0]: (m[1], m[2]) for m in _LINE.findall(batch.stdout)}
        for symbol in batch.symbols:
            if symbol in controls:
                if lines.get(symbol, ("",))[0] != "ok":
                    run.problems.append(f"control {symbol} in {batch.folder.name}: "
                                        f"{lines.get(symbol)}")
                continue
            case = symbols[symbol]
            found, good = _judge(case, symbol, lines.get(symbol), before[symbol],
                                 batch.store.stored(symbol), batch.store)
            run.findings.append(Finding(case.name, case.level, symbol, case.expect.describe(),
                                        found, good))
        if "Traceback" in batch.stdout or batch.stderr:
            run.problems.append(f"{batch.folder.name} printed more than its lines: "
                                f"{batch.stderr[-500:]}")
    run.problems += [f"the API key is in {path}" for path in _key_sightings(work)]
    if store is not None:
        run.problems += [f"the API key is in {key}" for key in store.holding(KEY.encode())]
    run.seconds = time.perf_counter() - started
    return run


def _clean_main() -> int:
    """The clean run: the whole watchlist in one ranged run of the main job."""
    from stock_assets.definitions import defs, settings
    from stock_assets.instance import project_instance
    from stock_assets.partitions import RANGE_END_TAG, RANGE_START_TAG

    quiet = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    tags = {RANGE_START_TAG: settings.symbols[0], RANGE_END_TAG: settings.symbols[-1]}
    with project_instance() as instance:
        result = defs.resolve_job_def("refresh_all").execute_in_process(
            instance=instance, tags=tags, run_config=quiet, raise_on_error=False
        )
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(_clean_main())
