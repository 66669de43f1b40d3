"""`raw_quotes` through Dagster: a batch stops cleanly on the quota, keeping what it fetched."""

import json
from datetime import date

import dagster as dg
import pytest
import sqlalchemy as sa

from stock_assets.definitions import ASSETS
from stock_assets.ingest.quota import (
    EXHAUSTED_TAG,
    QUOTA_DAY_TAG,
    materialized_by_run,
)
from stock_assets.ingest.stored import last_stored_trade_date
from stock_assets.partitions import RANGE_END_TAG, RANGE_START_TAG
from stock_assets_tests.helpers import loopback_resources

ALL_FIVE = {RANGE_START_TAG: "AAPL", RANGE_END_TAG: "FB"}  # AAPL, MSFT, IBM, GOOG, FB


def _run(tmp_path, sample_server, instance, **overrides) -> dg.ExecuteInProcessResult:
    resources = loopback_resources(
        tmp_path, sample_server, **{"max_concurrent_requests": 1, **overrides}
    )
    return dg.materialize(
        ASSETS, resources=resources, instance=instance,
        tags=ALL_FIVE, raise_on_error=False,
    )


def _materialized(instance, result: dg.ExecuteInProcessResult) -> list[str]:
    """Raw-quotes partitions the run recorded, as the instance (and the UI) sees them."""
    return sorted(materialized_by_run(instance, result.run_id))


def _stored(tmp_path) -> list[str]:
    return sorted(p.stem for p in (tmp_path / "objects" / "raw_quotes").glob("*.json"))


def test_a_batch_is_one_run_that_fetches_each_symbol_once(tmp_path, sample_server, instance):
    result = _run(tmp_path, sample_server, instance, max_concurrent_requests=4)
    assert result.success
    assert _materialized(instance, result) == ["AAPL", "FB", "GOOG", "IBM", "MSFT"]
    fetched = sorted(r["symbol"] for r in sample_server.series_requests)
    assert fetched == _materialized(instance, result)
    tables = result.asset_materializations_for_node("daily_prices_table")
    assert sorted(m.partition for m in tables) == _materialized(instance, result)


def test_the_spent_quota_stores_what_was_fetched_and_ends_the_run_cleanly(
    tmp_path, sample_server, instance
):
    result = _run(tmp_path, sample_server, instance, requests_per_day=3)
    assert result.success
    assert _materialized(instance, result) == ["AAPL", "IBM", "MSFT"]
    assert _stored(tmp_path) == ["AAPL", "IBM", "MSFT"]
    assert [r["symbol"] for r in sample_server.series_requests] == ["AAPL", "MSFT", "IBM"]
    tags = instance.get_run_by_id(result.run_id).tags
    assert tags[EXHAUSTED_TAG] == "true" and QUOTA_DAY_TAG in tags
    assert result.asset_materializations_for_node("daily_prices_table") == []
    warnings = [
        e.message for e in instance.all_logs(result.run_id)
        if e.level == 30 and "daily quota exhausted" in e.message
    ]
    assert warnings == [
        "daily quota exhausted: 3 of 5 symbols stored; the quota sensor requests the other 2 "
        "after midnight US/Eastern"
    ]


def test_a_burst_pattern_notice_is_retried_as_a_throttle_and_the_batch_completes(
    tmp_path, sample_server, instance
):
    """Its text offers premium endpoints and names the day's limit, yet it is a rate limit."""
    sample_server.fail("IBM", "information_burst_pattern")
    result = _run(tmp_path, sample_server, instance)
    assert result.success
    assert _materialized(instance, result) == ["AAPL", "FB", "GOOG", "IBM", "MSFT"]
    asked = [r["symbol"] for r in sample_server.series_requests]
    assert asked.count("IBM") == 2
    assert EXHAUSTED_TAG not in instance.get_run_by_id(result.run_id).tags


def test_the_api_saying_the_quota_is_spent_stops_the_batch_too(
    tmp_path, sample_server, instance
):
    sample_server.fail("IBM", "information_rate_limit_daily")
    result = _run(tmp_path, sample_server, instance)
    assert result.success
    assert _materialized(instance, result) == ["AAPL", "MSFT"]
    assert [r["symbol"] for r in sample_server.series_requests] == ["AAPL", "MSFT", "IBM"]
    assert instance.get_run_by_id(result.run_id).tags[EXHAUSTED_TAG] == "true"


def test_a_rejected_symbol_fails_the_run_by_name_and_the_others_are_kept(
    tmp_path, sample_server, instance
):
    sample_server.fail("IBM", "error_invalid_call", sticky=True)  # whatever the outputsize
    result = _run(tmp_path, sample_server, instance)
    assert not result.success
    assert _materialized(instance, result) == ["AAPL", "FB", "GOOG", "MSFT"]
    assert _stored(tmp_path) == ["AAPL", "FB", "GOOG", "MSFT"]
    failure = next(e for e in result.all_events if e.is_step_failure).step_failure_data
    assert failure.user_failure_data.description.startswith("IBM: Alpha Vantage rejected symbol")
    assert "(4 other symbols were stored)" in failure.user_failure_data.description
    assert EXHAUSTED_TAG not in instance.get_run_by_id(result.run_id).tags


