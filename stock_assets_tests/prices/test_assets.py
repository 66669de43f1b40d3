"""The cleaned-prices multi-asset through Dagster, fed by the loopback Alpha Vantage server.

Over 300 lines: every check and outcome is read back from the Dagster instance, as the UI
shows it, which takes a query per claim.
"""

import base64
import re

import dagster as dg
import pandas as pd
import pytest
import sqlalchemy as sa
from dagster._core.event_api import PartitionKeyFilter
from dagster._core.storage.asset_check_execution_record import (
    AssetCheckExecutionRecordStatus,
    AssetCheckExecutionResolvedStatus,
)

from stock_assets.alphavantage.api import SPLITS
from stock_assets.alphavantage.sample import SampleAnswers
from stock_assets.alphavantage.sample_server import POISONED_ROWS, SampleServer
from stock_assets.definitions import ASSETS
from stock_assets.prices.checks import CHECK_NAMES as CLEANED_CHECKS
from stock_assets_tests.helpers import loopback_resources
from stock_assets_tests.prices.sample import SYMBOLS


def _checks(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def _stored(tmp_path, name: str, ext: str) -> pd.DataFrame:
    path = tmp_path / "objects" / name / f"AAPL.{ext}"
    return pd.read_parquet(path) if ext == "parquet" else pd.read_csv(path, dtype=str)


def test_real_aapl_is_clean_and_its_two_splits_are_declared_by_its_corporate_actions(
    tmp_path, sample_server
):
    result = dg.materialize(
        ASSETS,
        resources=loopback_resources(tmp_path, sample_server),
        partition_key="AAPL",
    )
    assert result.success
    meta = result.asset_materializations_for_node("cleaned_daily_prices")
    cleaned = next(m for m in meta if m.asset_key.path == ["cleaned_daily_prices"]).metadata
    assert cleaned["rows"].value == 3270 and cleaned["rows_quarantined"].value == 0
    assert len(_stored(tmp_path, "cleaned_daily_prices", "parquet")) == 3270
    assert _stored(tmp_path, "quarantined_price_rows", "csv").empty

    checks = _checks(result)
    splits = checks["no_undeclared_splits"].metadata
    assert splits["declared_splits"].value == 2 and splits["probable_splits"].value == 2
    assert all(c.passed for c in checks.values())
    assert cleaned["adjustment_source"].value == "corporate actions"


def test_poisoned_answer_keeps_every_good_row_and_quarantines_exactly_the_bad(
    tmp_path, sample_server
):
    sample_server.fail("AAPL", "poisoned")
    result = dg.materialize(
        ASSETS,
        resources=loopback_resources(tmp_path, sample_server),
        partition_key="AAPL",
    )
    assert result.success

    series = list(SampleAnswers().series("TIME_SERIES_DAILY", "AAPL")["Time Series (Daily)"])
    poisoned_days = {series[i] for i in POISONED_ROWS}
    quarantine = _stored(tmp_path, "quarantined_price_rows", "csv")
    assert set(quarantine["trade_date"]) == poisoned_days
    assert quarantine["reason"].str.len().gt(0).all()
    assert quarantine["reason"].str.contains("high").any()
    assert quarantine["reason"].str.contains("volume").any()
    assert quarantine["reason"].str.contains("not a number").any()

    clean = _stored(tmp_path, "cleaned_daily_prices", "parquet")
    assert len(clean) == 3270 - 3
    assert not set(clean["trade_date"].astype(str)) & poisoned_days

    checks = _checks(result)
    assert checks["quarantine_share"].passed
    assert checks["quarantine_share"].metadata["quarantined_rows"].value == 3
    assert not checks["no_gaps_beyond_holidays"].passed  # the three quarantined days are missing
    table = result.asset_materializations_for_node("daily_prices_table")[0].metadata
    assert table["rows_inserted"].value == 3267
    chart = _cleaned_metadata(result)["price_chart"].md_str
    marked = ", ".join(sorted(poisoned_days))
    assert "AAPL: split 2000-06-21 (2:1); split 2005-02-28 (2:1); 3 dividend(s); " in chart
    assert f"3 quarantined day(s): {marked}" in chart


def test_premium_answer_lands_adjusted_prices_in_the_table(tmp_path, sample_server):
    resources = loopback_resources(tmp_path, sample_server, premium=True)
    result = dg.materialize(ASSETS, resources=resources, partition_key="AAPL")
    assert result.success
    assert sample_server.requests[0]["function"] == "TIME_SERIES_DAILY_ADJUSTED"
    checks = _checks(result)
    assert checks["table_matches_stored_prices"].passed
    assert checks["no_undeclared_splits"].passed  # the answer declares its splits

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with engine.connect() as connection:
        first, last = connection.execute(
            sa.text(
                "SELECT adjusted_open, adjusted_close, adjusted_volume, volume FROM daily_prices "
                "WHERE symbol = 'AAPL' AND trade_date IN ('2000-03-01', '2013-03-01') "
                "ORDER BY trade_date"
            )
        ).all()
    assert last[0] == pytest.approx(438.0) and last[1] == pytest.approx(430.47)
    # Two 2:1 splits since 2000: volume scaled up fourfold, prices down at least fourfold.
    assert first[2] == pytest.approx(first[3] * 4)
    assert first[0] < 140 / 4


def _cleaned_metadata(result: dg.ExecuteInProcessResult) -> dict:
    meta = result.asset_materializations_for_node("cleaned_daily_prices")
    return next(m for m in meta if m.asset_key.path == ["cleaned_daily_prices"]).metadata


def _log_lines(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult) -> list[str]:
    return [entry.user_message for entry in instance.all_logs(result.run_id)]


def test_one_symbol_run_shows_its_chart_and_logs_its_progress(tmp_path, sample_server):
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        ASSETS,
        resources=loopback_resources(tmp_path, sample_server),
        partition_key="AAPL",
        instance=instance,
    )
    assert result.success
    chart = _cleaned_metadata(result)["price_chart"]
    assert isinstance(chart, dg.MarkdownMetadataValue)
    image = re.fullmatch(
        r"!\[AAPL close and adjusted close\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)\n\n"
        r"AAPL: (.*)",
        chart.md_str,
        flags=re.DOTALL,
    )
    assert image
    png = base64.b64decode(image[1])
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) <= 40_000
    # The corporate actions declare both splits (no "suspected" one left) and three dividends.
    assert image[2] == "split 2000-06-21 (2:1); split 2005-02-28 (2:1); 3 dividend(s)"

    logged = _log_lines(instance, result)
    assert any(
        re.fullmatch(
            r"AAPL \(1 of 1\): 3270 inserted, 0 updated, 0 quarantined, 3270 days in history; "
            r"\d+\.\d s elapsed",
            line,
        )
        for line in logged
    ), logged


