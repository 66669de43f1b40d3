"""The history store: asset values read with the version they were read at, and written
atomically, on condition that the stored version is still that one (compare-and-swap).

Layout: ``<store root>/<asset key path>/<partition>.<ext>`` (unpartitioned: ``<asset key
path>.<ext>``). An asset that updates its own stored value (read-modify-write) reads it here and
returns an `Update` naming the version it started from; the write then fails with a "concurrent
update" error if another writer got there first, and Dagster's retry redoes the work on fresh
data. Values may also be archived once under an immutable key (see `.archive`).

A value stored in another format than the configured one (the format was switched) is found and
read all the same; an update stores it in the new format and only then removes the old object,
so a switch never loses history and leaves no orphan.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import dagster as dg
import pandas as pd

from stock_assets.settings import DEFAULT_PRICES_FORMAT
from stock_assets.storage.archive import archive_once, content_sha256, entry_key
from stock_assets.storage.formats import FORMATS, Format, UnreadableObjectError, get_format
from stock_assets.storage.objects import CorruptObject, ObjectNotFound, ObjectStore, ObjectVersion
from stock_assets.storage.resources import ObjectStoreResource

PREVIEW_ROWS = 5


class _KeepStored:
    def __repr__(self) -> str:
        return "KEEP_STORED"


# A partition's value meaning "leave what is stored as it is": nothing is written, the stored
# object stays the partition's value (an asset that holds back a bad update returns it).
KEEP_STORED = _KeepStored()


def object_key(asset_key: dg.AssetKey, partition: str | None, fmt: Format) -> str:
    path = "/".join(asset_key.path)
    return f"{path}/{partition}.{fmt.extension}" if partition else f"{path}.{fmt.extension}"


def archive_folder(asset_key: dg.AssetKey, partition: str | None) -> str:
    """Where the archived values of one partition are kept (see `.archive`)."""
    return f"{'/'.join(asset_key.path)}/_history/{partition or '_'}"


def rejected_folder(asset_key: dg.AssetKey, partition: str) -> str:
    """Where answers refused for a partition are kept as evidence: beside the archive, never in
    it, so neither a read nor a replay ever takes one for the partition's value."""
    return f"{'/'.join(asset_key.path)}/_rejected/{partition}"


def archive_key(asset_key: dg.AssetKey, partition: str | None, fmt: Format, sha256: str) -> str:
    return entry_key(archive_folder(asset_key, partition), sha256, fmt.extension)


@dataclass(frozen=True)
class StoredValue:
    """A partition's value as stored: the value, the object's key and the version read (its URI
    and SHA-256 are the lineage of whatever is made from it; its ETag the base of an update)."""

    value: Any
    key: str
    version: ObjectVersion


@dataclass(frozen=True)
class Update:
    """A new value for a partition, written only if the stored object is still `base` (None:
    only if nothing is stored yet)."""

    value: Any
    base: StoredValue | None


def _preview(frame: pd.DataFrame) -> dg.TableMetadataValue:
    head = frame.head(PREVIEW_ROWS)
    records = [
        dg.TableRecord({k: (v if isinstance(v, int | float | bool) else str(v))
                        for k, v in row.items() if not pd.isna(v)})
        for row in head.to_dict(orient="records")
    ]
    columns = [dg.TableColumn(str(name), str(dtype)) for name, dtype in frame.dtypes.items()]
    return dg.MetadataValue.table(records, dg.TableSchema(columns))


def object_metadata(fmt: Format, info: Mapping[str, Any]) -> dict:
    """One stored object's materialization metadata: format, where it is, size, hash, rows."""
    return {
        "format": fmt.name,
        **{k: (dg.MetadataValue.path(v) if k.endswith("uri") else v) for k, v in info.items()},
    }


