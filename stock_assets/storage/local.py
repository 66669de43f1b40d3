"""The local-folder backend: temp file in the same folder, fsync, `os.replace`, fsync the folder.

The SHA-256 rides along as an extended attribute set on the temp file before the rename, so
content and checksum are published together. Writers to one key take an advisory lock (lock
files live apart, in ``<root>/.locks``, and only as long as the write), which makes
compare-and-swap exact and tells a dead writer's temp file from a live one's.
"""

import contextlib
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePath, PurePosixPath

from stock_assets.storage.objects import (
    ConcurrentUpdateError,
    ObjectNotFound,
    ObjectStore,
    ObjectVersion,
    StoreUnavailable,
    sha256_hex,
)

XATTR = "user.stock_assets.sha256"
TMP_MARK = ".tmp-"
LOCKS = ".locks"


def _read_xattr(path: Path) -> str:
    try:
        return os.getxattr(path, XATTR).decode()
    except OSError:
        return ""


def _umask() -> int:
    """The process's umask, read without setting it (`os.umask` sets it: a race with threads)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)  # no /proc (or a kernel before 4.7): the only other way
    os.umask(mask)
    return mask


def _is_debris(relative: PurePath) -> bool:
    """A lock file or a writer's temp file: never an object."""
    return relative.parts[0] == LOCKS or (
        relative.name.startswith(".") and TMP_MARK in relative.name
    )


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _names(fd: int, path: Path) -> bool:
    """Whether `path` still names the open file `fd`."""
    try:
        opened, current = os.fstat(fd), os.stat(path)
    except FileNotFoundError:
        return False
    return (opened.st_dev, opened.st_ino) == (current.st_dev, current.st_ino)


@contextlib.contextmanager
def _holding(lock_path: Path, *, blocking: bool = True, create: bool = True) -> Iterator[bool]:
    """Hold an exclusive lock on `lock_path` (False if busy and not `blocking`), then remove it.

    The holder unlinks the lock file before releasing it, so no lock file outlives its write.
    A waiter may therefore lock a file that is already unlinked (or replaced by a newer one):
    it checks that the path still names the file it locked, and starts over if not.
    `create=False` only takes an existing lock file (False if there is none).
    """
    while True:
        try:
            fd = os.open(lock_path, os.O_RDWR | (os.O_CREAT if create else 0), 0o666)
        except FileNotFoundError:
            if create:
                raise
            yield False
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            if _names(fd, lock_path):
                break
        except BlockingIOError:
            os.close(fd)
            yield False
            return
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    try:
        yield True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock_path)
        os.close(fd)


class LocalFolderStore(ObjectStore):
    """Objects as plain files below `root`, readable by any tool that reads files."""

    def __init__(self, root: str | Path):
        self.root = Path(root).absolute()

    def uri(self, key: str) -> str:
        return str(self._path(key))

    def _path(self, key: str) -> Path:
        parts = PurePosixPath(key).parts
        if not parts or key.startswith("/") or any(p in {"..", "."} for p in parts):
            raise ValueError(f"invalid object key {key!r}")
        return self.root.joinpath(*parts)

    def _locked(self, path: Path, *, blocking: bool = True) -> contextlib.AbstractContextManager:
        locks = self.root / LOCKS
        locks.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(str(path.relative_to(self.root)).encode()).hexdigest()[:32]
        return _holding(locks / f"{name}.lock", blocking=blocking)

    def _version(self, path: Path, data: bytes | None = None) -> ObjectVersion:
        stored = _read_xattr(path)
        etag = stored or sha256_hex(data if data is not None else path.read_bytes())
        size = len(data) if data is not None else path.stat().st_size
        return ObjectVersion(uri=str(path), etag=etag, sha256=stored, size=size)

    def _publish(self, key, data, sha256, if_match, if_absent, content_type) -> ObjectVersion:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(f"cannot create folder {path.parent}: {exc.strerror}") from exc
        with self._locked(path):
            current = self._head(key)
            if if_absent and current is not None:
                raise ConcurrentUpdateError(f"concurrent update: {path} was created meanwhile")
            if if_match is not None and (current is None or current.etag != if_match):
                raise ConcurrentUpdateError(
                    f"concurrent update: {path} changed since it was read (expected {if_match})"
                )
            self._remove_temp_files(path)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}{TMP_MARK}")
            try:
                os.fchmod(fd, 0o666 & ~_umask())  # mkstemp's 0600 would hide it from other tools
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                with contextlib.suppress(OSError):
                    os.setxattr(tmp, XATTR, sha256.encode())
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                raise
            _fsync_dir(path.parent)
        return ObjectVersion(uri=str(path), etag=sha256, sha256=sha256, size=len(data))

    def _fetch(self, key: str) -> tuple[bytes, ObjectVersion]:
        path = self._path(key)
        try:
            with open(path, "rb") as handle:
                # Read the checksum from the open file: a rename after open cannot mix versions.
                data = handle.read()
                try:
                    stored = os.getxattr(handle.fileno(), XATTR).decode()
                except OSError:
                    stored = ""
        except FileNotFoundError:
            raise ObjectNotFound(f"no object at {path}") from None
        except IsADirectoryError:
            raise ObjectNotFound(f"{path} is a folder, not an object") from None
        version = ObjectVersion(
            uri=str(path), etag=stored or sha256_hex(data), sha256=stored, size=len(data)
        )
        return data, version

    def _head(self, key: str) -> ObjectVersion | None:
        path = self._path(key)
        try:
            return self._version(path)
        except FileNotFoundError:
            return None

    def _delete(self, key: str) -> None:
        path = self._path(key)
        with self._locked(path):
            try:
                path.unlink()
            except FileNotFoundError:
                return
            _fsync_dir(path.parent)

    def list(self, prefix: str = "") -> list[str]:
        folder = prefix.rpartition("/")[0]
        base = self._path(folder) if folder else self.root
        keys = (
            path.relative_to(self.root).as_posix()
            for path in (base.rglob("*") if base.is_dir() else [])
            if not _is_debris(path.relative_to(self.root)) and path.is_file()
        )
        return sorted(key for key in keys if key.startswith(prefix))

    def _remove_temp_files(self, path: Path) -> int:
        """Delete temp files of `path` left by killed writers (caller holds the key's lock)."""
        removed = 0
        for tmp in path.parent.glob(f".{path.name}{TMP_MARK}*"):
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
                removed += 1
        return removed

    def cleanup(self, prefix: str = "", *, older_than_seconds: float = 3600) -> int:
        """Remove temp files whose writer is gone (its lock is free), below `prefix`.

        Without a prefix, also the lock files that killed writers left (lock files are named
        by a hash of their key, so a prefix cannot select them). A free lock proves the writer
        gone, so `older_than_seconds`, which S3 needs (an upload has no owner to ask), is not
        consulted here.
        """
        base = self._path(prefix) if prefix else self.root
        removed = 0
        for tmp in base.rglob(f".*{TMP_MARK}*") if base.exists() else []:
            name = tmp.name[1:].split(TMP_MARK, 1)[0]
            target = tmp.parent / name
            with self._locked(target, blocking=False) as acquired:
                if acquired:
                    removed += self._remove_temp_files(target)
        for lock in [] if prefix else (self.root / LOCKS).glob("*.lock"):
            with _holding(lock, blocking=False, create=False) as acquired:
                removed += acquired
        return removed
