"""The kill campaign's kill points: the product functions doing each phase of a run, wrapped in
the killed process only so that the process SIGKILLs itself inside the phase, where a kill hurts
most.

``STOCK_ASSETS_KILL_AT=<phase>:<n>`` kills at the n-th time the phase's point is reached in the
process (``count`` only counts); ``STOCK_ASSETS_KILL_NOTE`` names a file that gets ``killed
<phase> <n> <what>`` just before the SIGKILL, or, if the process ends on its own, the times each
point was reached (JSON). A wrapped function that is not there any more stops the process with
exit code `TARGET_MISSING` before anything runs, so a refactor cannot silently turn the campaign
into a run without kills; an armed point the process got through without dying is noted
``survived``.

The points, per phase:
- fetch: an answer's body half read (the first chunk in, the rest not);
- archive: an archive entry's write half done (local: half the bytes in the temp file; S3: half
  the PUT's body sent);
- clean: a symbol's history cleaned and merged, nothing of it stored yet (the raw answer is);
- write: a latest object's bytes written, not yet published (local: the temp file written,
  fsynced and checksummed, not renamed; S3: sent as a multipart upload, its part uploaded, the
  upload not completed);
- copy: half the rows of a load's bulk write sent (Postgres: half of a binary COPY's rows, the
  COPY not ended; SQLite: half the rows inserted);
- merge: the merge into `daily_prices` done, the new days not appended, nothing committed;
- commit: the load's transaction complete, right before its COMMIT.

Over 300 lines: every kill point is here, beside the others and the one counter they share, so
one module says where in each phase a run dies.
"""

import atexit
import functools
import importlib
import json
import os
import signal
import sys
import threading
from collections import Counter

PHASES = ("fetch", "archive", "clean", "write", "copy", "merge", "commit")
KILL_AT = "STOCK_ASSETS_KILL_AT"
KILL_NOTE = "STOCK_ASSETS_KILL_NOTE"
TARGET_MISSING = 97

_lock = threading.Lock()
_dying = threading.Lock()
_counts: Counter = Counter()
_plan: dict = {"phase": None, "n": None, "note": None}
_armed: dict = {"phase": None, "what": ""}  # the point the current object write dies at
_in_archive = threading.local()


def _note(line: str) -> None:
    if _plan["note"]:
        with open(_plan["note"], "a") as note:
            note.write(line + "\n")


def reached(phase: str) -> bool:
    """Count one arrival at the phase's point; True if this is the one to die at."""
    with _lock:
        _counts[phase] += 1
        return phase == _plan["phase"] and _counts[phase] == _plan["n"]


def die(phase: str, what: str) -> None:
    _dying.acquire()  # another thread at a point waits here for the SIGKILL
    _note(f"killed {phase} {_plan['n']} {what}")
    os.kill(os.getpid(), signal.SIGKILL)


def _survived(phase: str, what: str) -> None:
    _note(f"survived {phase} {_plan['n']} {what}")


def _write_counts() -> None:
    _note(json.dumps(dict(_counts)))


def _wrap(module_name: str, name: str, wrapper_factory, owner: str | None = None) -> None:
    """Replace `module.name` (or `module.owner.name`) by `wrapper_factory(original)`; stop the
    process if it is not there."""
    where = f"{module_name}.{owner + '.' if owner else ''}{name}"
    try:
        holder = importlib.import_module(module_name)
        if owner:
            holder = vars(holder)[owner]
        original = vars(holder)[name]
    except (ImportError, KeyError):
        sys.stderr.write(f"kill_hooks: {where} is not there: the kill point cannot be armed\n")
        os._exit(TARGET_MISSING)
    if not callable(original):
        sys.stderr.write(f"kill_hooks: {where} is not a function\n")
        os._exit(TARGET_MISSING)
    setattr(holder, name, functools.wraps(original)(wrapper_factory(original)))


