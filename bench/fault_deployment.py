"""The deployments the fault campaign runs `stock-assets materialize` in: the loopback Alpha
Vantage and moto's S3, shared, and per row a `FaultProxy` in front of each, a fresh DAGSTER_HOME,
object store and database (a local folder and SQLite, or S3 and a throwaway PostgreSQL
database), so rows may run side by side.

The command runs as a user runs it, in a subprocess with the environment a deployment sets.
"""

import functools
import os
import re
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import boto3
import sqlalchemy as sa

from bench.fault_proxy import FaultProxy
from bench.loopback import ChildServer, MotoService
from bench.pipeline_harness import throwaway_database
from stock_assets.alphavantage.sample_server import SampleServer
from stock_assets.storage.local import LocalFolderStore
from stock_assets.storage.objects import ObjectStore
from stock_assets.storage.s3 import S3Store
from stock_assets_tests.environments import loopback_api, nothing_set

STOCK_ASSETS = str(Path(sys.executable).with_name("stock-assets"))
POSTGRES_SERVER = os.environ.get(
    "STOCK_ASSETS_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BUCKET = "faults"
REQUEST_DEADLINE_SECONDS = 3  # Alpha Vantage's, per request: stalls and drips end soon
MOTO_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
LOCAL, S3_POSTGRES = "local+sqlite", "s3+postgres"


class Servers:
    """The upstreams, shared by every row of a campaign; moto's only once a row asks for S3."""

    def __init__(self, stack: ExitStack):
        self._stack = stack
        self.api = stack.enter_context(SampleServer())

    @functools.cached_property
    def moto(self) -> ChildServer:
        moto = ChildServer(MotoService)
        self._stack.callback(moto.stop)
        return moto

    @functools.cached_property
    def s3(self):
        client = boto3.client("s3", endpoint_url=self.moto.url, region_name="us-east-1",
                              **MOTO_CREDENTIALS)
        client.create_bucket(Bucket=BUCKET)
        return client


@dataclass(frozen=True)
class CliRun:
    """One `stock-assets materialize`: its exit code, what it printed, and how long it took."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def line(self, symbol: str) -> str:
        """The symbol's one line ("ok (…)" or "FAILED (…): message"), without its number."""
        match = re.search(rf"^\[\d+/\d+\] {symbol}: (.*)$", self.stdout, re.MULTILINE)
        return match[1] if match else f"(no line for {symbol}; exit {self.returncode})"

    def retry(self, symbol: str) -> str | None:
        """The first retry the client logged for the symbol (shown with --verbose), if any."""
        for line in self.stderr.splitlines():
            if line.startswith(f"{symbol}: ") and "retrying" in line:
                return line
        return None


class Deployment:
    """One row's deployment: its own DAGSTER_HOME, object store and database."""

    def __init__(self, servers: Servers, backend: str, folder: Path, stack: ExitStack):
        folder.mkdir(parents=True)
        self.folder = folder
        self.api_proxy = stack.enter_context(FaultProxy(servers.api.url))
        self.s3_proxy: FaultProxy | None = None
        home = folder / "dagster_home"
        home.mkdir()
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        self.env = {
            **nothing_set("AWS_"),
            **loopback_api(self.api_proxy.url, "fault-campaign-key"),
            "ALPHAVANTAGE_REQUEST_DEADLINE_SECONDS": str(REQUEST_DEADLINE_SECONDS),
            "STOCK_ASSETS_DATA_DIR": str(folder / "data"),
            "DAGSTER_HOME": str(home),
        }
        if backend == LOCAL:
            self.database_url = f"sqlite:///{folder / 'prices.sqlite'}"
            self.store: ObjectStore = LocalFolderStore(folder / "objects")
            storage_url = str(folder / "objects")
        else:
            self.database_url = stack.enter_context(throwaway_database(POSTGRES_SERVER))
            self.s3_proxy = stack.enter_context(FaultProxy(servers.moto.url, s3=True))
            prefix = folder.name
            self.store = S3Store(servers.s3, BUCKET, prefix)
            storage_url = f"s3://{BUCKET}/{prefix}"
            self.env.update({
                "AWS_ENDPOINT_URL": self.s3_proxy.url,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",  # moto's
                "AWS_DEFAULT_REGION": "us-east-1",
            })
        self.env.update({
            "STOCK_ASSETS_STORAGE_URL": storage_url,
            "STOCK_ASSETS_DATABASE_URL": self.database_url,
        })
        self.engine = sa.create_engine(self.database_url)
        stack.callback(self.engine.dispose)

    def materialize(self, symbols: list[str]) -> CliRun:
        """`stock-assets materialize --verbose SYMBOLS…` with the watchlist being `symbols`."""
        env = {**self.env, "STOCK_ASSETS_SYMBOLS": ",".join(symbols)}
        started = time.perf_counter()
        result = subprocess.run(
            [STOCK_ASSETS, "materialize", "--verbose", *symbols], env=env, cwd=self.folder,
            capture_output=True, text=True, timeout=900,
        )
        seconds = time.perf_counter() - started
        return CliRun(result.returncode, result.stdout, result.stderr, seconds)