def test_every_symbol_of_a_run_is_charted_and_logs_its_progress(tmp_path, sample_server):
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        ASSETS,
        resources=loopback_resources(tmp_path, sample_server),
        tags={
            "dagster/asset_partition_range_start": "AAPL",
            "dagster/asset_partition_range_end": "FB",
        },
        instance=instance,
    )
    assert result.success
    charted = {
        m.partition: re.findall(r"!\[(\w+) close and adjusted close\]\(",
                                m.metadata["price_chart"].md_str)
        for m in result.asset_materializations_for_node("cleaned_daily_prices")
        if m.asset_key.path == ["cleaned_daily_prices"]
    }
    assert charted == {symbol: [symbol] for symbol in SYMBOLS}

    progress = [
        re.match(r"(\w+) \((\d) of 5\): .* days in history; \d+\.\d s elapsed$", line)
        for line in _log_lines(instance, result)
    ]
    numbered = dict(sorted((found[2], found[1]) for found in progress if found))
    assert list(numbered) == ["1", "2", "3", "4", "5"]
    assert sorted(numbered.values()) == sorted(SYMBOLS)


MSFT_AND_IBM = {
    "dagster/asset_partition_range_start": "MSFT",
    "dagster/asset_partition_range_end": "IBM",
}


@pytest.fixture
def msft_and_ibm(tmp_path, instance) -> dg.ExecuteInProcessResult:
    """One batch run of MSFT and IBM (a single-run backfill), successful; MSFT's SPLITS answer
    lists no split, so its 2003 jump is undeclared and its split check fails alone."""
    no_splits = {(SPLITS, "MSFT"): {"symbol": "MSFT", "data": []}}
    with SampleServer(SampleAnswers(extra=no_splits)) as server:
        result = dg.materialize(
            ASSETS,
            resources=loopback_resources(tmp_path, server),
            tags=MSFT_AND_IBM,
            instance=instance,
        )
    assert result.success
    return result


def test_each_symbol_of_a_batch_gets_one_event_with_its_figures_and_its_chart(
    tmp_path, instance, msft_and_ibm
):
    result = msft_and_ibm
    cleaned = {
        m.partition: m.metadata
        for m in result.asset_materializations_for_node("cleaned_daily_prices")
        if m.asset_key.path == ["cleaned_daily_prices"]
    }
    assert sorted(cleaned) == ["IBM", "MSFT"]
    for symbol, meta in cleaned.items():
        stored = pd.read_parquet(tmp_path / "objects" / f"cleaned_daily_prices/{symbol}.parquet")
        assert meta["rows"].value == meta["rows_inserted"].value == len(stored)
        assert meta["last_trade_date"].value == str(stored["trade_date"].iloc[-1])
        assert meta["rows_quarantined"].value == 0
        assert meta["uri"].path.endswith(f"cleaned_daily_prices/{symbol}.parquet")
        chart = meta["price_chart"].md_str
        assert re.findall(r"!\[(\w+) close and adjusted close\]\(data:image/png;base64,",
                          chart) == [symbol]
    assert "suspected split 2003-02-18 (2:1)" in cleaned["MSFT"]["price_chart"].md_str
    assert "split" not in cleaned["IBM"]["price_chart"].md_str
    quarantined = {
        m.partition: m.metadata["rows_quarantined"].value
        for m in result.asset_materializations_for_node("cleaned_daily_prices")
        if m.asset_key.path == ["quarantined_price_rows"]
    }
    assert quarantined == {"IBM": 0, "MSFT": 0}
    assert result.get_asset_observation_events() == []
    assert instance.fetch_observations(dg.AssetKey("cleaned_daily_prices"), limit=1).records == []


