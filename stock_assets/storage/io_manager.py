"""The atomic IO manager: every asset value stored as one plain object per partition.

It only writes outputs and reads inputs, through the `HistoryStore` (layout, formats,
compare-and-swap and archiving live there), as `UPathIOManager` splits the IO manager from
`dump_to_path`/`load_from_path`. The format comes from the asset's definition metadata
(``{"format": "csv"}``) or the store's default; ``"archive": True`` also keeps every distinct
value under an immutable key. Partitioned values travel as ``{partition_key: value}`` in both
directions, so a single-run backfill writes and reads several partitions in one step.

An input annotated with `StoredValue` (or ``dict[str, StoredValue]``) gets each value with
where it is stored and its checksum, for lineage; `StoredPartitions` reads one at a time.
"""

from collections.abc import Callable, Iterator, Mapping
from typing import Any, get_args

import dagster as dg
import pandas as pd

from stock_assets.storage.formats import Format
from stock_assets.storage.history_store import (
    HistoryStore,
    StoredValue,
    object_key,
    object_metadata,
)
from stock_assets.storage.objects import ObjectNotFound


class StoredPartitions(Mapping[str, Any]):
    """A partitioned input read one partition at a time, when asked, and never kept.

    Annotate an input with this type to walk a batch of hundreds of symbols without holding
    all of it in memory; each access reads (and verifies) the stored object again.
    """

    def __init__(self, partitions: list[str], load: Callable[[str], Any]):
        self._partitions = list(partitions)
        self._known = set(partitions)
        self._load = load

    def __getitem__(self, partition: str) -> Any:
        if partition not in self._known:
            raise KeyError(partition)
        return self._load(partition)

    def __iter__(self) -> Iterator[str]:
        return iter(self._partitions)

    def __len__(self) -> int:
        return len(self._partitions)


def _annotated_with(dagster_type: dg.DagsterType, wanted: type) -> bool:
    typing_type = dagster_type.typing_type
    return typing_type is wanted or wanted in get_args(typing_type)


class AtomicIOManager(dg.ConfigurableIOManager):
    """Stores asset values atomically in a `HistoryStore` as JSON, CSV or Parquet."""

    history: dg.ResourceDependency[HistoryStore]
    # Every log line is an event Dagster stores: a batch logs one line, a few objects one each.
    log_each_object_up_to: int = 20

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        fmt = self.history.format_for(context.definition_metadata)
        archive = bool((context.definition_metadata or {}).get("archive"))
        if context.has_asset_partitions:
            expected = set(context.asset_partition_keys)
            if not isinstance(obj, dict) or set(obj) != expected:
                got = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
                raise TypeError(
                    f"{context.asset_key.to_user_string()} must return "
                    f"{{partition_key: value}} for {sorted(expected)}; got {got}"
                )
            values = obj
        else:
            values = {None: obj}
        log = context.log if len(values) <= self.log_each_object_up_to else None
        written = {
            partition: self.history.write(
                context.asset_key, partition, value, fmt, archive=archive, log=log
            )
            for partition, value in values.items()
        }
        if log is None:
            context.log.info(
                f"stored {len(written)} objects of {context.asset_key.to_user_string()} "
                f"({sum(i['bytes'] for i in written.values())} bytes)"
            )
        self._describe(context, fmt, written)

    def _describe(self, context: dg.OutputContext, fmt: Format, written: dict) -> None:
        """Put each object's metadata on its own partition's materialization.

        Output metadata is copied onto every partition's materialization and `OutputContext` has
        no per-partition call (dagster-io/dagster#18123), so partitions go through the step's
        `add_asset_metadata(..., partition_key=...)`, the call behind
        `AssetExecutionContext.add_asset_metadata`: one event per partition, no observations.
        """
        if None in written:
            context.add_output_metadata(object_metadata(fmt, written[None]))
            return
        for partition, info in written.items():
            context.step_context.add_asset_metadata(
                object_metadata(fmt, info), asset_key=context.asset_key, partition_key=partition
            )

    def load_input(self, context: dg.InputContext) -> Any:
        upstream = context.upstream_output
        definition = upstream.definition_metadata if upstream else None
        as_frame = _annotated_with(context.dagster_type, pd.DataFrame)
        with_version = _annotated_with(context.dagster_type, StoredValue)
        asset_key = context.asset_key

        def load(partition: str | None) -> Any:
            stored = self.history.read(
                asset_key, partition, definition, as_frame=as_frame or with_version
            )
            if stored is None:
                key = object_key(asset_key, partition, self.history.format_for(definition))
                raise ObjectNotFound(f"no object at {self.history.objects().uri(key)}")
            return stored if with_version else stored.value

        if not context.has_asset_partitions:
            return load(None)
        if context.dagster_type.typing_type is StoredPartitions:
            return StoredPartitions(context.asset_partition_keys, load)
        return {partition: load(partition) for partition in context.asset_partition_keys}

