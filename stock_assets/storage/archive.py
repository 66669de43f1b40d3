"""The archive: each distinct content of an asset's partition kept once, under an immutable key.

Layout: ``<folder>/<UTC stamp>_<sha256>.<ext>``. The stamp (``%Y%m%dT%H%M%S.%fZ``, when the
content was first archived) puts a listing in time order; the SHA-256 names the content, so a
re-run that brings back the same content finds it archived and writes nothing. For a fetched
answer the SHA-256 is its body's (``body_sha256`` in the stored record), since the record around
it differs on every fetch (a corporate-actions record carries its two answers' combined one); for
any other value it is that of the encoded bytes.
"""

import re
from datetime import UTC, datetime
from typing import Any

from stock_assets.storage.objects import ObjectStore, sha256_hex

STAMP = "%Y%m%dT%H%M%S.%fZ"
_ENTRY = re.compile(r"_(?P<sha256>[0-9a-f]{64})\.[^/]+$")


def content_sha256(value: Any, data: bytes) -> str:
    """What identifies a value in the archive: its answer body's SHA-256, else its bytes'."""
    if isinstance(value, dict) and isinstance(value.get("body_sha256"), str):
        return value["body_sha256"]
    return sha256_hex(data)


def entry_key(folder: str, sha256: str, extension: str, at: datetime | None = None) -> str:
    stamp = (at or datetime.now(UTC)).strftime(STAMP)
    return f"{folder}/{stamp}_{sha256}.{extension}"


def entry_sha256(key: str) -> str | None:
    """The content SHA-256 an archive key carries (None for a key of another layout)."""
    match = _ENTRY.search(key)
    return match["sha256"] if match else None


def entries(store: ObjectStore, folder: str) -> list[str]:
    """The keys archived in `folder` (not below it), oldest first: the stamp leads each name."""
    return sorted(
        key for key in store.list(f"{folder}/")
        if key.rpartition("/")[0] == folder and entry_sha256(key) is not None
    )


def archive_once(store: ObjectStore, key: str, data: bytes, *, content_type: str) -> str:
    """Archive `data` at `key` unless its folder already holds that content; the copy's URI.

    Two runs archiving the same new content at the same moment may both write it: a duplicate
    costs space, never an answer.
    """
    folder = key.rpartition("/")[0]
    sha256 = entry_sha256(key)
    if sha256 is None:
        raise ValueError(f"{key!r} is not an archive key (<folder>/<stamp>_<sha256>.<ext>)")
    for archived in entries(store, folder):
        if entry_sha256(archived) == sha256:
            return store.uri(archived)
    return store.put(key, data, if_absent=True, content_type=content_type).uri
