"""Runs whose process is gone, found and closed so that their pool slots come free.

A run holds its `alphavantage` pool slot while its fetch step runs. A process killed then
(SIGKILL, the OOM killer, an evicted pod) never gives it back: the run stays "started" and every
later run waits for the slot forever ("Step blocked by limit for pool alphavantage"). Dagster's
run monitoring (`dagster.yaml`, for the daemon) frees the slots of runs that ended; a run of the
main command also carries the host and process it runs in, so the next invocation on that host
sees that the process is gone, marks the run failed and frees what it held.
"""

import os
import socket

import dagster as dg

HOST_TAG = "stock_assets/host"
PID_TAG = "stock_assets/pid"


def process_tags() -> dict[str, str]:
    """Tags that say which process runs a run: this one."""
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}


def _process_gone(run: dg.DagsterRun) -> bool:
    """The run's process was on this host and is no longer there (never guessed for others)."""
    if run.tags.get(HOST_TAG) != socket.gethostname() or not run.tags.get(PID_TAG, "").isdigit():
        return False
    try:
        os.kill(int(run.tags[PID_TAG]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False


def free_stale_slots(instance: dg.DagsterInstance) -> list[str]:
    """Free the pool slots of runs that ended, or whose process is gone (failing those runs);
    one line per run freed, saying why."""
    freed = []
    for run_id in sorted(instance.event_log_storage.get_concurrency_run_ids()):
        run = instance.get_run_by_id(run_id)
        if run is not None and not run.is_finished:
            if not _process_gone(run):
                continue
            instance.report_run_failed(
                run, f"its process {run.tags[PID_TAG]} on {run.tags[HOST_TAG]} is gone (killed "
                "mid-run); its pool slots are freed"
            )
            why = f"process {run.tags[PID_TAG]} is gone; the run is marked failed"
        else:
            why = "the run has ended"
        instance.event_log_storage.free_concurrency_slots_for_run(run_id)
        freed.append(f"freed the pool slots of run {run_id[:8]}: {why}")
    return freed
