"""The local-folder backend: plain files, their checksum in an xattr, temp files only mid-write."""

import multiprocessing
import os
from pathlib import Path

import pytest

from stock_assets.storage.local import LOCKS, XATTR, LocalFolderStore
from stock_assets.storage.objects import (
    ConcurrentUpdateError,
    ObjectNotFound,
    StoreUnavailable,
    sha256_hex,
)

KEY = "market/prices/IBM.parquet"


@pytest.fixture
def store(tmp_path: Path) -> LocalFolderStore:
    return LocalFolderStore(tmp_path)


def test_object_is_a_plain_file_carrying_its_sha256(store: LocalFolderStore, tmp_path: Path):
    version = store.put(KEY, b"payload")

    path = tmp_path / "market" / "prices" / "IBM.parquet"
    assert path.read_bytes() == b"payload"
    assert os.getxattr(path, XATTR).decode() == sha256_hex(b"payload") == version.sha256
    assert version.uri == store.uri(KEY) == str(path)
    assert sorted(p.name for p in path.parent.iterdir()) == ["IBM.parquet"]
    assert (tmp_path / LOCKS).is_dir()


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_objects_are_as_readable_as_the_umask_makes_any_file(store, tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        store.put(KEY, b"first")
        store.put(KEY, b"second")
    finally:
        os.umask(previous)

    assert (tmp_path / KEY).stat().st_mode & 0o777 == mode


def test_file_written_by_another_tool_reads_without_a_checksum(store, tmp_path: Path):
    (tmp_path / "plain.csv").write_bytes(b"a,b\n1,2\n")

    stored = store.get("plain.csv")

    assert stored.data == b"a,b\n1,2\n"
    assert stored.version.sha256 == ""
    assert stored.version.etag == sha256_hex(b"a,b\n1,2\n") == store.head("plain.csv").etag


@pytest.mark.parametrize("key", ["", "/etc/passwd", "../outside.csv", "a/../../b.csv"])
def test_keys_leaving_the_root_are_refused(store: LocalFolderStore, key: str):
    with pytest.raises(ValueError, match="invalid object key"):
        store.put(key, b"x")


def test_a_folder_is_not_an_object(store: LocalFolderStore):
    store.put(KEY, b"x")

    with pytest.raises(ObjectNotFound, match="folder"):
        store.get("market/prices")


def test_a_folder_that_cannot_be_created_is_unavailable(store, tmp_path: Path):
    (tmp_path / "market").write_bytes(b"a file where a folder should be")

    with pytest.raises(StoreUnavailable, match="cannot create folder") as failure:
        store.put(KEY, b"x")
    assert str(tmp_path / "market" / "prices") in str(failure.value)


def dead_writers_temp_file(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    temp = folder / ".IBM.parquet.tmp-deadbeef"
    temp.write_bytes(b"half a parq")
    return temp


def test_cleanup_removes_dead_writers_temp_files_only(store, tmp_path: Path):
    store.put(KEY, b"complete")
    dead = dead_writers_temp_file(tmp_path / "market" / "prices")
    live = tmp_path / "market" / "prices" / ".MSFT.parquet.tmp-0badf00d"
    live.write_bytes(b"being written")

    with store._locked(tmp_path / "market" / "prices" / "MSFT.parquet"):
        removed = store.cleanup()

    assert removed == 1
    assert not dead.exists() and live.exists()
    assert store.get(KEY).data == b"complete"
    assert store.cleanup() == 1 and not live.exists()


def test_next_write_of_a_key_removes_its_dead_writers_temp_files(store, tmp_path: Path):
    dead = dead_writers_temp_file(tmp_path / "market" / "prices")

    store.put(KEY, b"complete")

    assert not dead.exists()


def test_list_skips_temp_files_and_locks(store: LocalFolderStore, tmp_path: Path):
    store.put(KEY, b"complete")
    dead_writers_temp_file(tmp_path / "market" / "prices")
    (tmp_path / LOCKS / "stale.lock").write_bytes(b"")

    assert store.list() == store.list("market/") == [KEY]


def test_no_lock_file_outlives_its_write(store: LocalFolderStore, tmp_path: Path):
    for number in range(10):
        store.put(f"market/prices/{number % 3}.csv", f"version {number}".encode())
    with pytest.raises(ConcurrentUpdateError):
        store.put("market/prices/0.csv", b"lost", if_absent=True)
    (tmp_path / "market" / "blocked").write_bytes(b"a file where a folder should be")
    with pytest.raises(StoreUnavailable):
        store.put("market/blocked/IBM.csv", b"x")

    assert list((tmp_path / LOCKS).iterdir()) == []


def test_cleanup_removes_the_lock_files_killed_writers_left(store, tmp_path: Path):
    (tmp_path / LOCKS).mkdir()
    (tmp_path / LOCKS / f"{'dead' * 8}.lock").write_bytes(b"")

    with store._locked(tmp_path / KEY):
        assert store.cleanup() == 1
        assert store.cleanup("market") == 0
        assert len(list((tmp_path / LOCKS).iterdir())) == 1

    assert list((tmp_path / LOCKS).iterdir()) == []


WRITERS, INCREMENTS = 4, 40


def increment(root: Path, start, conflicts) -> None:
    """Add one to the counter INCREMENTS times by compare-and-swap, all writers starting
    together; put the conflicts met."""
    store, met = LocalFolderStore(root), 0
    start.wait(timeout=120)
    for _ in range(INCREMENTS):
        while True:
            current = store.get("counter")
            try:
                store.put("counter", b"%d" % (int(current.data) + 1), if_match=current.version.etag)
                break
            except ConcurrentUpdateError:
                met += 1
    conflicts.put(met)


def test_writers_in_several_processes_lose_no_update(store: LocalFolderStore, tmp_path: Path):
    """Lock files come and go while writers wait on them; mutual exclusion must hold anyway.
    Spawned, not forked (a fork of this threaded process can deadlock), so each writer starts
    at its own pace: a barrier lines them up."""
    store.put("counter", b"0")

    context = multiprocessing.get_context("spawn")
    start, queue = context.Barrier(WRITERS), context.Queue()
    writers = [context.Process(target=increment, args=(tmp_path, start, queue))
               for _ in range(WRITERS)]
    for writer in writers:
        writer.start()
    conflicts = [queue.get(timeout=300) for _ in writers]
    for writer in writers:
        writer.join(timeout=60)

    assert int(store.get("counter").data) == WRITERS * INCREMENTS
    assert sum(conflicts) > 0, "the writers never collided; the test proves nothing"
    assert list((tmp_path / LOCKS).iterdir()) == []
