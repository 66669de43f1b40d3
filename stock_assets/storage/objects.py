"""The object store contract: atomic publish, compare-and-swap, and checksums on every read.

A backend only moves bytes (`_publish`, `_fetch`, `_head`); the checks that make a write safe
and a read trustworthy live here, once, for both backends.
"""

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass


class StorageError(Exception):
    """Base class for storage failures; messages name the object's URI."""


class ObjectNotFound(StorageError):
    """No object at the key."""


class CorruptObject(StorageError):
    """The bytes read do not match the checksum written with them."""


class ConcurrentUpdateError(StorageError):
    """The object changed since it was read (or appeared since it was found absent)."""


class StoreUnavailable(StorageError):
    """The endpoint, bucket or folder cannot be reached."""


@dataclass(frozen=True)
class ObjectVersion:
    """Where an object lives and which version of it this is."""

    uri: str
    etag: str
    sha256: str
    size: int
    version_id: str | None = None


@dataclass(frozen=True)
class StoredObject:
    data: bytes
    version: ObjectVersion


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ObjectStore(ABC):
    """Keys are '/'-separated paths below the store's root (a folder or s3://bucket/prefix)."""

    @abstractmethod
    def uri(self, key: str) -> str:
        """The address a person or another tool uses to read the object."""

    def put(
        self, key: str, data: bytes, *, if_match: str | None = None, if_absent: bool = False,
        content_type: str = "application/octet-stream",
    ) -> ObjectVersion:
        """Publish `data` at `key` atomically: readers see the old or the new object, whole.

        `if_match` (an ETag) or `if_absent` make the write conditional; a write whose condition
        fails raises `ConcurrentUpdateError` and leaves the stored object as it was.
        """
        if if_match is not None and if_absent:
            raise ValueError("if_match and if_absent exclude each other")
        return self._publish(key, data, sha256_hex(data), if_match, if_absent, content_type)

    def get(self, key: str) -> StoredObject:
        """Read an object and verify it against the SHA-256 stored with it."""
        data, version = self._fetch(key)
        if version.sha256 and sha256_hex(data) != version.sha256:
            raise CorruptObject(
                f"{self.uri(key)} is corrupt: its {len(data)} bytes do not match the SHA-256 "
                f"{version.sha256} written with them"
            )
        return StoredObject(data, version)

    def head(self, key: str) -> ObjectVersion | None:
        """The current version of an object, or None if there is none."""
        return self._head(key)

    def delete(self, key: str) -> None:
        """Remove an object (nothing happens if there is none)."""
        self._delete(key)

    @abstractmethod
    def _delete(self, key: str) -> None: ...

    @abstractmethod
    def list(self, prefix: str = "") -> list[str]:
        """The keys of the objects whose key starts with `prefix`, sorted.

        Only published objects: no temporary files, no incomplete uploads.
        """

    @abstractmethod
    def _publish(
        self, key: str, data: bytes, sha256: str, if_match: str | None, if_absent: bool,
        content_type: str,
    ) -> ObjectVersion: ...

    @abstractmethod
    def _fetch(self, key: str) -> tuple[bytes, ObjectVersion]: ...

    @abstractmethod
    def _head(self, key: str) -> ObjectVersion | None: ...

    @abstractmethod
    def cleanup(self, prefix: str = "", *, older_than_seconds: float = 3600) -> int:
        """Remove what killed writers left (temporary files, incomplete uploads); return count."""
