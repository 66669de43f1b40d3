"""A run waiting for a pool slot, said on the main command's screen: which pool, who holds it,
and for how long.

A step whose pool is full waits in silence: Dagster logs "Step blocked by limit for pool
alphavantage" in the run's event log, and the screen shows nothing moving. While a run executes,
a thread asks the instance every `poll` seconds whether one of the run's steps waits for a slot;
once it has waited `after` seconds it says so, again every `every` seconds, and once it got the
slot it says how long that took.
"""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import dagster as dg

from stock_assets.listing import first_few


def _waiting(instance: dg.DagsterInstance, run_id: str) -> tuple[str, float, str] | None:
    """(pool, seconds waited, who holds it) if a step of the run waits for a slot now."""
    storage = instance.event_log_storage
    for pool in sorted(storage.get_concurrency_keys()):
        info = storage.get_concurrency_info(pool)
        for step in info.pending_steps:
            if step.run_id == run_id and step.assigned_timestamp is None:
                enqueued = step.enqueued_timestamp
                if enqueued.tzinfo is None:  # the storages keep UTC without a zone
                    enqueued = enqueued.replace(tzinfo=UTC)
                waited = (datetime.now(UTC) - enqueued).total_seconds()
                holders = sorted({slot.run_id[:8] for slot in info.claimed_slots})
                held = (f"{len(info.claimed_slots)} of {info.slot_count} slots taken"
                        + (f" by run {first_few(holders, 3)}" if holders else ""))
                return pool, max(waited, 0.0), held
    return None


@contextmanager
def saying_pool_waits(
    instance: dg.DagsterInstance, run_id: str, say: Callable[[str], None], *,
    poll: float = 1.0, after: float = 5.0, every: float = 30.0,
) -> Iterator[None]:
    """While the block runs the run `run_id`, say when and how long it waits for a pool slot."""
    stop = threading.Event()

    def watch() -> None:
        said_at: float | None = None  # seconds waited when last said
        pool, waited = "", 0.0
        while not stop.wait(poll):
            found = _waiting(instance, run_id)
            if found is not None:
                pool, waited, held = found
                if waited >= after and (said_at is None or waited - said_at >= every):
                    say(f"  waiting {waited:.0f}s for a slot in pool {pool} ({held}; "
                        f"`dagster instance concurrency get {pool}` lists them)")
                    said_at = waited
            elif said_at is not None:
                say(f"  got a slot in pool {pool} after waiting about {waited:.0f}s")
                said_at = None

    watcher = threading.Thread(target=watch, name="pool-wait", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join()
