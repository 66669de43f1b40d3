"""Every shell command the README shows, verbatim and in order, on a fresh clone with nothing set.

The clone has no folder beside it and the environment has none of our variables, as on a new
user's machine. A README block that no expectation below covers fails the test, so a command
cannot be added to the README without being run here. The placeholders the README names
(`my-bucket`, `analyst:secret@db.internal`, `your-key`) stand for moto's S3 server, a fresh
PostgreSQL database and the loopback Alpha Vantage server: the only words changed.

Over 300 lines: one expectation per README block, each replayed verbatim with its servers.
"""

import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
import requests
import sqlalchemy as sa

from stock_assets_tests.environments import nothing_set

PROJECT = Path(__file__).resolve().parents[1]
README = PROJECT / "README.md"
CANARY = "canary-README-51c0"
SAMPLE_ROWS = {"AAPL": 3270, "MSFT": 3270, "IBM": 3270, "GOOG": 2148, "FB": 196}


def readme_blocks(text: str) -> list[str]:
    """The README's shell blocks (```bash), in order."""
    return [m.group(1) for m in re.finditer(r"```bash\n(.*?)```", text, re.DOTALL)]


def fresh_clone(destination: Path) -> Path:
    """A clone of this repository as it would be committed now: HEAD, plus the tracked changes
    and new files of the working tree (so the test checks what a commit would land)."""
    subprocess.run(["git", "clone", "-q", str(PROJECT), str(destination)], check=True)
    changed = subprocess.run(
        ["git", "ls-files", "-m", "-o", "--exclude-standard"],
        cwd=PROJECT, check=True, capture_output=True, text=True,
    ).stdout.split()
    for name in changed:
        source = PROJECT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    deleted = subprocess.run(
        ["git", "ls-files", "-d"], cwd=PROJECT, check=True, capture_output=True, text=True
    ).stdout.split()
    for name in deleted:
        (destination / name).unlink(missing_ok=True)
    return destination


def user_environment() -> dict[str, str]:
    """This machine's environment without anything of ours, nor the test's own venv."""
    env = nothing_set("AWS_", "VIRTUAL_ENV", "PYTEST_")
    venv_bin = str(PROJECT / ".venv" / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p != venv_bin)
    return env


@dataclass
class Shell:
    """Runs README blocks in the clone, each in a fresh bash in its own process group."""

    root: Path
    env: dict[str, str]
    transcript: list[str] = field(default_factory=list)

    def run(self, block: str, *, extra_env: dict | None = None,
            timeout: float = 900) -> subprocess.CompletedProcess:
        started = time.monotonic()
        process = subprocess.Popen(
            ["bash", "-euo", "pipefail", "-c", block], cwd=self.root,
            env={**self.env, **(extra_env or {})}, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, start_new_session=True,
        )
        try:
            out, err = process.communicate(timeout=timeout)
        finally:
            _stop_group(process)
        result = subprocess.CompletedProcess(block, process.returncode, out, err)
        seconds = time.monotonic() - started
        self.transcript.append(
            f"$ {block}\n[exit {result.returncode} after {seconds:.0f} s]\n"
            f"{out[-2000:]}{err[-3000:]}"
        )
        return result


