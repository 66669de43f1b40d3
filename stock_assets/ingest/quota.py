"""How a run records that the daily quota stopped it, and which symbols it left for tomorrow."""

from datetime import date

import dagster as dg

from stock_assets.asset_keys import RAW_QUOTES_KEY
from stock_assets.partitions import requested_partitions

EXHAUSTED_TAG = "stock_assets/quota_exhausted"
QUOTA_DAY_TAG = "stock_assets/quota_day"


def mark_exhausted(instance: dg.DagsterInstance, run_id: str, day: date) -> None:
    instance.add_run_tags(run_id, {EXHAUSTED_TAG: "true", QUOTA_DAY_TAG: day.isoformat()})


def materialized_by_run(instance: dg.DagsterInstance, run_id: str) -> set[str]:
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
    ).records
    return {
        r.event_log_entry.dagster_event.partition
        for r in records
        if r.event_log_entry.dagster_event.asset_key == RAW_QUOTES_KEY
    }


def refreshed_since(instance: dg.DagsterInstance, symbols: list[str], timestamp: float) -> set[str]:
    """Symbols whose raw quotes some later run has materialized since `timestamp`."""
    done = set()
    for symbol in symbols:
        result = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=RAW_QUOTES_KEY, asset_partitions=[symbol],
                                  after_timestamp=timestamp),
            limit=1,
        )
        if result.records:
            done.add(symbol)
    return done


def unrefreshed(instance: dg.DagsterInstance, run: dg.DagsterRun, keys: list[str],
                since: float) -> list[str]:
    """What a quota-stopped run was asked for and did not fetch, and nobody has fetched since."""
    left = [
        s for s in requested_partitions(run.tags, keys)
        if s not in materialized_by_run(instance, run.run_id)
    ]
    later = refreshed_since(instance, left, since)
    return [s for s in left if s not in later]


def contiguous_ranges(symbols: list[str], keys: list[str]) -> list[tuple[str, str]]:
    """Group partitions into runs of neighbours in partition order: one run per range."""
    index = {key: position for position, key in enumerate(keys)}
    ranges: list[list[int]] = []
    for position in sorted(index[s] for s in symbols):
        if ranges and ranges[-1][1] == position - 1:
            ranges[-1][1] = position
        else:
            ranges.append([position, position])
    return [(keys[first], keys[last]) for first, last in ranges]
