"""The project configured as a deployment would configure it, on servers of its own: the loopback
Alpha Vantage and moto's S3 in child processes, throwaway Postgres databases, a fresh
DAGSTER_HOME; and the `refresh_all` runs measured on them (see `bench.end_to_end`)."""

import argparse
import cProfile
import importlib
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import boto3
import dagster as dg
import pandas as pd
import sqlalchemy as sa

from bench.loopback import ChildServer, MotoService, SampleService
from bench.run_report import RssSampler, Run, write_profile
from bench.synthetic_sample import SyntheticSample, last_session_before
from stock_assets.alphavantage.api import DAILY
from stock_assets.asset_keys import RAW_QUOTES_KEY
from stock_assets.storage.formats import get_format
from stock_assets.trading_calendar import sessions_between

BUCKET, PREFIX = "bench", "bench"
RUN_CONFIG = {  # the definitions' executor is in-process already
    "loggers": {"console": {"config": {"log_level": "WARNING"}}},
}


@contextmanager
def throwaway_database(server_url: str) -> Iterator[str]:
    """A new database on the server, dropped (connections and all) on the way out."""
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"stock_assets_bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def refresh_all_job() -> dg.JobDefinition:
    """The job a deployment runs; imported only once the environment is configured."""
    return importlib.import_module("stock_assets.definitions").defs.resolve_job_def("refresh_all")


class EndToEnd:
    """The configured project, its servers and the runs measured on them."""

    def __init__(self, args: argparse.Namespace, work: Path, stack: ExitStack):
        self.args = args
        today = datetime.now(UTC).date()
        self.last_session = last_session_before(today)
        self.first_load_day = sessions_between(date(today.year - 1, 1, 1), self.last_session)[
            -2
        ].date()
        self.sample = SyntheticSample(args.symbols, seed=args.seed, last_session=self.last_session)
        self.symbols = self.sample.symbols
        started = time.perf_counter()
        self.api = ChildServer(SampleService, args.symbols, self.last_session, args.seed)
        stack.callback(self.api.stop)
        self.s3 = ChildServer(MotoService)
        stack.callback(self.s3.stop)
        self.database_url = stack.enter_context(throwaway_database(args.server))
        self.instance_url = None
        if args.instance == "postgres":
            url = sa.make_url(stack.enter_context(throwaway_database(args.server)))
            self.instance_url = url.set(drivername="postgresql+psycopg2").render_as_string(False)
        self.work = work
        self.configure()
        self.s3_client = boto3.client("s3", endpoint_url=self.s3.url, region_name="us-east-1")
        self.s3_client.create_bucket(Bucket=BUCKET)
        print(f"servers up in {time.perf_counter() - started:.1f} s: Alpha Vantage {self.api.url}, "
              f"S3 {self.s3.url}, database {sa.make_url(self.database_url).database}")
        definitions = importlib.import_module("stock_assets.definitions")
        self.settings = definitions.settings
        self.job = dg.reconstructable(refresh_all_job)
        self.instance = stack.enter_context(dg.DagsterInstance.get())
        self.engine = sa.create_engine(self.database_url)
        stack.callback(self.engine.dispose)

    def configure(self) -> None:
        """The project's whole configuration, as a deployment would set it."""
        home = self.work / "dagster_home"
        home.mkdir()
        storage = ""
        if self.instance_url is not None:
            storage = f"storage:\n  postgres:\n    postgres_url: {self.instance_url}\n"
        (home / "dagster.yaml").write_text(f"telemetry:\n  enabled: false\n{storage}")
        os.environ.update({
            "STOCK_ASSETS_SYMBOLS": ",".join(self.symbols),
            "ALPHAVANTAGE_API_KEY": "bench-key",
            "ALPHAVANTAGE_BASE_URL": self.api.url,
            "ALPHAVANTAGE_REQUESTS_PER_SECOND": "0",
            "ALPHAVANTAGE_REQUESTS_PER_MINUTE": "0",
            "ALPHAVANTAGE_REQUESTS_PER_DAY": "0",
            "STOCK_ASSETS_STORAGE_URL": f"s3://{BUCKET}/{PREFIX}",
            "STOCK_ASSETS_DATABASE_URL": self.database_url,
            "STOCK_ASSETS_DATA_DIR": str(self.work / "data"),
            "DAGSTER_HOME": str(home),
            "AWS_ENDPOINT_URL": self.s3.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",  # moto's
            "AWS_DEFAULT_REGION": "us-east-1",
        })
        if self.args.max_concurrent is not None:
            os.environ["ALPHAVANTAGE_MAX_CONCURRENT_REQUESTS"] = str(self.args.max_concurrent)

    def serve(self, as_of: date, outputsize: str, latency: float = 0.0) -> None:
        seconds = self.api.call("prepare", as_of, [outputsize])
        self.api.call("set_latency", latency)
        self.api.call("clear")
        print(f"  (answers as of {as_of}, {outputsize}, rendered ahead in {seconds:.1f} s; "
              f"server latency {latency * 1000:.0f} ms)")

    def run(self, name: str, *, only_raw_quotes: bool = False, profile: str | None = None) -> Run:
        options = {
            "instance": self.instance,
            "tags": {
                "dagster/asset_partition_range_start": self.symbols[0],
                "dagster/asset_partition_range_end": self.symbols[-1],
            },
            "run_config": RUN_CONFIG,
            "asset_selection": [RAW_QUOTES_KEY] if only_raw_quotes else None,
            "raise_on_error": True,
        }
        profiler = cProfile.Profile() if profile else None
        sampler = RssSampler()
        sampler.start()
        started = time.perf_counter()
        try:
            if profiler is not None:
                result = profiler.runcall(dg.execute_job, self.job, **options)
            else:
                result = dg.execute_job(self.job, **options)
        finally:
            seconds = time.perf_counter() - started
            samples = sampler.stop()
        if profiler is not None and profile is not None:
            write_profile(profiler, f"{profile}.prof")
        return Run(name, seconds, result, self.api.call("arrivals"), samples)

    def table_rows(self) -> int:
        with self.engine.connect() as connection:
            return connection.execute(sa.text("SELECT count(*) FROM daily_prices")).scalar_one()

    def served_rows(self, as_of: date) -> int:
        """Rows of all full histories as of that day."""
        self.sample.as_of = as_of
        return sum(len(self.sample(DAILY, s)["Time Series (Daily)"]) for s in self.symbols)

    def cleaned_histories(self) -> dict[str, pd.DataFrame]:
        """The stored cleaned histories, decoded as the IO manager decodes them."""
        parquet = get_format("parquet")
        histories = {}
        for symbol in self.symbols:
            key = f"{PREFIX}/cleaned_daily_prices/{symbol}.parquet"
            data = self.s3_client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
            histories[symbol] = parquet.decode(data, as_frame=True)
        return histories


