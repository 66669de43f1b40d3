"""The quota sensor: it waits for midnight in New York, then requests exactly what a
quota-stopped run left behind, once; the requested run completes the refresh."""

import time
from datetime import timedelta

import dagster as dg
import pytest

from stock_assets.definitions import ASSETS, defs
from stock_assets.ingest.budget import quota_day
from stock_assets.ingest.quota import QUOTA_DAY_TAG, materialized_by_run
from stock_assets.ingest.sensors import RESUMES_TAG
from stock_assets.partitions import RANGE_END_TAG, RANGE_START_TAG, requested_partitions
from stock_assets_tests.helpers import loopback_resources


@pytest.fixture
def resources(tmp_path, sample_server):
    def make(**overrides):
        return loopback_resources(tmp_path, sample_server, max_concurrent_requests=1, **overrides)

    return make


def _stop_on_quota(instance, resources) -> dg.ExecuteInProcessResult:
    """AAPL..FB with a quota of 3: AAPL, MSFT and IBM are fetched, GOOG and FB are not."""
    result = dg.materialize(
        ASSETS[:1], resources=resources(requests_per_day=3), instance=instance,
        tags={RANGE_START_TAG: "AAPL", RANGE_END_TAG: "FB"},
    )
    assert result.success
    return result


def _make_it_yesterday(instance, run_id: str) -> None:
    """The run ran out of quota yesterday (New York), so the quota has since reset."""
    yesterday = quota_day(time.time()) - timedelta(days=1)
    instance.add_run_tags(run_id, {QUOTA_DAY_TAG: yesterday.isoformat()})


def _tick(instance, cursor=None) -> dg.SensorResult:
    sensor = defs.resolve_sensor_def("quota_reset_sensor")
    return sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor))


def test_nothing_is_requested_before_the_quota_resets(instance, resources):
    stopped = _stop_on_quota(instance, resources)
    tick = _tick(instance)
    assert tick.run_requests == []
    assert tick.skip_message == (
        f"run {stopped.run_id} waits for the quota to reset at midnight US/Eastern"
    )


def test_after_the_reset_the_rest_is_requested_once_and_completed(instance, resources):
    stopped = _stop_on_quota(instance, resources)
    _make_it_yesterday(instance, stopped.run_id)

    tick = _tick(instance)
    [request] = tick.run_requests
    assert (request.tags[RANGE_START_TAG], request.tags[RANGE_END_TAG]) == ("GOOG", "FB")
    assert request.tags[RESUMES_TAG] == stopped.run_id
    assert request.run_key == f"after-quota:{stopped.run_id}:GOOG..FB"

    again = _tick(instance, cursor=tick.cursor)
    assert again.run_requests == [] and again.cursor == tick.cursor

    completed = dg.materialize(
        ASSETS[:1], resources=resources(requests_per_day=0), instance=instance,
        tags=request.tags,
    )
    assert completed.success
    assert materialized_by_run(instance, completed.run_id) == {"GOOG", "FB"}


def test_symbols_fetched_since_by_another_run_are_not_requested(instance, resources):
    stopped = _stop_on_quota(instance, resources)
    _make_it_yesterday(instance, stopped.run_id)
    dg.materialize(
        ASSETS[:1], resources=resources(requests_per_day=0), instance=instance,
        partition_key="FB",
    )
    [request] = _tick(instance).run_requests
    assert (request.tags[RANGE_START_TAG], request.tags[RANGE_END_TAG]) == ("GOOG", "GOOG")


def test_no_request_without_a_quota_stopped_run(instance, resources):
    dg.materialize(ASSETS, resources=resources(requests_per_day=0),
                   instance=instance, partition_key="AAPL")
    tick = _tick(instance)
    assert tick.run_requests == []
    assert tick.skip_message == "no run is waiting for the quota"


def test_symbols_left_by_several_runs_are_requested_once(
    instance, tmp_path, sample_server, backend
):
    """Issue 12 item 6: two quota-stopped runs on one day (the second fetched nothing, the quota
    was spent) give one request per missing symbol; the budget lives in the warehouse database,
    so on both backends."""

    def resources(**overrides):
        return loopback_resources(
            tmp_path, sample_server, max_concurrent_requests=1, **backend, **overrides
        )

    first = _stop_on_quota(instance, resources)
    second = _stop_on_quota(instance, resources)
    assert materialized_by_run(instance, second.run_id) == set()
    for run in (first, second):
        _make_it_yesterday(instance, run.run_id)

    requests = _tick(instance).run_requests
    keys = ["AAPL", "MSFT", "IBM", "GOOG", "FB"]
    requested = [s for r in requests for s in requested_partitions(r.tags, keys)]
    assert sorted(requested) == sorted(set(requested)) == sorted(keys)
    assert {r.tags[RESUMES_TAG] for r in requests} == {f"{first.run_id},{second.run_id}"}


def test_symbols_an_unfinished_resume_run_will_fetch_are_not_requested_again(instance, resources):
    stopped = _stop_on_quota(instance, resources)
    _make_it_yesterday(instance, stopped.run_id)
    [request] = _tick(instance).run_requests
    instance.create_run_for_job(  # the requested run, not started yet
        job_def=defs.resolve_job_def("refresh_raw_quotes"), tags=request.tags,
        status=dg.DagsterRunStatus.NOT_STARTED,
    )
    later = _stop_on_quota(instance, resources)  # stops at once: yesterday's quota is spent
    _make_it_yesterday(instance, later.run_id)
    requested = _tick(instance).run_requests
    assert all(r.tags[RANGE_START_TAG] not in {"GOOG", "FB"} for r in requested)
    ranges = [(r.tags[RANGE_START_TAG], r.tags[RANGE_END_TAG]) for r in requested]
    assert ranges == [("AAPL", "IBM")]