@pytest.mark.parametrize("run", [{"partition_key": "AAPL"}, {"tags": ALL_FIVE}])
def test_the_next_fetch_plan_knows_the_last_stored_day(
    tmp_path, sample_server, instance, run, backend
):
    """Read from the stored cleaned history itself (its trade_date column), not the event log:
    what is stored is what the next answer extends."""
    resources = loopback_resources(tmp_path, sample_server, **backend)
    history_store = resources["history_store"]
    assert last_stored_trade_date(history_store, "AAPL") is None
    result = dg.materialize(ASSETS, resources=resources, instance=instance, **run)
    assert result.success
    assert last_stored_trade_date(history_store, "AAPL") == date(2013, 3, 1)
    assert last_stored_trade_date(history_store, "NOPE") is None


def test_a_rerun_on_unchanged_answers_archives_nothing_and_leaves_no_locks(
    tmp_path, sample_server, instance
):
    resources = loopback_resources(tmp_path, sample_server)
    history = tmp_path / "objects" / "raw_quotes" / "_history" / "AAPL"
    archived = []
    for _ in range(3):
        dg.materialize([*ASSETS], selection=["raw_quotes"], partition_key="AAPL",
                       resources=resources, instance=instance)
        archived.append(sorted(path.name for path in history.iterdir()))

    assert archived[2] == archived[1], "the third run archived an answer already archived"
    assert list((tmp_path / "objects" / ".locks").iterdir()) == []


def test_a_symbol_refused_full_history_gets_compact_and_says_the_history_is_partial(
    tmp_path, sample_server, instance, backend
):
    """Alpha Vantage answers "Invalid API call" to outputsize=full for some symbols whose
    compact answer works: one retry with compact, recorded (issue 12 item 9)."""
    sample_server.fail("AAPL", "full_refused", sticky=True)
    resources = loopback_resources(tmp_path, sample_server, **backend)
    result = dg.materialize(ASSETS, resources=resources, instance=instance,
                            partition_key="AAPL")
    assert result.success
    assert [(r["outputsize"]) for r in sample_server.series_requests] == ["full", "compact"]
    record = json.loads(resources["object_store"].get_store().get("raw_quotes/AAPL.json").data)
    assert record["outputsize"] == "compact"
    assert record["partial_history"].startswith("outputsize=full was refused (Invalid API call")
    logged = [entry.user_message for entry in instance.all_logs(result.run_id)]
    assert any("AAPL: outputsize=full was refused" in message for message in logged)


def test_answers_can_be_requested_as_csv(tmp_path, sample_server, instance, backend):
    """ALPHAVANTAGE_DATATYPE=csv: the same rows land as from JSON (issue 12 item 10)."""
    resources = loopback_resources(tmp_path, sample_server, datatype="csv", **backend)
    result = dg.materialize(ASSETS, resources=resources, instance=instance,
                            partition_key="MSFT")
    assert result.success
    assert {r["datatype"] for r in sample_server.series_requests} == {"csv"}
    engine = sa.create_engine(resources["database"].url)
    with engine.connect() as connection:
        count = connection.execute(sa.text("SELECT count(*) FROM daily_prices")).scalar()
    engine.dispose()
    assert count == 3270


def test_an_old_throttle_note_that_outlasts_the_retries_stops_the_batch_as_the_quota(
    tmp_path, sample_server, instance, backend
):
    """"5 calls per minute and 500 calls per day", still there after every retry: the day's
    quota, so the batch stops cleanly with what it fetched (the quota sensor resumes it)."""
    sample_server.fail("IBM", "note_rate_limit_per_minute_legacy", sticky=True)
    result = _run(tmp_path, sample_server, instance, **backend)
    assert result.success
    assert EXHAUSTED_TAG in instance.get_run_by_id(result.run_id).tags
    store = loopback_resources(tmp_path, sample_server, **backend)["object_store"].get_store()
    stored = sorted(
        key.removeprefix("raw_quotes/").removesuffix(".json")
        for key in store.list("raw_quotes/") if "/_history/" not in key
    )
    assert "IBM" not in stored
    assert _materialized(instance, result) == stored


@pytest.mark.timeout(120)
def test_a_dripping_symbol_fails_within_its_deadline_and_the_batch_goes_on(
    tmp_path, sample_server, instance
):
    """AAPL's answer drips a byte every 0.3 s, which no read timeout ever ends: its deadline
    does, on every attempt, and MSFT is stored."""
    sample_server.drip_seconds = 0.3
    sample_server.fail("AAPL", "drip", sticky=True)
    resources = loopback_resources(tmp_path, sample_server, request_deadline_seconds=2)
    api = resources["alphavantage"]
    fields = {name: getattr(api, name) for name in type(api).model_fields}
    resources["alphavantage"] = type(api)(**{**fields, "retry_budget_seconds": 5.0})
    result = dg.materialize(
        ASSETS, resources=resources, instance=instance, raise_on_error=False,
        tags={RANGE_START_TAG: "AAPL", RANGE_END_TAG: "MSFT"},
    )
    assert not result.success
    assert _materialized(instance, result) == ["MSFT"]
    assert _stored(tmp_path) == ["MSFT"]
    failure = next(e for e in result.all_events if e.is_step_failure).step_failure_data
    description = failure.user_failure_data.description
    assert description.startswith(
        "AAPL: Alpha Vantage service unavailable: timed out after 2 s (deadline): "
        "the answer was still arriving"
    ), description
    assert "test-key" not in description
    assert 2 <= sum(r["symbol"] == "AAPL" for r in sample_server.series_requests) <= 3
