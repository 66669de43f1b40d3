"""The quota sensor: after the daily quota resets, fetch what a quota-stopped run left behind.

A run that ran out of quota is tagged with the day it happened (see `quota`). Once that day is
over in New York, the sensor requests the symbols such runs were asked for and did not fetch (and
nobody fetched since), each symbol once however many runs left it, one run per consecutive range,
leaving out what an earlier request of its own still has to fetch. Its cursor is the last such run
handled; each request's run key names the last run it completes.
"""

import time

import dagster as dg

from stock_assets.ingest.assets import REFRESH_RAW_QUOTES
from stock_assets.ingest.budget import quota_day
from stock_assets.ingest.quota import (
    EXHAUSTED_TAG,
    QUOTA_DAY_TAG,
    contiguous_ranges,
    unrefreshed,
)
from stock_assets.partitions import RANGE_END_TAG, RANGE_START_TAG, requested_partitions

RESUMES_TAG = "stock_assets/resumes_run"
FINISHED = {
    dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED,
}


def still_to_fetch(instance: dg.DagsterInstance, keys: list[str]) -> set[str]:
    """Symbols that this sensor's own runs, not finished yet, were asked for."""
    unfinished = instance.get_runs(
        filters=dg.RunsFilter(statuses=[s for s in dg.DagsterRunStatus if s not in FINISHED])
    )
    return {
        symbol
        for run in unfinished if RESUMES_TAG in run.tags
        for symbol in requested_partitions(run.tags, keys)
    }


def build_quota_reset_sensor(partitions: dg.PartitionsDefinition) -> dg.SensorDefinition:
    """The quota sensor over the watchlist's partitions."""

    @dg.sensor(
        job_name=REFRESH_RAW_QUOTES,
        minimum_interval_seconds=300,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def quota_reset_sensor(context: dg.SensorEvaluationContext):
        """After midnight US/Eastern, requests the symbols a quota-stopped run did not fetch."""
        return resume_after_quota(context, partitions.get_partition_keys())

    return quota_reset_sensor


def resume_after_quota(context: dg.SensorEvaluationContext, keys: list[str]) -> dg.SensorResult:
    """The runs that finish what quota-stopped runs left, and the sensor's new cursor."""
    handled = int(context.cursor or 0)
    records = context.instance.get_run_records(
        filters=dg.RunsFilter(tags={EXHAUSTED_TAG: "true"}),
        order_by="id",
        ascending=True,
    )
    today = quota_day(time.time())
    missing: set[str] = set()
    resumed, waiting = [], []
    for record in records:
        if record.storage_id <= handled:
            continue
        run = record.dagster_run
        if not run.is_finished or run.tags.get(QUOTA_DAY_TAG, "") >= today.isoformat():
            waiting.append(run.run_id)
            break
        since = record.end_time or record.create_timestamp.timestamp()
        missing.update(unrefreshed(context.instance, run, keys, since))
        resumed.append(run.run_id)
        handled = record.storage_id
    missing -= still_to_fetch(context.instance, keys)
    requests = [
        dg.RunRequest(
            run_key=f"after-quota:{resumed[-1]}:{first}..{last}",
            tags={RANGE_START_TAG: first, RANGE_END_TAG: last, RESUMES_TAG: ",".join(resumed)},
        )
        for first, last in contiguous_ranges(sorted(missing), keys)
    ]
    if not requests:
        reason = (
            f"run {waiting[0]} waits for the quota to reset at midnight US/Eastern"
            if waiting else "no run is waiting for the quota"
        )
        return dg.SensorResult(skip_reason=dg.SkipReason(reason), cursor=str(handled))
    return dg.SensorResult(run_requests=requests, cursor=str(handled))
