"""Issue 7 as a person sees it: `dagster dev` on the offline defaults, the asset graph open with
every asset in view, one partition launched by clicking in a real Chromium, and the cleaned
prices' one materialization of that symbol carrying its figures and its price chart.

Over 300 lines: one long user session (start, click, wait, read) and the helpers that drive a
real browser through it.
"""

import base64
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import requests
import yaml
from playwright.sync_api import Page, expect, sync_playwright

from stock_assets_tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ASSETS_SHOWN = ("raw_quotes", "cleaned_daily_prices", "daily_prices_table")
SYMBOL = "AAPL"

SERVER_START_TIMEOUT_S = 180
RUN_TIMEOUT_S = 300
UI_TIMEOUT_MS = 60_000
GRACEFUL_STOP_TIMEOUT_S = 90
KILL_TIMEOUT_S = 15


def _restore_default_sigint() -> None:
    """In the child before exec: a runner started in the background ignores SIGINT, and
    `dagster dev` copies SIGINT's handler onto SIGTERM, so it would ignore both."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _offline_environment(data_dir: Path, dagster_home: Path) -> dict[str, str]:
    """This machine's environment with every project variable unset but the two folders."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ALPHAVANTAGE_", "STOCK_ASSETS_", "DAGSTER_"))
    }
    return {**env, "STOCK_ASSETS_DATA_DIR": str(data_dir), "DAGSTER_HOME": str(dagster_home)}


def _make_dagster_home(folder: Path) -> Path:
    """A DAGSTER_HOME holding a copy of the project's instance settings, which must keep the UI
    free of telemetry and first-visit prompts."""
    folder.mkdir()
    shutil.copy(ROOT / "dagster.yaml", folder / "dagster.yaml")
    instance = yaml.safe_load((folder / "dagster.yaml").read_text())
    assert instance["telemetry"]["enabled"] is False
    assert instance["nux"]["enabled"] is False
    return folder


def _tail(path: Path, lines: int = 40) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class DagsterDev:
    """A running `dagster dev` and where to reach it."""

    url: str
    process: subprocess.Popen
    log: Path

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        response = requests.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=30
        )
        response.raise_for_status()
        answer = response.json()
        assert "errors" not in answer, answer
        return answer["data"]

    def alive_or_fail(self) -> None:
        if self.process.poll() is not None:
            pytest.fail(
                f"dagster dev exited with {self.process.returncode}; its log ({self.log}):\n"
                + _tail(self.log)
            )


def _wait_for(condition: Callable[[], bool], timeout_s: float, what: str, dev: DagsterDev):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        dev.alive_or_fail()
        if condition():
            return
        time.sleep(1)
    pytest.fail(
        f"timed out after {timeout_s}s waiting for {what}; dagster dev's log:\n" + _tail(dev.log)
    )


WORKSPACE_QUERY = """
{ workspaceOrError { ... on Workspace { locationEntries {
    name loadStatus locationOrLoadError { __typename ... on PythonError { message } }
} } } }
"""


def _code_location_loaded(dev: DagsterDev) -> bool:
    """The server answers and the code location has loaded; a load error fails at once."""
    try:
        entries = dev.graphql(WORKSPACE_QUERY)["workspaceOrError"]["locationEntries"]
    except requests.RequestException:
        return False
    if not entries or any(entry["loadStatus"] != "LOADED" for entry in entries):
        return False
    for entry in entries:
        location = entry["locationOrLoadError"]
        if location["__typename"] != "RepositoryLocation":
            pytest.fail(f"code location {entry['name']} did not load: {location}")
    return True


def _session_processes(leader: int) -> list[psutil.Process]:
    """Every live process of the session `dagster dev` leads (zombies are already dead)."""
    found = []
    for process in psutil.process_iter():
        try:
            if os.getsid(process.pid) == leader and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except (ProcessLookupError, psutil.NoSuchProcess, PermissionError):
            continue
    return found


def _live(processes: list[psutil.Process]) -> list[psutil.Process]:
    alive = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
        except psutil.NoSuchProcess:
            continue
    return alive


def _describe(processes: list[psutil.Process]) -> str:
    lines = []
    for process in processes:
        try:
            lines.append(f"{process.pid}: {' '.join(process.cmdline())[:160]}")
        except psutil.NoSuchProcess:
            continue
    return "\n".join(lines)


