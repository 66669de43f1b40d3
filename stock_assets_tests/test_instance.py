"""The Dagster instance for real: dagster.yaml on the embedded SQLite default and on Postgres, and
`dagster-daemon` on a throwaway Postgres database running the schedule, the sensors and the
automation until the refreshed symbols reach the table."""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from stock_assets.ingest.assets import REFRESH_RAW_QUOTES
from stock_assets.partitions import RANGE_END_TAG, RANGE_START_TAG

PROJECT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SYMBOLS = ["AAPL", "MSFT", "IBM", "GOOG", "FB"]


def _dagster_home(tmp_path: Path) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT / "dagster.yaml", home / "dagster.yaml")
    return home


def _instance(home: Path, env: dict[str, str]) -> dg.DagsterInstance:
    """The instance `dagster.yaml` describes, in this process, under the test's environment."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return dg.DagsterInstance.from_config(str(home))
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_without_postgres_settings_the_instance_is_sqlite_under_dagster_home(tmp_path):
    home = _dagster_home(tmp_path)
    with _instance(home, {"DAGSTER_HOME": str(home), "DAGSTER_PG_URL": "",
                          "DAGSTER_PG_HOST": ""}) as instance:
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"
        assert type(instance.event_log_storage).__name__ == "SqliteEventLogStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        pools = instance.get_concurrency_config().pool_config
        assert pools.default_pool_limit == 1
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 4
    assert (home / "history" / "runs.db").is_file()


def test_dagster_pg_variables_put_runs_events_and_schedules_in_postgres(
    tmp_path, make_postgres_database
):
    url = sa.make_url(make_postgres_database())
    home = _dagster_home(tmp_path)
    env = {
        "DAGSTER_HOME": str(home), "DAGSTER_PG_URL": "", "DAGSTER_PG_HOST": url.host,
        "DAGSTER_PG_PORT": str(url.port), "DAGSTER_PG_USERNAME": url.username,
        "DAGSTER_PG_DB": url.database,
    }
    with _instance(home, env) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
    engine = sa.create_engine(url.set(drivername="postgresql+psycopg"))
    tables = sa.inspect(engine).get_table_names()
    engine.dispose()
    assert {"runs", "event_logs", "jobs", "job_ticks"} <= set(tables)
    assert not (home / "history").exists()


def _wait_for(what: str, predicate, timeout: float, process: subprocess.Popen, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if process.poll() is not None:
            pytest.fail(f"dagster-daemon exited ({process.returncode}) while waiting for {what}:\n"
                        + log.read_text()[-4000:])
        time.sleep(2)
    pytest.fail(f"timed out waiting for {what}; daemon log tail:\n" + log.read_text()[-4000:])


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to the daemon's whole process group (code server, run workers), then SIGKILL to
    what is left after a grace. The grace is for the whole group, not the daemon alone: the run
    workers' multiprocessing resource tracker ignores SIGTERM and unlinks their semaphores in
    /dev/shm only once the workers are gone; killed before that, it leaves them there."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=30)
    deadline = time.monotonic() + 30
    while _group_members(process.pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def _group_alive(pgid: int) -> list[str]:
    """Processes (pid, state, command) still in the process group, after a short grace."""
    for _ in range(20):
        alive = _group_members(pgid)
        if not alive:
            return []
        time.sleep(0.5)
    return alive


def _group_members(pgid: int) -> list[str]:
    alive = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                alive.append(f"{entry.name} {fields[0]} {command}")
    return alive


@pytest.fixture
def socket_folder() -> Iterator[Path]:
    """The daemon's TMPDIR, removed after it: Dagster never unlinks the sockets of the code
    servers it starts, and a socket's path must fit in 107 bytes, which tmp_path's may not."""
    with tempfile.TemporaryDirectory(prefix="daemon-") as folder:
        yield Path(folder)


@pytest.mark.slow
def test_the_daemon_on_postgres_runs_the_schedule_and_the_rest_follows(
    tmp_path, socket_folder, make_postgres_database, sample_server
):
    """A test cron fires once a minute: one run refreshes all five symbols, the automation
    sensor carries them to the table, the other sensors tick, and the runs live in Postgres."""
    instance_url = make_postgres_database()
    warehouse_url = make_postgres_database()
    home = _dagster_home(tmp_path)
    env = {
        **os.environ,
        "TMPDIR": str(socket_folder),
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_URL": sa.make_url(instance_url).set(drivername="postgresql")
        .render_as_string(hide_password=False),
        "STOCK_ASSETS_DATA_DIR": str(tmp_path / "data"),
        "STOCK_ASSETS_DATABASE_URL": warehouse_url,
        "STOCK_ASSETS_REFRESH_CRON": "* * * * *",
        "STOCK_ASSETS_REFRESH_TRADING_DAYS_ONLY": "false",
        "ALPHAVANTAGE_API_KEY": "daemon-test-key",
        "ALPHAVANTAGE_BASE_URL": sample_server.url,
        "ALPHAVANTAGE_REQUESTS_PER_SECOND": "0",
        "ALPHAVANTAGE_REQUESTS_PER_MINUTE": "0",
        "ALPHAVANTAGE_REQUESTS_PER_DAY": "0",
    }
    for key in ("STOCK_ASSETS_SYMBOLS", "STOCK_ASSETS_STORAGE_URL", "STOCK_ASSETS_ALERT_WEBHOOK"):
        env.pop(key, None)
    workspace = ["-w", str(PROJECT / "workspace.yaml")]
    subprocess.run(
        [BIN / "dagster", "schedule", "start", "refresh_after_close", *workspace],
        env=env, cwd=PROJECT, check=True, capture_output=True, timeout=180,
    )
    log = tmp_path / "daemon.log"
    with log.open("wb") as out:
        daemon = subprocess.Popen(
            [BIN / "dagster-daemon", "run", *workspace], env=env, cwd=PROJECT,
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        with _instance(home, env) as instance:
            def scheduled_runs():
                return [
                    r for r in instance.get_runs(
                        dg.RunsFilter(job_name=REFRESH_RAW_QUOTES,
                                      tags={"dagster/schedule_name": "refresh_after_close"})
                    ) if r.status == dg.DagsterRunStatus.SUCCESS
                ]

            [scheduled, *_] = _wait_for("a scheduled run to succeed", scheduled_runs, 300,
                                        daemon, log)
            assert (scheduled.tags[RANGE_START_TAG], scheduled.tags[RANGE_END_TAG]) == (
                "AAPL", "FB"
            )

            warehouse = sa.create_engine(warehouse_url)

            def loaded_symbols():
                with warehouse.connect() as connection:
                    symbols = connection.execute(
                        sa.text("SELECT DISTINCT symbol FROM daily_prices")
                    ).scalars().all() if sa.inspect(connection).has_table("daily_prices") else []
                return sorted(symbols) == sorted(SYMBOLS)

            _wait_for("the automation to load every symbol into the table", loaded_symbols, 420,
                      daemon, log)
            warehouse.dispose()

            ticked = {}
            for state in instance.all_instigator_state():
                ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id)
                ticked[state.instigator_name] = len(ticks)
            assert ticked.get("refresh_after_close", 0) >= 1
            assert ticked.get("quota_reset_sensor", 0) >= 1
            assert ticked.get("follow_upstream", 0) >= 1
            failed = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))
            assert failed == []
    finally:
        _stop(daemon)
    assert _group_alive(daemon.pid) == []

    runs_in_postgres = sa.create_engine(instance_url)
    with runs_in_postgres.connect() as connection:
        jobs = connection.execute(sa.text("SELECT DISTINCT pipeline_name FROM runs")).scalars()
        assert REFRESH_RAW_QUOTES in set(jobs)
    runs_in_postgres.dispose()
    assert not (home / "history").exists()
