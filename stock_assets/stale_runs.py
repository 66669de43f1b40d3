"""Runs whose process is gone, found and closed so that their pool slots come free.

A run holds its `alphavantage` pool slot while its fetch step runs. A process killed then
(SIGKILL, the OOM killer, an evicted pod) never gives it back: the run stays "started" and every
later run waits for the slot forever ("Step blocked by limit for pool alphavantage"). Dagster's
run monitoring (`dagster.yaml`, for the daemon) frees the slots of runs that ended. The next
`stock-assets materialize` on the host finds runs whose process is gone, marks them failed and
frees what they held: a run of its own carries its host and process as tags; any other run
(`dagster asset materialize`, a run `dagster dev` launched) is judged by the process id Dagster's
executor recorded when it started the steps, and only on an instance kept in SQLite files, which
lives on this host.
"""

import os
import socket

import dagster as dg

from stock_assets.settings import dagster_postgres_url

HOST_TAG = "stock_assets/host"
PID_TAG = "stock_assets/pid"


def process_tags() -> dict[str, str]:
    """Tags that say which process runs a run: this one."""
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}


def _executor_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The process Dagster's executor ran the run's steps in ("Executing steps in process
    (pid: N)"), as the run's event log records it."""
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, limit=20
    ).records
    for record in records:
        event = record.event_log_entry.dagster_event
        metadata = getattr(event.event_specific_data, "metadata", None) or {}
        pid = getattr(metadata.get("pid"), "value", None)
        if isinstance(pid, str) and pid.isdigit():
            return int(pid)
    return None


def _process_of(instance: dg.DagsterInstance, run: dg.DagsterRun) -> int | None:
    """The id of the run's process if it ran on this host (never guessed for other hosts)."""
    if HOST_TAG in run.tags:
        pid = run.tags.get(PID_TAG, "")
        return int(pid) if run.tags[HOST_TAG] == socket.gethostname() and pid.isdigit() else None
    if dagster_postgres_url() is not None:  # a shared instance: its runs may be anywhere
        return None
    return _executor_pid(instance, run.run_id)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
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
            pid = _process_of(instance, run)
            if pid is None or not _gone(pid):
                continue
            instance.report_run_failed(
                run, f"its process {pid} on {socket.gethostname()} is gone (killed mid-run); "
                "its pool slots are freed"
            )
            why = f"process {pid} is gone; the run is marked failed"
        else:
            why = "the run has ended"
        instance.event_log_storage.free_concurrency_slots_for_run(run_id)
        freed.append(f"freed the pool slots of run {run_id[:8]}: {why}")
    return freed
