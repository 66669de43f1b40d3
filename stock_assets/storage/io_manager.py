"""The atomic IO manager: every asset value stored as one plain object per partition.

Layout: ``<store root>/<asset key path>/<partition>.<ext>`` (unpartitioned: ``<asset key
path>.<ext>``). The format comes from the asset's definition metadata (``{"format": "csv"}``)
or the manager's default. Partitioned values travel as ``{partition_key: value}`` in both
directions, so a single-run backfill writes and reads several partitions in one step.

Two per-asset options in definition metadata:
- ``"archive": True`` also keeps every distinct value under an immutable key
  (``<asset key path>/_history/<partition>/<time>_<sha256>.<ext>``, see `.archive`): nothing
  fetched is lost, and nothing already archived is written again.
- An asset that reads its own stored value with `read_current` (read-modify-write) gets its
  write made conditional on that version, so a concurrent writer cannot be silently overwritten.

A value stored in another format than the configured one (the format was switched) is found and
read all the same; its next write stores it in the new format and only then removes the old
object, so a switch never loses history and leaves no orphan.
"""

from collections.abc import Callable, Iterator, Mapping
from typing import Any, get_args

import dagster as dg
import pandas as pd
from pydantic import PrivateAttr

from stock_assets.progress import EVERY_SYMBOL_UP_TO
from stock_assets.storage.archive import archive_once, content_sha256, entry_key
from stock_assets.storage.formats import FORMATS, Format, UnreadableObjectError, get_format
from stock_assets.storage.objects import CorruptObject, ObjectNotFound, ObjectVersion
from stock_assets.storage.resources import ObjectStoreResource

PREVIEW_ROWS = 5


class _KeepStored:
    def __repr__(self) -> str:
        return "KEEP_STORED"


# A partition's value meaning "leave what is stored as it is": nothing is written, the stored
# object stays the partition's value (an asset that holds back a bad update returns it).
KEEP_STORED = _KeepStored()
_UNCONDITIONAL = object()


def object_key(asset_key: dg.AssetKey, partition: str | None, fmt: Format) -> str:
    path = "/".join(asset_key.path)
    return f"{path}/{partition}.{fmt.extension}" if partition else f"{path}.{fmt.extension}"


def archive_folder(asset_key: dg.AssetKey, partition: str | None) -> str:
    """Where the archived values of one partition are kept (see `.archive`)."""
    return f"{'/'.join(asset_key.path)}/_history/{partition or '_'}"


def archive_key(asset_key: dg.AssetKey, partition: str | None, fmt: Format, sha256: str) -> str:
    return entry_key(archive_folder(asset_key, partition), sha256, fmt.extension)


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


def _wants_frame(dagster_type: dg.DagsterType) -> bool:
    typing_type = dagster_type.typing_type
    return typing_type is pd.DataFrame or pd.DataFrame in get_args(typing_type)


def _preview(frame: pd.DataFrame) -> dg.TableMetadataValue:
    head = frame.head(PREVIEW_ROWS)
    records = [
        dg.TableRecord({k: (v if isinstance(v, int | float | bool) else str(v))
                        for k, v in row.items() if not pd.isna(v)})
        for row in head.to_dict(orient="records")
    ]
    columns = [dg.TableColumn(str(name), str(dtype)) for name, dtype in frame.dtypes.items()]
    return dg.MetadataValue.table(records, dg.TableSchema(columns))