def _stop(dev: DagsterDev) -> str:
    """Stop `dagster dev` as Ctrl-C would (SIGINT to its process group), then SIGTERM, then
    SIGKILL whatever is left; every process it started, even one that left the group, must be
    gone at the end. Returns which signal stopped it."""
    leader = dev.process.pid
    started = _session_processes(leader)
    with contextlib.suppress(psutil.NoSuchProcess):
        started += psutil.Process(leader).children(recursive=True)
    stopped_by = "already exited"
    for sig, timeout_s in (
        (signal.SIGINT, GRACEFUL_STOP_TIMEOUT_S),
        (signal.SIGTERM, KILL_TIMEOUT_S),
        (signal.SIGKILL, KILL_TIMEOUT_S),
    ):
        if not _live(started) and not _session_processes(leader):
            break
        stopped_by = sig.name
        with contextlib.suppress(ProcessLookupError):
            os.killpg(leader, sig)
        if sig == signal.SIGKILL:
            for process in _live(started):
                process.kill()
        try:
            dev.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            continue
        psutil.wait_procs(_live(started), timeout=timeout_s)
    survivors = _live(started) + _session_processes(leader)
    assert not survivors, "processes of dagster dev survived SIGKILL:\n" + _describe(survivors)
    return stopped_by


@pytest.fixture
def dagster_dev(tmp_path: Path) -> Iterator[DagsterDev]:
    """`dagster dev` on a free loopback port, offline defaults, its own session and folders."""
    port = free_port()
    log = tmp_path / "dagster-dev.log"
    dagster = Path(sys.executable).with_name("dagster")
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [
                str(dagster),
                "dev",
                "-m",
                "stock_assets.definitions",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=tmp_path,
            env=_offline_environment(tmp_path / "data", _make_dagster_home(tmp_path / "home")),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_restore_default_sigint,
        )
    dev = DagsterDev(url=f"http://127.0.0.1:{port}", process=process, log=log)
    print(f"\ndagster dev: {dev.url}, pid {process.pid}, log {log}")
    try:
        _wait_for(lambda: _code_location_loaded(dev), SERVER_START_TIMEOUT_S, "the UI", dev)
        yield dev
    finally:
        print(f"dagster dev stopped by {_stop(dev)}")


class Screenshots:
    """Numbered full-page screenshots of each step, in the test's own folder."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.count = 0
        self.started = time.monotonic()
        folder.mkdir()
        print(f"screenshots: {folder}")

    def take(self, page: Page, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        print(f"  {path.name} at {time.monotonic() - self.started:.0f}s")
        return path


RUN_QUERY = """
query ($runId: ID!) { runOrError(runId: $runId) { __typename
    ... on Run { status tags { key value } assetSelection { path } }
    ... on PythonError { message }
} }
"""
RUN_DONE = {"SUCCESS", "FAILURE", "CANCELED"}
RUN_ASSET_EVENTS_QUERY = """
query ($runId: ID!) { runOrError(runId: $runId) { ... on Run { eventConnection(limit: 10000) {
    events { __typename
        ... on MaterializationEvent { assetKey { path } partition metadataEntries { label } }
        ... on ObservationEvent { assetKey { path } partition }
    }
} } } }
"""
FIGURES = ("rows", "rows_inserted", "rows_quarantined", "first_trade_date", "last_trade_date")


def _asset_events(dev: DagsterDev, run_id: str) -> list[dict]:
    """The run's materialization and observation events, as the UI's event log has them."""
    events = dev.graphql(RUN_ASSET_EVENTS_QUERY, {"runId": run_id})["runOrError"]
    kinds = {"MaterializationEvent", "ObservationEvent"}
    return [e for e in events["eventConnection"]["events"] if e["__typename"] in kinds]


def _open_asset_graph(page: Page, dev: DagsterDev, shots: Screenshots) -> None:
    page.goto(f"{dev.url}/asset-groups")
    materialize_all = page.get_by_role("button", name="Materialize all…")
    expect(materialize_all).to_be_enabled(timeout=UI_TIMEOUT_MS)
    # One group: the graph opens with every asset in view, nothing to unfold.
    for name in ASSETS_SHOWN:
        expect(page.get_by_text(name, exact=True).first).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(page.get_by_text(re.compile(r"^Loading"))).to_have_count(0, timeout=UI_TIMEOUT_MS)
    expect(page.get_by_role("img", name="unfold_more")).to_have_count(0)
    shots.take(page, "asset-graph")


def _launch_one_partition_by_clicking(page: Page, shots: Screenshots) -> str:
    """Materialize all -> pick one partition -> Launch 1 run; returns the run id."""
    page.get_by_role("button", name="Materialize all…").click()
    dialog = page.get_by_role("dialog").filter(has_text="Launch runs to materialize")
    expect(dialog).to_be_visible(timeout=UI_TIMEOUT_MS)
    shots.take(page, "materialize-dialog")
    dialog.get_by_text("Select a partition or create one").click()
    page.get_by_role("menuitem", name=re.compile(rf"^{SYMBOL}\b")).click()
    shots.take(page, "partition-picked")
    dialog.get_by_text("Launch runs to materialize").click()
    launch = dialog.get_by_role("button", name="Launch 1 run")
    expect(launch).to_be_enabled()
    expect(dialog.get_by_text("1 partition", exact=True)).to_be_visible()
    shots.take(page, "ready-to-launch")
    launch.click()
    toast = page.get_by_role("listitem").filter(has_text=re.compile(r"Launched run \w+"))
    expect(toast).to_be_visible(timeout=UI_TIMEOUT_MS)
    shots.take(page, "run-launched")
    toast.get_by_role("link", name="View").click()
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]{36}"), timeout=UI_TIMEOUT_MS)
    return page.url.split("/runs/")[1].split("?")[0]


def _wait_for_run(dev: DagsterDev, run_id: str) -> dict:
    latest: dict = {}

    def done() -> bool:
        latest.update(dev.graphql(RUN_QUERY, {"runId": run_id})["runOrError"])
        return latest.get("status") in RUN_DONE

    _wait_for(done, RUN_TIMEOUT_S, f"run {run_id} to finish", dev)
    return latest


def _open_price_chart(page: Page, dev: DagsterDev, shots: Screenshots):
    """Asset page -> its latest materialization's partition -> the price_chart markdown."""
    page.goto(f"{dev.url}/assets/cleaned_daily_prices")
    partition_link = page.get_by_role("link", name=SYMBOL, exact=True)
    expect(partition_link).to_be_visible(timeout=UI_TIMEOUT_MS)
    shots.take(page, "cleaned-prices-asset")
    partition_link.click()
    page.wait_for_url(re.compile(rf"partition={SYMBOL}"), timeout=UI_TIMEOUT_MS)
    chart_row = page.get_by_role("row", name=re.compile(r"^price_chart\b"))
    expect(chart_row).to_be_visible(timeout=UI_TIMEOUT_MS)
    # The same event carries the symbol's figures: one event per symbol, nothing to pick.
    for label in FIGURES:
        expect(page.get_by_role("row", name=re.compile(rf"^{label}\b"))).to_be_visible()
    shots.take(page, f"cleaned-prices-{SYMBOL}")
    chart_row.get_by_text("[Show Markdown]").click()
    dialog = page.get_by_role("dialog").filter(has_text="price_chart")
    image = dialog.locator("img[src^='data:image/png;base64,']")
    expect(image).to_be_visible(timeout=UI_TIMEOUT_MS)
    return image


