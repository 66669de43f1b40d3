"""The whole product on its production path: loopback Alpha Vantage, S3 on moto, Postgres.

Over 300 lines: each test drives the product through servers it starts itself, and says
what it saw in full; the set-up is most of the test.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
from dagster._core.instance.ref import InstanceRef

from stock_assets.definitions import ASSETS
from stock_assets.storage.s3 import S3Store
from stock_assets_tests.environments import nothing_set, production
from stock_assets_tests.helpers import make_resources

PROJECT = Path(__file__).resolve().parents[1]

CANARY = "canary-KEY-7f3a9c"
ALL_ASSETS = dg.AssetSelection.all()


def _production_resources(sample_server, s3_bucket, postgres_url, **extra):
    return make_resources(
        api_key=CANARY,
        base_url=sample_server.url,
        storage_url=f"s3://{s3_bucket}/prices",
        database_url=postgres_url,
        requests_per_second=0,
        requests_per_minute=0,
        requests_per_day=0,
        **extra,
    )


def _table(engine: sa.Engine, symbol: str) -> list[tuple]:
    with engine.connect() as connection:
        return connection.execute(
            sa.text(
                "SELECT trade_date, open, high, low, close, volume FROM daily_prices "
                "WHERE symbol = :s ORDER BY trade_date"
            ),
            {"s": symbol},
        ).all()


SAMPLE_ROWS = {"AAPL": 3270, "MSFT": 3270, "IBM": 3270, "GOOG": 2148, "FB": 196}


def _rows_per_symbol(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as connection:
        query = sa.text("SELECT symbol, count(*) FROM daily_prices GROUP BY symbol")
        return dict(connection.execute(query).all())


def _all_objects(s3_client, bucket: str) -> dict[str, bytes]:
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return {k: s3_client.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys}


def test_one_partition_lands_in_s3_and_postgres_and_rerun_changes_nothing(
    sample_server, s3_client, s3_bucket, postgres_url, pg_engine
):
    sample_server.api_key = CANARY
    resources = _production_resources(sample_server, s3_bucket, postgres_url)

    first = dg.materialize(ASSETS, resources=resources, partition_key="AAPL")
    assert first.success
    objects = _all_objects(s3_client, s3_bucket)
    assert {"prices/raw_quotes/AAPL.json", "prices/cleaned_daily_prices/AAPL.parquet"} <= set(
        objects
    )
    assert any(k.startswith("prices/raw_quotes/_history/AAPL/") for k in objects)
    rows = _table(pg_engine, "AAPL")
    assert len(rows) == 3270
    by_day = {str(r[0]): r for r in rows}
    assert by_day["2005-02-28"][4] == pytest.approx(44.86)
    table_meta = first.asset_materializations_for_node("daily_prices_table")[0].metadata
    assert table_meta["rows_inserted"].value == 3270

    second = dg.materialize(ASSETS, resources=resources, partition_key="AAPL")
    assert second.success
    table_meta = second.asset_materializations_for_node("daily_prices_table")[0].metadata
    assert (
        table_meta["rows_inserted"].value,
        table_meta["rows_updated"].value,
        table_meta["rows_deleted"].value,
        table_meta["rows_unchanged"].value,
    ) == (0, 0, 0, 3270)
    assert _table(pg_engine, "AAPL") == rows
    assert all(CANARY.encode() not in body for body in _all_objects(s3_client, s3_bucket).values())
    assert CANARY in {r.get("apikey") for r in sample_server.requests}


def test_single_run_backfill_of_every_symbol(sample_server, s3_bucket, postgres_url, pg_engine):
    resources = _production_resources(sample_server, s3_bucket, postgres_url)
    result = dg.materialize(
        ASSETS,
        resources=resources,
        tags={
            "dagster/asset_partition_range_start": "AAPL",
            "dagster/asset_partition_range_end": "FB",
        },
    )
    assert result.success
    assert _rows_per_symbol(pg_engine) == SAMPLE_ROWS
    assert len(sample_server.series_requests) == 5
    assert len(sample_server.requests) == 5 * 3  # and each symbol's SPLITS and DIVIDENDS


def test_rejected_symbol_fails_only_its_partition(
    sample_server, s3_client, s3_bucket, postgres_url, pg_engine
):
    resources = _production_resources(sample_server, s3_bucket, postgres_url)
    assert dg.materialize(ASSETS, resources=resources, partition_key="MSFT").success
    before_objects = _all_objects(s3_client, s3_bucket)
    before_rows = _table(pg_engine, "MSFT")

    sample_server.fail("IBM", "error_invalid_call", sticky=True)
    failed = dg.materialize(ASSETS, resources=resources, partition_key="IBM", raise_on_error=False)

    assert not failed.success
    failure = next(e for e in failed.all_events if e.is_step_failure).step_failure_data
    message = failure.user_failure_data.description
    assert "IBM" in message and "rejected symbol" in message
    assert _all_objects(s3_client, s3_bucket) == before_objects
    assert _table(pg_engine, "MSFT") == before_rows
    assert _table(pg_engine, "IBM") == []


def _run(args: list[str], env: dict, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, env={**os.environ, **env}, cwd=cwd, capture_output=True, text=True, timeout=300
    )


def _dagster(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("dagster")), *args]


def _materialize_command(partition: str) -> list[str]:
    """`dagster asset materialize` of every asset for one symbol, as a user types it."""
    return _dagster(
        "asset",
        "materialize",
        "-m",
        "stock_assets.definitions",
        "--select",
        "*",
        "--partition",
        partition,
    )


@pytest.mark.slow
def test_dagster_cli_materialize_on_the_production_path(
    tmp_path, sample_server, moto_endpoint, s3_client, s3_bucket, postgres_url, pg_engine
):
    """`dagster asset materialize` as a user types it; the canary key leaks nowhere."""
    sample_server.api_key = CANARY
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {
        "DAGSTER_HOME": str(home),
        "STOCK_ASSETS_STORAGE_URL": f"s3://{s3_bucket}/prices",
        "STOCK_ASSETS_DATABASE_URL": postgres_url,
        "ALPHAVANTAGE_API_KEY": CANARY,
        "ALPHAVANTAGE_BASE_URL": sample_server.url,
        "ALPHAVANTAGE_REQUESTS_PER_SECOND": "5",
    }
    command = _materialize_command("AAPL")
    first = _run(command, env, tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "Executing steps in process" in first.stdout + first.stderr  # no process per step
    rows = _table(pg_engine, "AAPL")
    assert len(rows) == 3270
    second = _run(command, env, tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    assert _table(pg_engine, "AAPL") == rows

    sample_server.fail("IBM", "error_invalid_call", sticky=True)
    rejected = _run(
        _materialize_command("IBM"),
        env,
        tmp_path,
    )
    assert rejected.returncode != 0
    assert "IBM: Alpha Vantage rejected symbol" in rejected.stdout + rejected.stderr

    for result in (first, second, rejected):
        assert CANARY not in result.stdout + result.stderr
    stored = b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())
    assert b"AAPL" in stored  # the event log is there and holds the runs
    assert CANARY.encode() not in stored
    assert all(CANARY.encode() not in b for b in _all_objects(s3_client, s3_bucket).values())
    raw = json.loads(S3Store(s3_client, s3_bucket, "prices").get("raw_quotes/AAPL.json").data)
    assert raw["source"] == "alphavantage" and "apikey" not in raw["url"]


@pytest.mark.slow
def test_main_command_materializes_every_symbol_offline(tmp_path, monkeypatch):
    """README command 1's job: `stock-assets materialize` on the embedded defaults."""
    env = {
        k: ""
        for k in (
            "ALPHAVANTAGE_API_KEY",
            "STOCK_ASSETS_STORAGE_URL",
            "STOCK_ASSETS_DATABASE_URL",
            "STOCK_ASSETS_SYMBOLS",
            "DAGSTER_HOME",
            "AWS_ENDPOINT_URL",
        )
    }
    env = {k: v for k, v in {**os.environ, **env}.items() if v}
    result = subprocess.run(
        [str(Path(sys.executable).with_name("stock-assets")), "materialize"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "5 of 5 symbols materialized" in result.stdout
    assert "offline sample" in result.stdout
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'stock_assets_data' / 'stock_assets.sqlite'}")
    assert _rows_per_symbol(engine) == SAMPLE_ROWS
    objects = tmp_path / "stock_assets_data" / "objects"
    assert (objects / "cleaned_daily_prices" / "GOOG.parquet").is_file()
    home = tmp_path / "stock_assets_data" / "dagster_home"
    assert not (home / "dagster.yaml").exists()  # the project's own file is used, not a copy
    ref = InstanceRef.from_dir(str(tmp_path / "any"), config_dir=str(PROJECT))
    monkeypatch.chdir(tmp_path)
    with dg.DagsterInstance.from_ref(ref) as instance:
        assert len(instance.get_runs()) == 5  # what `dagster dev` from this folder shows


@pytest.mark.slow
def test_dagster_commands_work_from_the_root_with_nothing_set(tmp_path, monkeypatch):
    """Dagster users run these from the repository root without DAGSTER_HOME: Dagster then
    reads `./dagster.yaml` into a temporary instance, whose storage must still work and keep
    the runs where `stock-assets materialize` sees them."""
    root = tmp_path / "checkout"
    root.mkdir()
    for name in ("dagster.yaml", "pyproject.toml", "workspace.yaml"):
        (root / name).write_bytes((PROJECT / name).read_bytes())
    env = nothing_set("AWS_ENDPOINT_URL")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(args, env=env, cwd=root, capture_output=True, text=True, timeout=300)

    validate = run(*_dagster("definitions", "validate", "-m", "stock_assets.definitions"))
    assert validate.returncode == 0, validate.stderr[-3000:]
    materialize = run(*_materialize_command("AAPL"))
    assert materialize.returncode == 0, materialize.stderr[-3000:]
    assert "RUN_SUCCESS" in materialize.stderr
    main = run(str(Path(sys.executable).with_name("stock-assets")), "materialize", "MSFT")
    assert main.returncode == 0, main.stdout[-3000:] + main.stderr[-3000:]
    home = root / "stock_assets_data" / "dagster_home"
    assert f"dagster:  SQLite under {home} (1 runs so far)" in main.stdout
    monkeypatch.chdir(root)
    for name in ("DAGSTER_HOME", "STOCK_ASSETS_DATA_DIR", "DAGSTER_PG_URL", "DAGSTER_PG_HOST"):
        monkeypatch.delenv(name, raising=False)
    with dg.DagsterInstance.from_ref(
        InstanceRef.from_dir(str(tmp_path / "t"), config_dir=str(root))
    ) as instance:
        runs = instance.get_runs()
    assert [r.tags.get("dagster/partition") for r in runs] == ["MSFT", "AAPL"]
    assert not list(root.glob(".tmp_dagster_home_*"))  # Dagster's temporary folder is gone


@pytest.mark.slow
def test_definitions_validate(tmp_path):
    result = _run(
        _dagster("definitions", "validate", "-m", "stock_assets.definitions"), {}, tmp_path
    )
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.slow
def test_switching_the_prices_format_keeps_the_history_and_leaves_no_orphan(
    tmp_path, sample_server, moto_endpoint, s3_client, s3_bucket, make_postgres_database
):
    """parquet -> csv -> json -> parquet, with compact answers (100 days) in between: the stored
    history is found whatever its format, migrated, and the table never loses a row."""
    sample_server.api_key = CANARY
    database = make_postgres_database()
    env = {**nothing_set(), **production(sample_server.url, CANARY, s3_bucket, database)}
    engine = sa.create_engine(database)
    for number, fmt in enumerate(["parquet", "csv", "json", "parquet"]):
        run_env = {**env, "STOCK_ASSETS_PRICES_FORMAT": fmt,
                   "ALPHAVANTAGE_FULL_HISTORY": "true" if number == 0 else "false"}
        result = subprocess.run(
            [str(Path(sys.executable).with_name("stock-assets")), "materialize"],
            env=run_env, cwd=tmp_path, capture_output=True, text=True, timeout=300,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert "history_never_shrinks" not in result.stdout, result.stdout
        expected = "full" if number == 0 else "compact"
        assert sample_server.series_requests[-1]["outputsize"] == expected
        cleaned = sorted(k for k in _all_objects(s3_client, s3_bucket)
                         if k.startswith("prices/cleaned_daily_prices/"))
        assert cleaned == [f"prices/cleaned_daily_prices/AAPL.{fmt}"], (fmt, cleaned)
        assert len(_table(engine, "AAPL")) == 3270, fmt
    engine.dispose()