class HistoryStore(dg.ConfigurableResource):
    """Asset values in an `ObjectStoreResource` as JSON, CSV or Parquet, read with their version
    and written atomically (conditionally on a version when asked)."""

    store: dg.ResourceDependency[ObjectStoreResource]
    default_format: str = DEFAULT_PRICES_FORMAT

    def objects(self) -> ObjectStore:
        return self.store.get_store()

    def format_for(self, definition_metadata: Mapping[str, Any] | None) -> Format:
        """An asset's format: its definition metadata's ``format``, else the default."""
        return get_format((definition_metadata or {}).get("format", self.default_format))

    def find(
        self, asset_key: dg.AssetKey, partition: str | None, fmt: Format, *,
        others_only: bool = False,
    ) -> tuple[str, Format] | None:
        """Where the value is stored: in `fmt`, else in another format (a switched format)."""
        store = self.objects()
        others = [f for f in FORMATS.values() if f != fmt]
        for candidate in others if others_only else [fmt, *others]:
            key = object_key(asset_key, partition, candidate)
            if store.head(key) is not None:
                return key, candidate
        return None

    def read(
        self,
        asset_key: dg.AssetKey,
        partition: str | None,
        definition_metadata: Mapping[str, Any] | None = None,
        *,
        as_frame: bool = True,
        columns: list[str] | None = None,
    ) -> StoredValue | None:
        """The stored value of `partition` with the version read (None if nothing is stored),
        only `columns` if given; a damaged object raises `CorruptObject`."""
        fmt = self.format_for(definition_metadata)
        key = object_key(asset_key, partition, fmt)
        try:
            stored = self.objects().get(key)
        except ObjectNotFound:  # stored in another format (a switch), or not at all
            found = self.find(asset_key, partition, fmt, others_only=True)
            if found is None:
                return None
            key, fmt = found
            try:
                stored = self.objects().get(key)
            except ObjectNotFound:  # removed between the look and the read
                return None
        try:
            value = fmt.decode(stored.data, as_frame=as_frame, columns=columns)
        except (UnreadableObjectError, KeyError) as exc:
            raise CorruptObject(f"{stored.version.uri} is unreadable: {exc}") from exc
        return StoredValue(value, key, stored.version)

    def read_table(
        self, asset_key: dg.AssetKey, partition: str | None, *, columns: list[str] | None = None
    ) -> pd.DataFrame | None:
        """Another asset's stored table for `partition` (None if absent): for a step that plans
        from what is stored, not from the event log, without taking the asset as an input."""
        stored = self.read(asset_key, partition, columns=columns)
        return None if stored is None else stored.value

    def write(
        self,
        asset_key: dg.AssetKey,
        partition: str | None,
        value: Any,
        fmt: Format,
        *,
        archive: bool = False,
        log: dg.DagsterLogManager | None = None,
    ) -> dict:
        """Store one partition's value (an `Update` conditionally, `KEEP_STORED` not at all) and
        describe the object: uri, bytes, sha256, etag, rows."""
        if value is KEEP_STORED:
            return self._keep(asset_key, partition, fmt)
        update = value if isinstance(value, Update) else None
        value = update.value if update else value
        store = self.objects()
        data = fmt.encode(value)
        key = object_key(asset_key, partition, fmt)
        info: dict[str, Any] = {}
        if archive:
            sha256 = content_sha256(value, data)
            info["archived_uri"] = archive_once(
                store, archive_key(asset_key, partition, fmt, sha256), data,
                content_type=fmt.content_type,
            )
        base = update.base if update else None
        conditions = (
            {} if update is None
            else {"if_match": base.version.etag} if base is not None and base.key == key
            else {"if_absent": True}  # nothing stored, or stored in another format
        )
        version = store.put(key, data, content_type=fmt.content_type, **conditions)
        if base is not None and base.key != key:  # written anew in this format: the old goes
            store.delete(base.key)
            info["migrated_from"] = store.uri(base.key)
            if log:
                log.info(f"{store.uri(base.key)} is now {version.uri}; the old one is gone")
        if log:
            log.info(f"stored {version.uri} ({version.size} bytes, sha256 {version.sha256[:12]}…)")
        info.update(uri=version.uri, bytes=version.size, sha256=version.sha256, etag=version.etag)
        if version.version_id and version.version_id != "null":
            info["version_id"] = version.version_id
        if isinstance(value, pd.DataFrame):
            info["rows"] = len(value)
            info["preview"] = _preview(value)
        return info

    def _keep(self, asset_key: dg.AssetKey, partition: str | None, fmt: Format) -> dict:
        """The stored object, left as it is (no write), described like a written one."""
        found = self.find(asset_key, partition, fmt)
        version = self.objects().head(found[0]) if found else None
        if version is None:
            raise ObjectNotFound(
                f"nothing stored to keep for {object_key(asset_key, partition, fmt)}"
            )
        return {"uri": version.uri, "bytes": version.size, "sha256": version.sha256,
                "etag": version.etag, "kept": "the stored object, unchanged"}

    def keep_rejected(self, asset_key: dg.AssetKey, partition: str, record: dict) -> str:
        """Keep a refused answer's record as evidence, once per content; its URI."""
        fmt = get_format("json")
        data = fmt.encode(record)
        key = entry_key(rejected_folder(asset_key, partition), content_sha256(record, data),
                        fmt.extension)
        return archive_once(self.objects(), key, data, content_type=fmt.content_type)

    def write_partitions(
        self, context: dg.AssetExecutionContext, values: dict[str, Any]
    ) -> dict[str, dict]:
        """Write some partitions of the step's asset from inside its step; return each one's
        metadata. For a step that cannot produce all its partitions (a quota ran out half way):
        what it has is stored as its IO manager would, and the caller records the
        materializations."""
        definition = context.assets_def.metadata_by_key[context.asset_key]
        fmt = self.format_for(definition)
        archive = bool(definition.get("archive"))
        return {
            partition: object_metadata(
                fmt,
                self.write(context.asset_key, partition, value, fmt, archive=archive,
                           log=context.log),
            )
            for partition, value in values.items()
        }