@pytest.mark.slow
def test_one_partition_launched_by_clicking_shows_its_price_chart(
    dagster_dev: DagsterDev, tmp_path: Path
):
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install -y chromium"
    shots = Screenshots(tmp_path / "screenshots")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = browser.new_page(viewport={"width": 1920, "height": 1200})
            _open_asset_graph(page, dagster_dev, shots)
            run_id = _launch_one_partition_by_clicking(page, shots)
            run = _wait_for_run(dagster_dev, run_id)
            assert run["status"] == "SUCCESS", (
                f"run {run_id} ended {run['status']}; dagster dev's log:\n" + _tail(dagster_dev.log)
            )
            expect(page.get_by_text("Success", exact=True).first).to_be_visible(
                timeout=UI_TIMEOUT_MS
            )
            shots.take(page, "run-succeeded")
            tags = {tag["key"]: tag["value"] for tag in run["tags"]}
            assert tags["dagster/partition"] == SYMBOL
            selected = {"/".join(key["path"]) for key in run["assetSelection"]}
            assert set(ASSETS_SHOWN) <= selected

            events = _asset_events(dagster_dev, run_id)
            assert [e for e in events if e["__typename"] == "ObservationEvent"] == []
            (cleaned,) = [e for e in events if e["assetKey"]["path"] == ["cleaned_daily_prices"]]
            assert cleaned["partition"] == SYMBOL
            labels = {entry["label"] for entry in cleaned["metadataEntries"]}
            assert {*FIGURES, "price_chart"} <= labels

            image = _open_price_chart(page, dagster_dev, shots)
            assert (image.get_attribute("alt") or "").startswith(SYMBOL)
            src = image.get_attribute("src") or ""
            png = base64.b64decode(src.split(",", 1)[1])
            assert png.startswith(b"\x89PNG\r\n\x1a\n")
            assert image.evaluate("img => img.complete && img.naturalWidth > 0")
            shots.take(page, "price-chart")
        finally:
            browser.close()