class _HalfWrittenFile:
    """A temp file that takes half the bytes written to it, then the process dies."""

    def __init__(self, handle, phase: str, what: str):
        self.handle, self.phase, self.what = handle, phase, what

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.handle.__exit__(*exc_info)

    def __getattr__(self, name: str):
        return getattr(self.handle, name)

    def write(self, data: bytes) -> None:
        self.handle.write(data[: len(data) // 2])
        self.handle.flush()
        os.fsync(self.handle.fileno())
        die(self.phase, self.what)


class _HalfSentBody:
    """A request body that hands over half its bytes, then the process dies."""

    def __init__(self, body, size: int, phase: str, what: str):
        self.body, self.left, self.phase, self.what = body, size // 2, phase, what

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            die(self.phase, self.what)
        chunk = self.body.read(self.left if size is None or size < 0 else min(size, self.left))
        self.left -= len(chunk)
        return chunk


class _LocalOs:
    """`os` as `stock_assets.storage.local` sees it: the armed write dies inside it."""

    def __init__(self, real):
        self._real = real

    def __getattr__(self, name: str):
        return getattr(self._real, name)

    def fdopen(self, fd: int, *args, **kwargs):
        handle = self._real.fdopen(fd, *args, **kwargs)
        if _armed["phase"] == "archive":
            return _HalfWrittenFile(handle, "archive", _armed["what"])
        return handle

    def replace(self, source, target) -> None:
        if _armed["phase"] == "write":
            die("write", _armed["what"])
        self._real.replace(source, target)


def _arm_s3_client(client) -> None:
    """On this client's requests: a half-sent PUT (archive), a part uploaded (write)."""
    if getattr(client, "_kill_hooks_armed", False):
        return
    client._kill_hooks_armed = True
    events = client.meta.events

    def half_send(request, **_) -> None:
        if _armed["phase"] == "archive":
            size = int(request.headers["Content-Length"])
            request.body = _HalfSentBody(request.body, size, "archive", _armed["what"])

    def part_uploaded(**_) -> None:
        if _armed["phase"] == "write":
            die("write", _armed["what"])

    events.register("before-send.s3.PutObject", half_send)
    events.register("after-call.s3.UploadPart", part_uploaded)


def _publishing(original):
    """`_publish` of a store: the n-th write of a latest object (or of an archive entry, inside
    `archive_once`) is armed to die inside it."""

    def publish(self, key, data, *args, **kwargs):
        phase = "archive" if getattr(_in_archive, "on", False) else "write"
        if not reached(phase):
            return original(self, key, data, *args, **kwargs)
        _armed.update(phase=phase, what=key)
        on_s3 = hasattr(self, "client")
        threshold = getattr(self, "multipart_threshold", None)
        if on_s3:
            _arm_s3_client(self.client)
            if phase == "write":  # the path of a large object, where a part can be uploaded
                self.multipart_threshold = 0
        try:
            return original(self, key, data, *args, **kwargs)
        finally:
            if on_s3:
                self.multipart_threshold = threshold
            _armed.update(phase=None, what="")
            _survived(phase, key)

    return publish


def _archiving(original):
    def archive_once(*args, **kwargs):
        _in_archive.on = True
        try:
            return original(*args, **kwargs)
        finally:
            _in_archive.on = False

    return archive_once


class _HalfReadResponse:
    """An answer's raw response whose body dies after its first chunk has been read."""

    def __init__(self, raw):
        self._raw, self._chunks = raw, 0

    def __getattr__(self, name: str):
        return getattr(self._raw, name)

    def read1(self, *args, **kwargs):
        if self._chunks:
            query = str(getattr(self._raw, "url", "") or "").partition("?")[2]
            die("fetch", "&".join(p for p in query.split("&") if not p.startswith("apikey")))
        self._chunks += 1
        return self._raw.read1(*args, **kwargs)


def _reading(original):
    def read_body(raw, *args, **kwargs):
        if reached("fetch"):
            raw = _HalfReadResponse(raw)
        return original(raw, *args, **kwargs)

    return read_body


def _cleaning(original):
    def update_history(*args, **kwargs):
        update = original(*args, **kwargs)
        if reached("clean"):
            symbols = update.history["symbol"].unique().tolist() if len(update.history) else []
            die("clean", f"history of {','.join(map(str, symbols))} merged, not stored")
        return update

    return update_history


def _copying(original):
    """`dialects._copy_into` (Postgres): the n-th COPY sends half its rows and dies."""

    def copy_into(connection, table, columns, chunks):
        if not reached("copy"):
            return original(connection, table, columns, chunks)
        from psycopg.copy import LibpqWriter

        from stock_assets.warehouse.copy_encoding import COPY_HEADER

        chunks = list(chunks)
        half = sum(len(chunk) for chunk in chunks) // 2
        cursor = connection.connection.dbapi_connection.cursor()
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
        with cursor.copy(statement, writer=LibpqWriter(cursor, flush_threshold=0)) as copy:
            copy.write(COPY_HEADER)
            left = half
            for chunk in chunks:
                if left <= 0:
                    break
                part = chunk[:left]
                copy.write(part.tobytes())
                left -= len(part)
            die("copy", f"COPY {table}: {half} rows sent, the COPY not ended")

    return copy_into


def _inserting(original):
    """`SQLite._append`: the n-th bulk insert writes half its rows and dies."""

    def append(self, connection, table, columns, batches, loaded_at):
        if not reached("copy"):
            return original(self, connection, table, columns, batches, loaded_at)
        records = [dict(zip(columns, record, strict=True))
                   for rows in batches for record in rows.records(loaded_at)]
        half = records[: len(records) // 2]
        if half:
            connection.execute(table.insert(), half)
        die("copy", f"INSERT INTO {table.name}: {len(half)} of {len(records)} rows inserted")

    return append


def _merging(original):
    def stage_and_merge(connection, dialect, batches, lineage, *args, **kwargs):
        merged = original(connection, dialect, batches, lineage, *args, **kwargs)
        if reached("merge"):
            die("merge", f"{','.join(lineage)} merged, new days not appended, not committed")
        return merged

    return stage_and_merge


def _loading(original):
    """`load._load`, the body of the load's transaction: the n-th one dies at its COMMIT."""

    def load(connection, batches, *args, **kwargs):
        result = original(connection, batches, *args, **kwargs)
        if reached("commit"):
            import sqlalchemy as sa

            what = f"load of {','.join(batches.symbols)}: right before COMMIT"
            sa.event.listen(connection, "commit", lambda *_: die("commit", what))
        return result

    return load


def arm() -> None:
    """Wrap every kill point's function, per `STOCK_ASSETS_KILL_AT` (taken out of the environment
    so that no child process arms itself too)."""
    setting = os.environ.pop(KILL_AT, "")
    _plan["note"] = os.environ.pop(KILL_NOTE, None)
    if setting != "count":
        phase, _, n = setting.partition(":")
        if phase not in PHASES or not n.isdigit() or int(n) < 1:
            sys.stderr.write(f"kill_hooks: {KILL_AT}={setting!r} is not <phase>:<n> nor count\n")
            os._exit(TARGET_MISSING)
        _plan.update(phase=phase, n=int(n))
    _wrap("stock_assets.alphavantage.deadline", "_read_body", _reading)
    _wrap("stock_assets.storage.history_store", "archive_once", _archiving)
    _wrap("stock_assets.storage.local", "_publish", _publishing, owner="LocalFolderStore")
    _wrap("stock_assets.storage.s3", "_publish", _publishing, owner="S3Store")
    local = importlib.import_module("stock_assets.storage.local")
    local.os = _LocalOs(local.os)
    _wrap("stock_assets.prices.assets", "update_history", _cleaning)
    _wrap("stock_assets.warehouse.dialects", "_copy_into", _copying)
    _wrap("stock_assets.warehouse.dialects", "_append", _inserting, owner="SQLite")
    _wrap("stock_assets.warehouse.load", "stage_and_merge", _merging)
    _wrap("stock_assets.warehouse.load", "_load", _loading)
    atexit.register(_write_counts)
