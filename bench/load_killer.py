"""Kill a PostgreSQL load mid-transaction: `pg_terminate_backend`, from a connection of its own,
on the backend that is copying rows into `daily_prices`.

A load's transaction (`stock_assets.warehouse.load`) takes its advisory locks, reads the
symbols' last stored days, then copies (or merges) its rows in. A first load's COPY of a few
thousand rows lasts milliseconds, too short to catch reliably by polling; so once the table
exists the killer holds it in SHARE mode (reads go on, writes wait), and the next load waits in
its COPY, mid-transaction, where the killer finds it in `pg_stat_activity` and terminates it.
The lock is let go at once, so the loads after it run as usual.
"""

import threading

import psycopg
import sqlalchemy as sa

_WRITING = """
SELECT pid, state, wait_event_type, left(regexp_replace(query, '\\s+', ' ', 'g'), 60)
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL
  AND query ~* '^(COPY|INSERT INTO|UPDATE|DELETE FROM|MERGE INTO) daily_prices'
LIMIT 1
"""


class LoadKiller:
    """Terminates the first backend it finds writing `daily_prices` at `url` (once)."""

    def __init__(self, url: str, *, poll_seconds: float = 0.005):
        self.conninfo = sa.make_url(url).set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        self.poll_seconds = poll_seconds
        self.killed: list[str] = []  # "pid 123 in COPY daily_prices … (active, Lock)"
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def start(self) -> "LoadKiller":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=10)

    def __enter__(self) -> "LoadKiller":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _wait(self) -> bool:
        """Sleep a poll's time; False once stopped."""
        return not self._stopped.wait(self.poll_seconds)

    def _watch(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as watcher, \
                psycopg.connect(self.conninfo) as holder:
            while watcher.execute("SELECT to_regclass('daily_prices')").fetchone()[0] is None:
                if not self._wait():
                    return
            holder.execute("LOCK TABLE daily_prices IN SHARE MODE")
            try:
                self._terminate_a_writer(watcher)
            finally:
                holder.rollback()

    def _terminate_a_writer(self, watcher: psycopg.Connection) -> None:
        while self._wait():
            found = watcher.execute(_WRITING).fetchone()
            if found is None:
                continue
            pid, state, waiting, query = found
            if watcher.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]:
                self.killed.append(f"pid {pid} in {query.strip()}… ({state}, {waiting})")
                return
