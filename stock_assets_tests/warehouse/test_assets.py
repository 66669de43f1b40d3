"""The `daily_prices` table asset through Dagster, offline, on Postgres: its per-symbol summary
in the materialization metadata and its progress in the run log."""

import re

import dagster as dg
import pytest
import sqlalchemy as sa

from stock_assets.database.migrations import head_revision
from stock_assets.definitions import ASSETS
from stock_assets_tests.helpers import loopback_resources, make_resources
from stock_assets_tests.prices.sample import SYMBOLS, clean_sample

SUMMARY_COLUMNS = [
    "symbol",
    "first_trade_date",
    "last_trade_date",
    "rows",
    "inserted",
    "updated",
    "deleted",
    "unchanged",
]


def _materialize(resources: dict, **run) -> tuple[dg.ExecuteInProcessResult, list[str]]:
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(ASSETS, resources=resources, instance=instance, **run)
    assert result.success
    return result, [entry.user_message for entry in instance.all_logs(result.run_id)]


def _summary(result: dg.ExecuteInProcessResult) -> list[dict]:
    materialization = result.asset_materializations_for_node("daily_prices_table")[0]
    summary = materialization.metadata["summary"]
    assert isinstance(summary, dg.TableMetadataValue)
    assert [column.name for column in summary.schema.columns] == SUMMARY_COLUMNS
    return [record.data for record in summary.records]


def test_a_run_of_every_symbol_summarizes_each_and_logs_each_as_sent(
    tmp_path, postgres_url, pg_engine
):
    resources = make_resources(storage_url=str(tmp_path / "objects"), database_url=postgres_url)
    result, logged = _materialize(
        resources,
        tags={
            "dagster/asset_partition_range_start": "AAPL",
            "dagster/asset_partition_range_end": "FB",
        },
    )
    expected = []
    for symbol in sorted(SYMBOLS):
        history = clean_sample(symbol)
        days = history["trade_date"].astype(str)
        expected.append(
            {
                "symbol": symbol,
                "first_trade_date": days.min(),
                "last_trade_date": days.max(),
                "rows": len(history),
                "inserted": len(history),
                "updated": 0,
                "deleted": 0,
                "unchanged": 0,
            }
        )
    assert _summary(result) == expected

    sent = [
        re.fullmatch(
            r"daily_prices: (\w+) \((\d) of 5\): sent, (\d+) rows; \d+\.\d s elapsed", line
        )
        for line in logged
    ]
    assert [(found[1], found[2], int(found[3])) for found in sent if found] == [
        (row["symbol"], str(number), row["rows"]) for number, row in enumerate(expected, start=1)
    ]
    assert any(
        re.fullmatch(r"daily_prices in .*: 12154 inserted, .*; committed, \d+\.\d s elapsed", line)
        for line in logged
    ), logged


def test_a_rerun_summarizes_what_it_changed(tmp_path, postgres_url, pg_engine):
    resources = make_resources(storage_url=str(tmp_path / "objects"), database_url=postgres_url)
    _materialize(resources, partition_key="FB")
    with pg_engine.begin() as connection:
        connection.execute(
            sa.text(
                "UPDATE daily_prices SET close = low WHERE symbol = 'FB' "
                "AND trade_date = '2012-12-03' AND close <> low"
            )
        )
        connection.execute(
            sa.text("DELETE FROM daily_prices WHERE symbol = 'FB' AND trade_date = '2013-01-02'")
        )
    result, logged = _materialize(resources, partition_key="FB")
    (row,) = _summary(result)
    assert row == {
        "symbol": "FB",
        "first_trade_date": "2012-05-18",
        "last_trade_date": "2013-03-01",
        "rows": 196,
        "inserted": 1,
        "updated": 1,
        "deleted": 0,
        "unchanged": 194,
    }
    assert any(
        re.fullmatch(r"daily_prices: FB \(1 of 1\): sent, 196 rows; \d+\.\d s elapsed", line)
        for line in logged
    ), logged


@pytest.mark.parametrize(
    "dropped", [["daily_prices"], ["daily_prices", "alembic_version"]], ids=["table", "and-version"]
)
def test_a_dropped_table_is_recreated_by_the_next_run(tmp_path, sample_server, backend, dropped):
    """Issue 12 item 4, through Dagster: a dropped daily_prices (and even the version table)
    comes back at the next run, loaded, instead of `no such table` or `already exists`."""
    resources = loopback_resources(tmp_path, sample_server, **backend)
    assert dg.materialize(ASSETS, resources=resources, partition_key="FB").success
    engine = sa.create_engine(resources["database"].url)
    with engine.begin() as connection:
        for table in dropped:
            connection.execute(sa.text(f"DROP TABLE {table}"))
    again = dg.materialize(ASSETS, resources=resources, partition_key="FB")
    assert again.success
    with engine.connect() as connection:
        count = connection.execute(sa.text("SELECT count(*) FROM daily_prices")).scalar()
        version = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    assert count == 196
    assert version == head_revision()