class AtomicIOManager(dg.ConfigurableIOManager):
    """Stores asset values atomically in an `ObjectStoreResource` as JSON, CSV or Parquet."""

    store: dg.ResourceDependency[ObjectStoreResource]
    default_format: str = "parquet"
    _expected: dict[str, Any] = PrivateAttr(default_factory=dict)
    _superseded: dict[str, str] = PrivateAttr(default_factory=dict)

    def format_for(self, definition_metadata: dict | None) -> Format:
        return get_format((definition_metadata or {}).get("format", self.default_format))

    def _load_key(self, key: str, fmt: Format, *, as_frame: bool) -> tuple[Any, ObjectVersion]:
        stored = self.store.get_store().get(key)
        try:
            value = fmt.decode(stored.data, as_frame=as_frame)
        except UnreadableObjectError as exc:
            raise CorruptObject(f"{stored.version.uri} is unreadable: {exc}") from exc
        if isinstance(value, pd.DataFrame):
            value.attrs["source"] = {"uri": stored.version.uri, "sha256": stored.version.sha256}
        return value, stored.version

    def read_current(
        self,
        context: dg.AssetExecutionContext,
        partition: str | None,
        *,
        asset_key: dg.AssetKey | None = None,
        as_frame: bool = True,
    ) -> Any:
        """This asset's stored value for `partition` (None if absent), arming a conditional write.

        `asset_key` names which output of a multi-asset is meant (default: the only one).

        The write of this partition that follows in the same step succeeds only if the object is
        still the version read here (or still absent); otherwise it fails with a
        "concurrent update" error and Dagster's retry can redo the work on fresh data.
        """
        asset_key = asset_key or context.asset_key
        fmt = self.format_for(context.assets_def.metadata_by_key[asset_key])
        key = object_key(asset_key, partition, fmt)
        found = self._find(asset_key, partition, fmt)
        if found is None:
            self._expected[key] = None
            return None
        stored_key, stored_fmt = found
        value, version = self._load_key(stored_key, stored_fmt, as_frame=as_frame)
        if stored_key == key:
            self._expected[key] = version.etag
        else:  # written anew in this format, then the old object goes
            self._expected[key] = None
            self._superseded[key] = stored_key
        return value

    def _find(
        self, asset_key: dg.AssetKey, partition: str | None, fmt: Format
    ) -> tuple[str, Format] | None:
        """Where the value is stored: in `fmt`, else in another format (a switched format)."""
        store = self.store.get_store()
        for candidate in [fmt, *(f for f in FORMATS.values() if f != fmt)]:
            key = object_key(asset_key, partition, candidate)
            if store.head(key) is not None:
                return key, candidate
        return None

    def read_stored(
        self,
        asset_key: dg.AssetKey,
        partition: str | None,
        definition_metadata: Mapping[str, Any] | None,
        *,
        columns: list[str] | None = None,
    ) -> pd.DataFrame | None:
        """Another asset's stored table for `partition` (None if absent), only `columns` if given.

        For a step that plans from what is stored (not from the event log) without taking the
        asset as an input: one read of the object.
        """
        found = self._find(asset_key, partition, self.format_for(dict(definition_metadata or {})))
        if found is None:
            return None
        key, fmt = found
        try:
            stored = self.store.get_store().get(key)
        except ObjectNotFound:
            return None
        try:
            return fmt.decode(stored.data, as_frame=True, columns=columns)
        except (UnreadableObjectError, KeyError) as exc:
            raise CorruptObject(f"{stored.version.uri} is unreadable: {exc}") from exc

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        fmt = self.format_for(context.definition_metadata)
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
        log_each = len(values) <= EVERY_SYMBOL_UP_TO  # a log line is a stored event
        written = {
            partition: self._write(context, fmt, partition, value, archive, log=log_each)
            for partition, value in values.items()
        }
        if not log_each:
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
            context.add_output_metadata(self._metadata(fmt, written[None]))
            return
        for partition, info in written.items():
            context.step_context.add_asset_metadata(
                self._metadata(fmt, info), asset_key=context.asset_key, partition_key=partition
            )

    def store_partitions(
        self, context: dg.AssetExecutionContext, values: dict[str, Any]
    ) -> dict[str, dict]:
        """Write some partitions of this asset from inside its step; return each one's metadata.

        For a step that cannot produce all its partitions (a quota ran out half way): what it
        has is stored as `handle_output` would, and the caller records the materializations.
        """
        definition = context.assets_def.metadata_by_key[context.asset_key]
        fmt = self.format_for(definition)
        archive = bool(definition.get("archive"))
        return {
            partition: self._metadata(fmt, self._write(context, fmt, partition, value, archive))
            for partition, value in values.items()
        }

    def _keep(self, context, fmt: Format, partition: str | None) -> dict:
        """The stored object, left as it is (no write), described like a written one."""
        key = object_key(context.asset_key, partition, fmt)
        self._expected.pop(key, None)
        self._superseded.pop(key, None)
        found = self._find(context.asset_key, partition, fmt)
        version = self.store.get_store().head(found[0]) if found else None
        if version is None:
            raise ObjectNotFound(f"nothing stored to keep for {key}")
        return {"uri": version.uri, "bytes": version.size, "sha256": version.sha256,
                "etag": version.etag, "kept": "the stored object, unchanged"}

    def _write(self, context, fmt, partition, value, archive, log=True) -> dict:
        if value is KEEP_STORED:
            return self._keep(context, fmt, partition)
        store = self.store.get_store()
        data = fmt.encode(value)
        key = object_key(context.asset_key, partition, fmt)
        info: dict[str, Any] = {}
        if archive:
            sha256 = content_sha256(value, data)
            info["archived_uri"] = archive_once(
                store, archive_key(context.asset_key, partition, fmt, sha256), data,
                content_type=fmt.content_type,
            )
        expected = self._expected.pop(key, _UNCONDITIONAL)
        conditions = (
            {} if expected is _UNCONDITIONAL
            else {"if_absent": True} if expected is None
            else {"if_match": expected}
        )
        version = store.put(key, data, content_type=fmt.content_type, **conditions)
        superseded = self._superseded.pop(key, None)
        if superseded is not None:
            store.delete(superseded)
            info["migrated_from"] = store.uri(superseded)
            context.log.info(f"{store.uri(superseded)} is now {version.uri}; the old one is gone")
        if log:
            context.log.info(
                f"stored {version.uri} ({version.size} bytes, sha256 {version.sha256[:12]}…)"
            )
        info.update(uri=version.uri, bytes=version.size, sha256=version.sha256, etag=version.etag)
        if version.version_id and version.version_id != "null":
            info["version_id"] = version.version_id
        if isinstance(value, pd.DataFrame):
            info["rows"] = len(value)
            info["preview"] = _preview(value)
        return info

    @staticmethod
    def _metadata(fmt: Format, info: dict) -> dict:
        """One stored object's metadata: format, where it is, its size, hash and rows."""
        return {
            "format": fmt.name,
            **{k: (dg.MetadataValue.path(v) if k.endswith("uri") else v) for k, v in info.items()},
        }

    def load_input(self, context: dg.InputContext) -> Any:
        upstream = context.upstream_output
        fmt = self.format_for(upstream.definition_metadata if upstream else None)
        as_frame = _wants_frame(context.dagster_type)
        asset_key = context.asset_key
        def load(partition: str | None) -> Any:
            try:
                return self._load_key(object_key(asset_key, partition, fmt), fmt,
                                      as_frame=as_frame)[0]
            except ObjectNotFound:
                found = self._find(asset_key, partition, fmt)  # stored before a format switch
                if found is None:
                    raise
                return self._load_key(*found, as_frame=as_frame)[0]

        if not context.has_asset_partitions:
            return load(None)

        if context.dagster_type.typing_type is StoredPartitions:
            return StoredPartitions(context.asset_partition_keys, load)
        return {partition: load(partition) for partition in context.asset_partition_keys}
