"""A run blocked on a pool says so on the main command's screen, and for how long."""

import re
import subprocess
import time

import dagster as dg

from stock_assets.stale_runs import process_tags
from stock_assets_tests.environments import loopback_api, nothing_set
from stock_assets_tests.test_cli import STOCK_ASSETS
from stock_assets_tests.test_stale_runs import holding_a_slot, instance_of


def test_a_run_blocked_on_a_pool_says_so_and_for_how_long(tmp_path, sample_server):
    """Issue 16: a run waiting for the `alphavantage` slot showed nothing on screen; the wait
    was only in the event log ("Step blocked by limit for pool alphavantage")."""
    with instance_of(tmp_path) as instance:  # a live run (this process) holds the only slot
        holder = holding_a_slot(instance, dg.DagsterRunStatus.STARTED, process_tags())
    env = {**nothing_set(), **loopback_api(sample_server.url, "test-key")}
    blocked = subprocess.Popen([STOCK_ASSETS, "materialize", "AAPL"], env=env, cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []
    deadline = time.monotonic() + 120
    while not any("waiting" in line for line in seen):
        line = blocked.stdout.readline()
        assert line and time.monotonic() < deadline, "".join(seen)
        seen.append(line)
    assert re.fullmatch(
        rf"  waiting \d+s for a slot in pool alphavantage \(1 of 1 slots taken by run "
        rf"{holder[:8]}; `dagster instance concurrency get alphavantage` lists them\)\n",
        seen[-1],
    ), seen[-1]

    with instance_of(tmp_path) as instance:  # the holder ends: the slot comes free
        instance.event_log_storage.free_concurrency_slots_for_run(holder)
    rest, _ = blocked.communicate(timeout=120)
    assert blocked.returncode == 0, "".join(seen) + rest
    assert re.search(r"^  got a slot in pool alphavantage after waiting about \d+s$", rest, re.M)
    assert "1 of 1 symbols materialized" in rest
