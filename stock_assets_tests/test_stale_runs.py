"""A main command killed while it fetches leaves its pool slot taken; the next one frees it."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from stock_assets.instance import project_instance
from stock_assets.stale_runs import HOST_TAG, PID_TAG, free_stale_slots, process_tags
from stock_assets_tests.environments import loopback_api, nothing_set
from stock_assets_tests.test_cli import STOCK_ASSETS


def instance_of(project_dir):
    """The instance the main command uses when run in `project_dir` with nothing set."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("DAGSTER_HOME", raising=False)
        patch.delenv("STOCK_ASSETS_DATA_DIR", raising=False)
        patch.chdir(project_dir)
        return project_instance()


def killed_while_fetching(command: list[str], env: dict, cwd, server) -> subprocess.Popen:
    """`command` started, then SIGKILLed once AAPL's request reached `server` (its slot held)."""
    killed = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while not any(a.symbol == "AAPL" for a in server.arrivals()):
        assert time.monotonic() < deadline and killed.poll() is None, killed.stdout.read()
        time.sleep(0.1)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    return killed


DAGSTER = str(Path(sys.executable).with_name("dagster"))
KILLED_COMMANDS = {
    "the main command": [STOCK_ASSETS, "materialize", "AAPL"],
    # No tag of ours on its run: the process id Dagster's executor recorded finds it gone.
    "dagster asset materialize": [DAGSTER, "asset", "materialize", "-m",
                                  "stock_assets.definitions", "--select", "raw_quotes",
                                  "--partition", "AAPL"],
}


@pytest.mark.parametrize("command", sorted(KILLED_COMMANDS))
def test_a_run_killed_mid_fetch_does_not_block_the_next_one(tmp_path, sample_server, command):
    """Issue 16: after a SIGKILL during a fetch, `dagster instance concurrency get alphavantage`
    said "1 / 1 slots occupied" and every later run waited forever."""
    shutil.copy(Path(__file__).resolve().parents[1] / "dagster.yaml", tmp_path)  # as from the root
    sample_server.slow_seconds = 30.0
    sample_server.fail("AAPL", "slow")
    env = {**nothing_set(), **loopback_api(sample_server.url, "test-key")}
    killed = killed_while_fetching(KILLED_COMMANDS[command], env, tmp_path, sample_server)

    with instance_of(tmp_path) as instance:
        held = instance.event_log_storage.get_concurrency_info("alphavantage")
        assert held.active_slot_count == 1  # what the kill left behind
        [stale] = instance.get_run_ids()

    result = subprocess.run([STOCK_ASSETS, "materialize", "MSFT"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (f"note: freed the pool slots of run {stale[:8]}: process {killed.pid} is gone; "
            "the run is marked failed") in result.stdout
    assert "1 of 1 symbols materialized" in result.stdout
    with instance_of(tmp_path) as instance:
        assert instance.get_run_by_id(stale).status == dg.DagsterRunStatus.FAILURE
        info = instance.event_log_storage.get_concurrency_info("alphavantage")
        assert info.active_slot_count == 0


def holding_a_slot(instance, status: dg.DagsterRunStatus, tags: dict) -> str:
    run = instance.create_run_for_job(
        dg.GraphDefinition("nothing").to_job(), status=status, tags=tags
    )
    instance.event_log_storage.set_concurrency_slots("alphavantage", 1)
    instance.event_log_storage.claim_concurrency_slot("alphavantage", run.run_id, "raw_quotes")
    return run.run_id


def test_slots_of_ended_runs_are_freed_and_those_of_live_or_foreign_ones_kept():
    with dg.instance_for_test() as instance:
        ended = holding_a_slot(instance, dg.DagsterRunStatus.SUCCESS, {})
        assert free_stale_slots(instance) == [
            f"freed the pool slots of run {ended[:8]}: the run has ended"
        ]
        live = holding_a_slot(instance, dg.DagsterRunStatus.STARTED, process_tags())
        elsewhere = holding_a_slot(instance, dg.DagsterRunStatus.STARTED,
                                   {HOST_TAG: "another-pod", PID_TAG: "999999999"})
        untagged = holding_a_slot(instance, dg.DagsterRunStatus.STARTED, {})
        assert free_stale_slots(instance) == []
        assert instance.event_log_storage.get_concurrency_run_ids() == {live, elsewhere, untagged}
