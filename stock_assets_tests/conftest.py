"""The real parts every test may use: Postgres, an S3 server (moto, over HTTP) and a loopback
Alpha Vantage-compatible server. Nothing here is mocked in-process."""

import os
import signal
import uuid
from collections.abc import Callable, Iterator

import boto3
import dagster as dg
import pytest
import sqlalchemy as sa
from moto.server import ThreadedMotoServer

from stock_assets.alphavantage.api_client import AlphaVantageAPIClient
from stock_assets.alphavantage.sample_server import SampleServer
from stock_assets.database.migrations import ensure_schema
from stock_assets_tests.helpers import free_port

pytest_plugins = ["pytester", "stock_assets_tests.leftovers"]

# A suite started in the background of a script (`scripts/test &`) inherits SIGINT ignored, and
# so would every server a test starts: `dg dev` would not stop on Ctrl-C, and Dagster's code
# server, which maps SIGTERM to its SIGINT handler, not on SIGTERM either. Tests stop their
# servers as a user does, so the suite restores the default.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

POSTGRES_ADMIN_URL = os.environ.get(
    "STOCK_ASSETS_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


# The longest tests first (the README's fresh clone, then every other slow one), so the workers
# start them at once and finish together instead of one worker running them at the end.
_LONGEST_FIRST = ("test_readme.py::test_readme_commands_work_verbatim",)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: one worker more than the cores, since the slow tests spend much of their time
    waiting on servers and subprocesses (on 2 cores: 6 min 43 s with 3 workers, 7 min 33 s
    with 2)."""
    return (os.cpu_count() or 1) + 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        if any(name in item.nodeid for name in _LONGEST_FIRST):
            return 0
        return 1 if item.get_closest_marker("slow") else 2

    items.sort(key=rank)


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """The admin URL of the local server; an unreachable server fails the run, never skips."""
    engine = sa.create_engine(POSTGRES_ADMIN_URL)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL is required at {POSTGRES_ADMIN_URL} and is unreachable: {exc}")
    finally:
        engine.dispose()
    return POSTGRES_ADMIN_URL


@pytest.fixture(scope="session")
def make_postgres_database(postgres_server_url: str) -> Iterator:
    """Factory of uniquely named databases, all dropped at the end of the session."""
    admin = sa.create_engine(postgres_server_url, isolation_level="AUTOCOMMIT")
    created: list[str] = []

    def make() -> str:
        name = f"stock_assets_test_{uuid.uuid4().hex[:12]}"
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return (
            sa.make_url(postgres_server_url)
            .set(database=name)
            .render_as_string(hide_password=False)
        )

    yield make
    with admin.connect() as connection:
        for name in created:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def postgres_url(make_postgres_database) -> str:
    """One migrated database for the session's Postgres tests."""
    url = make_postgres_database()
    engine = sa.create_engine(url)
    ensure_schema(engine)
    engine.dispose()
    return url


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[sa.Engine]:
    """An engine on the session database, with `daily_prices` emptied before the test."""
    engine = sa.create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(sa.text("TRUNCATE daily_prices"))
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's S3 server on a free loopback port; boto3 reaches it through AWS_ENDPOINT_URL."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    saved = {k: os.environ.get(k) for k in _AWS_ENV}
    os.environ.update({**_AWS_ENV, "AWS_ENDPOINT_URL": endpoint})
    yield endpoint
    server.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ENDPOINT_URL": "",
}


@pytest.fixture
def s3_client(moto_endpoint: str):
    return boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")


@pytest.fixture
def s3_bucket(s3_client) -> str:
    """A fresh bucket per test."""
    name = f"stock-assets-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def sample_server() -> Iterator[SampleServer]:
    """The loopback Alpha Vantage-compatible server over the bundled sample."""
    with SampleServer() as server:
        yield server


@pytest.fixture
def make_client(sample_server: SampleServer) -> Callable[..., AlphaVantageAPIClient]:
    """Clients of the loopback server; keyword arguments override the fast test defaults (retries
    with millisecond backoff and no budget, so fault tests stay quick)."""

    def make(**overrides) -> AlphaVantageAPIClient:
        options = {
            "api_key": "test-key",
            "base_url": sample_server.url,
            "budget": None,
            "attempts": 3,
            "backoff_seconds": 0.001,
        }
        return AlphaVantageAPIClient(**{**options, **overrides})

    return make


@pytest.fixture(params=["local", "s3+postgres"])
def backend(request, tmp_path) -> dict:
    """Where objects and the table go, as `loopback_resources` overrides: the embedded defaults
    (a folder, SQLite) or the production path (moto's S3 server, a fresh PostgreSQL database)."""
    if request.param == "local":
        return {}
    bucket = request.getfixturevalue("s3_bucket")
    return {
        "storage_url": f"s3://{bucket}/prices",
        "database_url": request.getfixturevalue("make_postgres_database")(),
    }


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    """A throwaway Dagster instance, to read runs, tags and events back."""
    with dg.instance_for_test() as instance:
        yield instance
