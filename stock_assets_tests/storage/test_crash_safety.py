"""Writers SIGKILLed mid-write leave the old object or the new one, whole; cleanup clears debris."""

import os
import random
import signal
import subprocess
import sys
import time

import pytest
from botocore.exceptions import ClientError

from stock_assets.storage.objects import ObjectNotFound, sha256_hex
from stock_assets.storage.s3 import MiB
from stock_assets_tests.storage import crash_writer
from stock_assets_tests.storage.conftest import Backend

KEY = "market/prices/IBM.parquet"
KILLS = 20
SETTLE_SECONDS = 0.1
SIZES = {"local": 32 * MiB, "s3": 12 * MiB}  # S3: three 5 MiB parts, so multipart is in play


class WriterServer:
    """The crash_writer fork server in a subprocess, spoken to over its stdin and stdout."""

    def __init__(self, argv: list[str]):
        self.process = subprocess.Popen(
            [sys.executable, crash_writer.__file__, *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.writer: int | None = None
        self.read_until("ready")

    def read_until(self, answer: str) -> tuple[str, list[str]]:
        """The line starting with `answer`, and what the writer reported before it."""
        lines = []
        while not (line := self.process.stdout.readline().strip()).startswith(answer):
            if not line:
                raise RuntimeError(f"the writer server died (exit {self.process.poll()})")
            lines.append(line)
        return line, lines

    def send(self, command: str) -> None:
        self.process.stdin.write(f"{command}\n")
        self.process.stdin.flush()

    def start_writer(self, first_version: int) -> list[str]:
        self.send(f"write {first_version}")
        answer, lines = self.read_until("writer ")
        self.writer = int(answer.split()[1])
        return lines

    def kill_writer(self) -> list[str]:
        """SIGKILL the writer; everything it reported."""
        os.kill(self.writer, signal.SIGKILL)
        self.send(f"reap {self.writer}")
        _, lines = self.read_until(f"reaped {self.writer}")
        self.writer = None
        return lines

    def close(self) -> None:
        if self.writer is not None:
            self.kill_writer()
        self.process.stdin.close()
        self.process.wait(timeout=10)


def writer_argv(backend: Backend, request: pytest.FixtureRequest) -> list[str]:
    common = ["--key", KEY, "--size", str(SIZES[backend.name])]
    if backend.name == "local":
        return [*common, "local", str(backend.store.root)]
    store = backend.store
    return [
        *common,
        "s3",
        store.bucket,
        "--prefix",
        store.prefix,
        "--endpoint",
        request.getfixturevalue("moto_endpoint"),
        "--part-size",
        str(store.part_size),
    ]


def settled_sha256(backend: Backend) -> str | None:
    """The object's SHA-256 read around the store (None: no object), once reads agree: S3 still
    carries out a request whose sender was killed after sending it."""
    current = raw_sha256(backend)
    if backend.name == "local":  # the reaped writer was the only one touching the file
        return current
    previous, deadline = "unread", time.monotonic() + 5
    while current != previous and time.monotonic() < deadline:
        time.sleep(SETTLE_SECONDS)
        previous, current = current, raw_sha256(backend)
    return current


def raw_sha256(backend: Backend) -> str | None:
    try:
        return sha256_hex(backend.read_raw(KEY))
    except FileNotFoundError:
        return None
    except ClientError as error:
        if error.response["Error"]["Code"] == "NoSuchKey":
            return None
        raise


@pytest.mark.slow
def test_killed_writers_never_leave_a_torn_object(backend: Backend, request):
    size = SIZES[backend.name]
    version_sha256 = [
        sha256_hex(crash_writer.version_bytes(n, size)) for n in range(crash_writer.VERSIONS)
    ]
    backend.store.put("calibration.bin", crash_writer.version_bytes(0, size))  # warm up
    started = time.perf_counter()
    backend.store.put("calibration.bin", crash_writer.version_bytes(1, size))
    window = 3 * (time.perf_counter() - started)  # kills fall within the first three puts
    rng = random.Random(20240102)
    server = WriterServer(writer_argv(backend, request))
    seen, kills_mid_write, stored, debris = set(), 0, None, set()
    try:
        for kill in range(KILLS):
            lines = server.start_writer(first_version=kill)
            time.sleep(rng.uniform(0, window))
            lines += server.kill_writer()

            reported = [line.split() for line in lines]
            done = [int(n) for word, n in reported if word == "done"]
            begun = [int(n) for word, n in reported if word == "start"]
            # The last completed put, or the one in flight if it landed before the kill.
            possible = {version_sha256[done[-1]] if done else stored}
            if begun:
                possible.add(version_sha256[begun[-1]])
            stored = settled_sha256(backend)
            assert stored in possible, f"kill {kill}: torn or unexpected object after {lines}"
            if stored is None:
                with pytest.raises(ObjectNotFound):
                    backend.store.get(KEY)
            else:
                assert sha256_hex(backend.store.get(KEY).data) == stored
                seen.add(stored)
            kills_mid_write += bool(set(backend.leftovers()) - debris)
            debris = set(backend.leftovers())
    finally:
        server.close()

    assert backend.store.cleanup(older_than_seconds=0) == len(debris)
    assert backend.leftovers() == []
    assert sha256_hex(backend.store.get(KEY).data) == stored
    # The kills must have hit both moments that matter: mid-write, and after a completed write.
    assert kills_mid_write >= 3, f"only {kills_mid_write} of {KILLS} kills landed mid-write"
    assert len(seen) >= 2, f"only {len(seen)} complete versions were ever observed"