def _latest_check(instance: dg.DagsterInstance, asset: str, check: str, symbol: str):
    key = dg.AssetCheckKey(dg.AssetKey(asset), check)
    storage = instance.event_log_storage
    return storage.get_latest_asset_check_execution_by_key(
        [key], partition_filter=PartitionKeyFilter(key=symbol)
    ).get(key)


def test_a_batch_records_each_symbols_own_check_result(instance, msft_and_ibm):
    """MSFT's prices jump at a split its SPLITS answer does not list, IBM's never: the instance
    (and so the UI's checks list and its "latest execution") must say so per symbol, each
    pointing at that symbol's materialization of this run."""
    result = msft_and_ibm
    materialized = {
        record.partition_key: record.storage_id
        for record in instance.fetch_materializations(
            dg.AssetKey("cleaned_daily_prices"), limit=10
        ).records
    }
    for symbol, passed in {"MSFT": False, "IBM": True}.items():
        for check in CLEANED_CHECKS:
            record = _latest_check(instance, "cleaned_daily_prices", check, symbol)
            evaluation = record.event.dagster_event.event_specific_data
            assert record.run_id == result.run_id and evaluation.partition == symbol
            expected = passed if check == "no_undeclared_splits" else True
            assert record.status == (
                AssetCheckExecutionRecordStatus.SUCCEEDED
                if expected
                else AssetCheckExecutionRecordStatus.FAILED
            ), (symbol, check)
            target = evaluation.target_materialization_data
            assert target is not None and target.storage_id == materialized[symbol]
            assert evaluation.blocking == (check == "quarantine_share")
        splits = _latest_check(instance, "cleaned_daily_prices", "no_undeclared_splits", symbol)
        found = str(splits.event.dagster_event.event_specific_data.metadata)
        assert ("2:1" in found) == (not passed)
        table = _latest_check(instance, "daily_prices_table", "table_matches_stored_prices", symbol)
        assert table.status == AssetCheckExecutionRecordStatus.SUCCEEDED
        assert table.event.dagster_event.event_specific_data.partition == symbol

    key = dg.AssetCheckKey(dg.AssetKey("cleaned_daily_prices"), "no_undeclared_splits")
    state = instance.event_log_storage.get_asset_check_state([(key, ASSETS[0].partitions_def)])[key]
    shown = {
        status: sorted(subset.subset_value.get_partition_keys())
        for status, subset in state.subsets.items()
        if not subset.is_empty
    }
    assert shown == {
        AssetCheckExecutionResolvedStatus.FAILED: ["MSFT"],
        AssetCheckExecutionResolvedStatus.SUCCEEDED: ["IBM"],
    }


def test_replay_job_rebuilds_the_history_from_every_archived_answer(
    tmp_path, sample_server, instance
):
    """The definitions' `replay` job, with its own config: after a full then a compact fetch and
    the cleaned history lost, it rebuilds the very object the fetches stored, and asks for
    nothing."""
    from stock_assets.definitions import defs

    assert defs.resolve_job_def("replay").asset_layer.executable_asset_keys == {
        dg.AssetKey("cleaned_daily_prices"), dg.AssetKey("quarantined_price_rows"),
        dg.AssetKey("daily_prices_table"),
    }
    full = loopback_resources(tmp_path, sample_server)
    for resources in (full, loopback_resources(tmp_path, sample_server, full_history=False)):
        fetched = dg.materialize(
            ASSETS, resources=resources, partition_key="AAPL", instance=instance
        )
        assert fetched.success
    assert [r["outputsize"] for r in sample_server.series_requests] == ["full", "compact"]
    stored = tmp_path / "objects" / "cleaned_daily_prices" / "AAPL.parquet"
    fetched_bytes = stored.read_bytes()
    stored.unlink()

    job = dg.Definitions(
        assets=ASSETS, jobs=defs.jobs, resources=full
    ).resolve_job_def("replay")
    result = job.execute_in_process(partition_key="AAPL", instance=instance)

    assert result.success
    assert stored.read_bytes() == fetched_bytes
    assert len(sample_server.requests) == 4  # the two fetches and one of corporate actions
    cleaned = next(
        m for m in result.asset_materializations_for_node("cleaned_daily_prices")
        if m.asset_key.path == ["cleaned_daily_prices"]
    ).metadata
    assert (cleaned["answers_replayed"].value, cleaned["rows"].value) == (2, 3270)
    assert all(c.passed for c in result.get_asset_check_evaluations()
               if c.check_name != "no_undeclared_splits")
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with engine.connect() as connection:
        days = connection.execute(sa.text("SELECT count(*) FROM daily_prices")).scalar_one()
    engine.dispose()
    assert days == 3270
