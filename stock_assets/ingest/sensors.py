"""The quota sensor: after the daily quota resets, fetch what a quota-stopped run left behind.

A run that ran out of quota is tagged with the day it happened (see `quota`). Once that day is
over in New York, the sensor requests the symbols the run was asked for and did not fetch (and
nobody fetched since), one run per consecutive range. Its cursor is the last such run handled,
so nothing is requested twice; each request's run key names the run it completes.
"""

import time

import dagster as dg

from stock_assets.ingest.budget import quota_day
from stock_assets.ingest.quota import (
    EXHAUSTED_TAG,
    QUOTA_DAY_TAG,
    contiguous_ranges,
    unrefreshed,
)
from stock_assets.ingest.schedules import refresh_raw_quotes
from stock_assets.partitions import RANGE_END_TAG, RANGE_START_TAG, symbols_partitions

RESUMES_TAG = "stock_assets/resumes_run"


@dg.sensor(
    job=refresh_raw_quotes,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def quota_reset_sensor(context: dg.SensorEvaluationContext):
    """After midnight US/Eastern, requests the symbols a quota-stopped run did not fetch."""
    handled = int(context.cursor or 0)
    records = context.instance.get_run_records(
        filters=dg.RunsFilter(tags={EXHAUSTED_TAG: "true"}),
        order_by="id",
        ascending=True,
    )
    today = quota_day(time.time())
    keys = symbols_partitions.get_partition_keys()
    requests, waiting = [], []
    for record in records:
        if record.storage_id <= handled:
            continue
        run = record.dagster_run
        if not run.is_finished or run.tags.get(QUOTA_DAY_TAG, "") >= today.isoformat():
            waiting.append(run.run_id)
            break
        since = record.end_time or record.create_timestamp.timestamp()
        for first, last in contiguous_ranges(unrefreshed(context.instance, run, keys, since), keys):
            requests.append(
                dg.RunRequest(
                    run_key=f"after-quota:{run.run_id}:{first}..{last}",
                    tags={RANGE_START_TAG: first, RANGE_END_TAG: last, RESUMES_TAG: run.run_id},
                )
            )
        handled = record.storage_id
    if not requests:
        reason = (
            f"run {waiting[0]} waits for the quota to reset at midnight US/Eastern"
            if waiting else "no run is waiting for the quota"
        )
        return dg.SensorResult(skip_reason=dg.SkipReason(reason), cursor=str(handled))
    return dg.SensorResult(run_requests=requests, cursor=str(handled))
