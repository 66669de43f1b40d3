"""Scaling out (docs/deploy.md, "Scaling out"): a universe split into batch runs, each its own
process as each is its own pod on Kubernetes, all drawing on one request budget in Postgres.

Four runs of `dagster asset materialize --partition-range`, one per batch of five symbols,
start at once against one Dagster instance and one warehouse (Postgres), one bucket (moto's S3
server) and the loopback Alpha Vantage in a process of its own, at 1 request a second, with the
`alphavantage` pool raised to 4 as the section says, so the four fetch steps run together.
"""

import itertools
import shutil
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.loopback import ChildServer, SampleService
from bench.rate_limits import windows_over_limit
from bench.synthetic_sample import SyntheticSample, last_session_before
from stock_assets.alphavantage.api import ACTION_FIELDS, DAILY, SERIES_KEY
from stock_assets.database.migrations import ensure_schema
from stock_assets_tests.environments import loopback_api, nothing_set

PROJECT = Path(__file__).resolve().parents[2]
DAGSTER = str(Path(sys.executable).with_name("dagster"))
SYMBOLS = [f"S{number:04d}" for number in range(1, 21)]
BATCHES = [SYMBOLS[i:i + 5] for i in range(0, len(SYMBOLS), 5)]
PER_SECOND, PER_MINUTE = 1, 60
SEED = 7


@pytest.fixture
def api_server():
    """The loopback server over the synthetic symbols' full histories, ending last session."""
    last = last_session_before(datetime.now(UTC).date())
    server = ChildServer(SampleService, len(SYMBOLS), last, SEED)
    server.call("prepare", None, ["full"])
    yield server, last
    server.stop()


def batch_environment(tmp_path, api_url, bucket, warehouse, instance_db) -> dict[str, str]:
    """What every run pod gets from helm/values.yaml and the stock-assets-env Secret."""
    home = tmp_path / "dagster_home"
    home.mkdir(exist_ok=True)
    shutil.copy(PROJECT / "dagster.yaml", home / "dagster.yaml")
    return {
        **nothing_set(),
        **loopback_api(api_url, "test-key"),
        "ALPHAVANTAGE_REQUESTS_PER_SECOND": str(PER_SECOND),
        "ALPHAVANTAGE_REQUESTS_PER_MINUTE": str(PER_MINUTE),
        "STOCK_ASSETS_SYMBOLS": ",".join(SYMBOLS),
        "STOCK_ASSETS_STORAGE_URL": f"s3://{bucket}/prices",
        "STOCK_ASSETS_DATABASE_URL": warehouse,
        "STOCK_ASSETS_AUTO_MIGRATE": "false",
        "STOCK_ASSETS_DATA_DIR": str(tmp_path / "data"),
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_URL": instance_db,
    }


def table_counts(warehouse: str) -> dict[str, tuple[int, int]]:
    """Rows and distinct days per symbol in `daily_prices`."""
    engine = sa.create_engine(warehouse)
    query = sa.text(
        "SELECT symbol, count(*), count(DISTINCT trade_date) FROM daily_prices GROUP BY symbol"
    )
    with engine.connect() as connection:
        counts = {symbol: (rows, days) for symbol, rows, days in connection.execute(query)}
    engine.dispose()
    return counts


@pytest.mark.slow
def test_four_batch_runs_at_once_share_one_budget(
    tmp_path, api_server, s3_bucket, make_postgres_database
):
    server, last_session = api_server
    warehouse = make_postgres_database()
    engine = sa.create_engine(warehouse)
    ensure_schema(engine)  # the Helm hook Job's migrations
    engine.dispose()
    env = batch_environment(tmp_path, server.url, s3_bucket, warehouse, make_postgres_database())
    subprocess.run(  # creates the instance's tables too, before four processes race to
        [DAGSTER, "instance", "concurrency", "set", "alphavantage", "4"],
        cwd=PROJECT, env=env, check=True, capture_output=True, timeout=300,
    )
    runs = [
        subprocess.Popen(
            [DAGSTER, "asset", "materialize", "-m", "stock_assets.definitions", "--select", "*",
             "--partition-range", f"{batch[0]}...{batch[-1]}"],
            cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for batch in BATCHES
    ]
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    for run, output in zip(runs, outputs, strict=True):
        assert run.returncode == 0, output[-3000:]

    arrivals = server.call("arrivals")
    series = [a for a in arrivals if a.function == DAILY]
    assert Counter(a.symbol for a in series) == dict.fromkeys(SYMBOLS, 1)
    assert {a.outputsize for a in series} == {"full"}
    actions = Counter(a.symbol for a in arrivals if a.function in ACTION_FIELDS)
    assert actions == dict.fromkeys(SYMBOLS, 2)  # SPLITS and DIVIDENDS, once each
    times = [a.monotonic for a in arrivals]
    assert windows_over_limit(times, 1.0, PER_SECOND) == 0
    assert windows_over_limit(times, 60.0, PER_MINUTE) == 0
    # The batches' requests interleave: the runs fetched at once, through the one budget.
    batch_of = {symbol: n for n, batch in enumerate(BATCHES) for symbol in batch}
    order = [batch_of[a.symbol] for a in sorted(arrivals, key=lambda a: a.monotonic)]
    assert sum(a != b for a, b in itertools.pairwise(order)) > len(BATCHES) - 1

    sample = SyntheticSample(len(SYMBOLS), seed=SEED, last_session=last_session)
    served = {s: len(sample(DAILY, s)[SERIES_KEY]) for s in SYMBOLS}
    assert table_counts(warehouse) == {s: (rows, rows) for s, rows in served.items()}
