"""How a run's tags name the partitions it was asked for (one partition per watchlist symbol,
built by `watchlist.build_symbol_partitions` where the definitions are built)."""

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def requested_partitions(tags: dict[str, str], keys: list[str]) -> list[str]:
    """The partitions a run was asked for, from its partition or partition-range tags."""
    if "dagster/partition" in tags:
        return [tags["dagster/partition"]] if tags["dagster/partition"] in keys else []
    if RANGE_START_TAG in tags and RANGE_END_TAG in tags:
        start, end = tags[RANGE_START_TAG], tags[RANGE_END_TAG]
        if start in keys and end in keys:
            return keys[keys.index(start) : keys.index(end) + 1]
    return []