def _stop_group(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Stop the block's whole process group (a server it left in the background too)."""
    with _suppress_lookup():
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with _suppress_lookup():
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    deadline = time.monotonic() + 30
    while _group_alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    with _suppress_lookup():
        os.killpg(process.pid, signal.SIGKILL)


def _group_alive(pgid: int) -> bool:
    alive = []
    for proc in psutil.process_iter(["pid"]):
        with _suppress_lookup(psutil.Error):
            if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(proc)
    return bool(alive)


class _suppress_lookup:
    def __init__(self, *extra):
        self.types = (ProcessLookupError, PermissionError, *extra)

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        return kind is not None and issubclass(kind, self.types)


def _rows(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            query = sa.text("SELECT symbol, count(*) FROM daily_prices GROUP BY symbol")
            return dict(connection.execute(query).all())
    finally:
        engine.dispose()


def _assert_ok(result: subprocess.CompletedProcess, *printed: str) -> None:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for text in printed:
        assert text in result.stdout + result.stderr, (text, result.stdout[-3000:])


def check_main_command(shell: Shell, block: str, context: dict) -> None:
    result = shell.run(block)
    _assert_ok(result, "source:   offline sample", "5 of 5 symbols materialized")
    assert "Traceback" not in result.stdout + result.stderr
    assert _rows(f"sqlite:///{shell.root / 'stock_assets_data' / 'stock_assets.sqlite'}") == (
        SAMPLE_ROWS
    )


def check_test_command(shell: Shell, block: str, context: dict) -> None:
    """Command 2 runs the whole suite, this test included, so it is not run from here: CI runs
    it verbatim on a fresh clone of main (`.ci/run` checks the README still gives it, then runs
    exactly it), and a green CI is what lands."""
    assert block.strip() == "scripts/test"
    ci = (shell.root / ".ci" / "run").read_text()
    assert 'test_command="scripts/test"' in ci and 'eval "$test_command"' in ci
    assert os.access(shell.root / "scripts" / "test", os.X_OK)


def check_query(shell: Shell, block: str, context: dict) -> None:
    result = shell.run(block)
    _assert_ok(result)
    for symbol, days in SAMPLE_ROWS.items():
        assert re.search(rf"{symbol}\s+{days}\b", result.stdout), (symbol, result.stdout)
    assert "2013-03-01" in result.stdout


def check_ui(shell: Shell, block: str, context: dict) -> None:
    """The UI starts from the root with nothing set, without a warning, and shows the runs the
    main command made."""
    assert block.strip() == ".venv/bin/dg dev"
    process = subprocess.Popen(
        ["bash", "-c", block], cwd=shell.root, env=shell.env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    runs = None
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and process.poll() is None:
            try:
                reply = requests.post(
                    "http://127.0.0.1:3000/graphql", timeout=10,
                    json={"query": "{ runsOrError { ... on Runs { results { runId status } } } }"},
                )
                if reply.ok:
                    runs = reply.json()["data"]["runsOrError"]["results"]
                    break
            except requests.ConnectionError:
                pass
            time.sleep(2)
    finally:
        with _suppress_lookup():
            os.killpg(process.pid, signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=60)
        finally:
            _stop_group(process)
    shell.transcript.append(f"$ {block}\n{output[-4000:]}")
    assert runs is not None, output[-4000:]
    assert len([r for r in runs if r["status"] == "SUCCESS"]) >= len(SAMPLE_ROWS), runs
    # Dagster's and Python's warnings and errors; gRPC's own INFO lines at shutdown are not.
    noise = [line for line in output.splitlines()
             if re.search(r"\bWARNING\b|Warning:|\bERROR\b|Traceback", line)]
    assert not noise, noise
    assert not list(shell.root.glob(".tmp_dagster_home_*"))


def check_one_partition(shell: Shell, block: str, context: dict) -> None:
    for line in block.strip().splitlines():
        result = shell.run(line)
        _assert_ok(result, "RUN_SUCCESS")


def check_watchlist(shell: Shell, block: str, context: dict) -> None:
    _assert_ok(shell.run(block), "2 of 2 symbols materialized")


def check_production(shell: Shell, block: str, context: dict) -> None:
    """S3 and PostgreSQL: the placeholders become moto's server, a fresh database and a key that
    the loopback Alpha Vantage server accepts; nothing else changes."""
    placeholders = {
        "s3://my-bucket/stock-assets": f"s3://{context['bucket']}/stock-assets",
        "postgresql+psycopg://analyst:secret@db.internal:5432/prices": context["database"],
        "your-key": CANARY,
    }
    for placeholder in placeholders:
        assert placeholder in block, placeholder
    for placeholder, value in placeholders.items():
        block = block.replace(placeholder, value)
    stand_ins = {
        "AWS_ENDPOINT_URL": context["moto"],
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "ALPHAVANTAGE_BASE_URL": context["alphavantage"],
    }
    result = shell.run(block, extra_env=stand_ins)
    _assert_ok(result, "5 of 5 symbols materialized")
    assert CANARY not in result.stdout + result.stderr
    assert _rows(context["database"]) == SAMPLE_ROWS
    assert sum(SAMPLE_ROWS.values()) == 12_154


def check_replay(shell: Shell, block: str, context: dict) -> None:
    """Offline, after the main command: AAPL's archived answer is listed and replayed."""
    result = shell.run(block)
    _assert_ok(result, "1 of 1 symbols rebuilt from the archive")
    assert re.search(r"^\S+ +full +\d+ bytes +[0-9a-f]{64} +raw_quotes/_history/AAPL/\S+$",
                     result.stdout, re.MULTILINE), result.stdout
    assert re.search(r"\] AAPL: ok .*archived answers? replayed, 3270 days", result.stdout)


def check_loopback(shell: Shell, block: str, context: dict) -> None:
    _assert_ok(shell.run(block), "1 of 1 symbols materialized")


EXPECTATIONS: list[tuple[str, Callable]] = [
    ("pip install -e . && .venv/bin/stock-assets materialize", check_main_command),
    ("scripts/test", check_test_command),
    ("pd.read_sql(", check_query),
    (".venv/bin/dg dev", check_ui),
    ("--partition AAPL", check_one_partition),
    ("STOCK_ASSETS_SYMBOLS=AAPL,IBM", check_watchlist),
    ("stock-assets replay AAPL", check_replay),
    ("export STOCK_ASSETS_STORAGE_URL", check_production),
    ("stock_assets.alphavantage.sample_server", check_loopback),
]


def test_every_readme_block_has_an_expectation():
    blocks = readme_blocks(README.read_text())
    matched = [[check for key, check in EXPECTATIONS if key in block] for block in blocks]
    assert all(len(m) == 1 for m in matched), list(zip(blocks, matched, strict=True))
    assert len(blocks) == len(EXPECTATIONS)
    assert blocks[1].strip() == "scripts/test"  # the README starts with exactly two commands


def test_readme_lists_every_asset():
    from stock_assets.definitions import ASSETS

    keys = {key.to_user_string() for asset in ASSETS for key in asset.keys}
    listed = set(re.findall(r"^\| `(\w+)` \|", README.read_text(), re.MULTILINE))
    assert listed & keys == keys, keys - listed
    text = README.read_text().lower()
    for number, word in enumerate(["one", "two", "three", "four", "five", "six"], start=1):
        text = text.replace(f"{word} software-defined", f"{number} software-defined")
    assert f"{len(keys)} software-defined assets" in text


@pytest.mark.slow
def test_readme_commands_work_verbatim_on_a_fresh_clone(
    tmp_path, moto_endpoint, s3_bucket, make_postgres_database, sample_server
):
    root = fresh_clone(tmp_path / "stock_assets")
    assert not (root.parent / "shared").exists()
    sample_server.api_key = CANARY
    context = {
        "moto": moto_endpoint,
        "bucket": s3_bucket,
        "database": make_postgres_database(),
        "alphavantage": sample_server.url,
    }
    shell = Shell(root, user_environment())
    try:
        for block in readme_blocks((root / "README.md").read_text()):
            check = next(check for key, check in EXPECTATIONS if key in block)
            check(shell, block, context)
    except BaseException:
        print("\n\n".join(shell.transcript))
        raise
