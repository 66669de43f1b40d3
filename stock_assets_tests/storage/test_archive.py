"""The archive's layout, and that content already archived in a folder is not written again."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from stock_assets.storage.archive import (
    archive_once,
    content_sha256,
    entries,
    entry_key,
    entry_sha256,
)
from stock_assets.storage.local import LocalFolderStore
from stock_assets.storage.objects import sha256_hex

FOLDER = "raw_quotes/_history/IBM"
BODY_SHA256 = sha256_hex(b"the answer body")


def test_an_answer_is_known_by_its_body_and_anything_else_by_its_bytes():
    record = {"fetched_at": "2026-01-02T21:00:00Z", "body_sha256": BODY_SHA256}

    assert content_sha256(record, b"encoded record") == BODY_SHA256
    assert content_sha256({"symbol": "IBM"}, b"encoded") == sha256_hex(b"encoded")
    assert content_sha256([1, 2], b"[1, 2]") == sha256_hex(b"[1, 2]")


def test_entry_keys_sort_in_time_order_and_carry_the_sha256():
    early = entry_key(FOLDER, "f" * 64, "json", datetime(2026, 1, 2, 9, 30, tzinfo=UTC))
    late = entry_key(FOLDER, "0" * 64, "json", datetime(2026, 1, 2, 16, 0, tzinfo=UTC))

    assert early == f"{FOLDER}/20260102T093000.000000Z_{'f' * 64}.json"
    assert sorted([late, early]) == [early, late]
    assert entry_sha256(late) == "0" * 64
    assert entry_sha256(f"{FOLDER}/20260102T093000.000000Z_0badf00d.json") is None


def test_content_already_in_the_folder_is_not_archived_again(tmp_path: Path):
    store = LocalFolderStore(tmp_path)
    first = archive_once(store, entry_key(FOLDER, BODY_SHA256, "json"), b"v1", content_type="x")

    again = archive_once(store, entry_key(FOLDER, BODY_SHA256, "json"), b"v2", content_type="x")
    other = entry_key("raw_quotes/_history/IBM.L", BODY_SHA256, "json")
    elsewhere = archive_once(store, other, b"v1", content_type="x")

    [archived] = store.list(f"{FOLDER}/")
    assert again == first == store.uri(archived)
    assert store.get(archived).data == b"v1"
    assert elsewhere == store.uri(other)


def test_a_key_without_a_sha256_is_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="not an archive key"):
        archive_once(LocalFolderStore(tmp_path), f"{FOLDER}/x.json", b"v1", content_type="x")


def test_entries_are_the_folders_own_archive_keys_oldest_first(tmp_path: Path):
    store = LocalFolderStore(tmp_path)
    late = entry_key(FOLDER, "0" * 64, "json", datetime(2026, 1, 3, tzinfo=UTC))
    early = entry_key(FOLDER, "f" * 64, "json", datetime(2026, 1, 2, tzinfo=UTC))
    for key in (late, early, f"{FOLDER}/notes.txt", f"{FOLDER}/deeper/{late.rpartition('/')[2]}",
                entry_key(f"{FOLDER}.L", "1" * 64, "json")):
        store.put(key, b"v")

    assert entries(store, FOLDER) == [early, late]
    assert entries(store, "raw_quotes/_history/MSFT") == []
