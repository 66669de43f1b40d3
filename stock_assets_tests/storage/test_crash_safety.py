"""Writers SIGKILLed at each point inside a put leave the old object or the new one, whole;
cleanup clears what they left.

Each writer is a real process that kills itself at a named point (see crash_writer), so every
point is hit on every run, however loaded the machine.
"""

import subprocess
import sys

import pytest
from botocore.exceptions import ClientError

from stock_assets.storage.objects import ObjectNotFound, sha256_hex
from stock_assets.storage.s3 import MiB
from stock_assets_tests.storage import crash_writer
from stock_assets_tests.storage.backends import Backend

KEY = "market/prices/IBM.parquet"
SIZES = {"local": 8 * MiB, "s3": 12 * MiB}  # S3: three 5 MiB parts, so multipart is in play
SMALL = 64 * 1024  # for the phases of a single PUT
PUBLISHED = {"renamed", "completed", "put-acknowledged"}  # the new version is the object
NO_DEBRIS = PUBLISHED | {"put-half-sent"}  # a torn PUT leaves nothing behind on S3


def size_for(backend: Backend, phase: str) -> int:
    return SMALL if phase.startswith("put-") else SIZES[backend.name]


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
        self.read_until("ready")

    def read_until(self, answer: str) -> tuple[str, list[str]]:
        """The line starting with `answer`, and what the writer reported before it."""
        lines = []
        while not (line := self.process.stdout.readline().strip()).startswith(answer):
            if not line:
                raise RuntimeError(f"the writer server died (exit {self.process.poll()})")
            lines.append(line)
        return line, lines

    def write(self, number: int, phase: str, size: int) -> tuple[str, list[str]]:
        """Put version `number`, the writer dying at `phase`: how it ended, and what it said."""
        self.process.stdin.write(f"write {number} {phase} {size}\n")
        self.process.stdin.flush()
        answer, lines = self.read_until("writer ")
        return answer.split(maxsplit=2)[2], lines

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=10)


def writer_argv(backend: Backend, request: pytest.FixtureRequest) -> list[str]:
    if backend.name == "local":
        return ["--key", KEY, "local", str(backend.store.root)]
    store = backend.store
    return [
        "--key",
        KEY,
        "s3",
        store.bucket,
        "--prefix",
        store.prefix,
        "--endpoint",
        request.getfixturevalue("moto_endpoint"),
        "--part-size",
        str(store.part_size),
    ]


def raw_sha256(backend: Backend) -> str | None:
    """The object's SHA-256 read around the store (None: no object)."""
    try:
        return sha256_hex(backend.read_raw(KEY))
    except FileNotFoundError:
        return None
    except ClientError as error:
        if error.response["Error"]["Code"] == "NoSuchKey":
            return None
        raise


@pytest.mark.slow
def test_a_writer_killed_at_any_point_leaves_the_old_or_the_new_object(backend, request):
    phases = crash_writer.PHASES[backend.name]
    server = WriterServer(writer_argv(backend, request))
    stored = None
    try:
        for number, phase in enumerate([*phases, *phases], start=1):
            debris = set(backend.leftovers())
            size = size_for(backend, phase)
            ending, lines = server.write(number, phase, size)

            assert (ending, lines) == ("killed SIGKILL", [f"start {number}", f"phase {phase}"])
            if phase in PUBLISHED:
                stored = sha256_hex(crash_writer.version_bytes(number, size))
            assert raw_sha256(backend) == stored, f"{phase}: torn or unexpected object"
            if stored is None:
                with pytest.raises(ObjectNotFound):
                    backend.store.get(KEY)
            else:
                assert sha256_hex(backend.store.get(KEY).data) == stored
            left = set(backend.leftovers()) - debris
            assert bool(left) == (phase not in NO_DEBRIS), f"{phase} left {sorted(left)}"
    finally:
        server.close()

    debris = backend.leftovers()
    assert debris, "the killed writers left nothing to clean up; the test proves nothing"
    assert backend.store.cleanup(older_than_seconds=0) == len(debris)
    assert backend.leftovers() == []
    assert sha256_hex(backend.store.get(KEY).data) == stored


@pytest.mark.slow
def test_an_unarmed_writer_completes_its_put(backend, request):
    """The wrapping only acts when armed: the same server, no point chosen, writes whole."""
    server = WriterServer(writer_argv(backend, request))
    try:
        ending, lines = server.write(3, "-", SIZES[backend.name])
    finally:
        server.close()

    assert (ending, lines) == ("exit 0", ["start 3", "done 3"])
    expected = crash_writer.version_bytes(3, SIZES[backend.name])
    assert backend.store.get(KEY).data == expected
    assert backend.leftovers() == []
