"""A fork server of writers, each SIGKILLed by itself at a chosen point inside one put.

Started once, because importing the store takes seconds; then, on stdin,
``write N PHASE SIZE`` forks a writer that arms PHASE (one of `PHASES[backend]`, or ``-`` for
none) and puts version N of the key, `version_bytes(N, SIZE)`. The writer prints ``start N``,
then ``phase PHASE`` just before it SIGKILLs itself there (``done N`` if it got through); the
server waits for it and answers ``writer PID killed SIGNAL`` or ``writer PID exit CODE``.

The points are reached by wrapping, in the writer process only, what the store calls: the os
functions for a folder, boto3's request events for S3. The package carries no test hooks.
"""

import argparse
import hashlib
import os
import signal
import sys
import threading

import boto3

from stock_assets.storage.local import LocalFolderStore
from stock_assets.storage.objects import ObjectStore
from stock_assets.storage.s3 import S3Store

PHASES = {
    "local": (
        "temp-half-written",  # half the bytes in the temp file
        "temp-written",  # all of them, not yet fsynced
        "temp-synced",  # fsynced, checksum not yet attached
        "before-rename",  # checksum attached, temp file not yet renamed
        "renamed",  # renamed into place, folder not yet fsynced
    ),
    "s3": (
        "put-half-sent",  # in the middle of sending a single PUT's body (a small object)
        "put-acknowledged",  # the PUT answered, before the put returns
        "upload-created",  # multipart upload started, no part sent
        "part-half-sent",  # in the middle of sending a part's body
        "part-uploaded",  # one part acknowledged, the others in flight
        "before-completion",  # every part uploaded, completion not sent
        "completed",  # completion acknowledged, before the put returns
    ),
}
ALARM_SECONDS = 120  # a phase never reached must not hang the test


def version_bytes(number: int, size: int) -> bytes:
    """Version `number` of the object: its own content and its own length."""
    block = hashlib.sha256(f"version {number}".encode()).digest()
    length = size + number * 4096
    return (block * (length // len(block) + 1))[:length]


def say(line: str) -> None:
    # Unbuffered: a killed writer's lines are in the pipe, and no buffer is copied by fork.
    os.write(sys.stdout.fileno(), f"{line}\n".encode())


# Parts of a multipart upload go up from several threads: the first to reach the phase dies
# with the process; the others wait here for the SIGKILL instead of reporting it again.
_DYING = threading.Lock()


def die(phase: str) -> None:
    _DYING.acquire()
    say(f"phase {phase}")
    os.kill(os.getpid(), signal.SIGKILL)


class HalfWrittenFile:
    """The temp file: takes the first half of the bytes written to it, then the writer dies."""

    def __init__(self, handle, phase: str):
        self.handle, self.phase = handle, phase

    def __enter__(self) -> "HalfWrittenFile":
        return self

    def __exit__(self, *exc_info) -> None:
        self.handle.__exit__(*exc_info)

    def __getattr__(self, name: str):
        return getattr(self.handle, name)

    def write(self, data: bytes) -> None:
        self.handle.write(data[: len(data) // 2])
        self.handle.flush()
        die(self.phase)


class HalfSentBody:
    """A request body: hands over the first half of its bytes, then the writer dies."""

    def __init__(self, body, size: int, phase: str):
        self.body, self.left, self.phase = body, size // 2, phase

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            die(self.phase)
        chunk = self.body.read(self.left if size is None or size < 0 else min(size, self.left))
        self.left -= len(chunk)
        return chunk


def arm_local(phase: str) -> None:
    fdopen, fsync, replace = os.fdopen, os.fsync, os.replace
    fsyncs = []

    def half_writing_fdopen(fd: int, *args, **kwargs) -> HalfWrittenFile:
        return HalfWrittenFile(fdopen(fd, *args, **kwargs), phase)

    def killing_fsync(fd: int) -> None:
        fsyncs.append(fd)
        if phase == "temp-written" and len(fsyncs) == 1:
            die(phase)
        fsync(fd)
        if phase == "temp-synced" and len(fsyncs) == 1:
            die(phase)

    def killing_replace(source, target) -> None:
        if phase == "before-rename":
            die(phase)
        replace(source, target)
        if phase == "renamed":
            die(phase)

    if phase == "temp-half-written":
        os.fdopen = half_writing_fdopen
    os.fsync, os.replace = killing_fsync, killing_replace


def arm_s3(store: S3Store, phase: str) -> None:
    events = store.client.meta.events
    once = threading.Lock()

    def kill(**_) -> None:
        die(phase)

    def send_half(request, **_) -> None:
        if once.acquire(blocking=False):
            size = int(request.headers["Content-Length"])
            request.body = HalfSentBody(request.body, size, phase)

    hooks = {
        "put-half-sent": ("before-send.s3.PutObject", send_half),
        "put-acknowledged": ("after-call.s3.PutObject", kill),
        "upload-created": ("after-call.s3.CreateMultipartUpload", kill),
        "part-half-sent": ("before-send.s3.UploadPart", send_half),
        "part-uploaded": ("after-call.s3.UploadPart", kill),
        "before-completion": ("before-send.s3.CompleteMultipartUpload", kill),
        "completed": ("after-call.s3.CompleteMultipartUpload", kill),
    }
    event, handler = hooks[phase]
    events.register(event, handler)


def open_store(args: argparse.Namespace) -> ObjectStore:
    if args.backend == "local":
        return LocalFolderStore(args.root)
    client = boto3.client("s3", endpoint_url=args.endpoint, region_name="us-east-1")
    return S3Store(
        client,
        args.bucket,
        args.prefix,
        multipart_threshold=args.part_size,
        part_size=args.part_size,
    )


def write_once(
    store: ObjectStore, args: argparse.Namespace, number: int, phase: str, size: int
) -> None:
    signal.alarm(ALARM_SECONDS)
    if phase != "-":
        if phase not in PHASES[args.backend]:
            raise ValueError(f"unknown phase {phase!r} for {args.backend}")
        if args.backend == "local":
            arm_local(phase)
        else:
            arm_s3(store, phase)
    say(f"start {number}")
    store.put(args.key, version_bytes(number, size))
    say(f"done {number}")


def serve(args: argparse.Namespace) -> None:
    store = open_store(args)
    say("ready")
    for line in sys.stdin:
        command, number, phase, size = line.split()
        if command != "write":
            raise ValueError(f"unknown command {line!r}")
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                write_once(store, args, int(number), phase, int(size))
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):
            say(f"writer {pid} killed {signal.Signals(os.WTERMSIG(status)).name}")
        else:
            say(f"writer {pid} exit {os.WEXITSTATUS(status)}")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--key", required=True)
    backends = parser.add_subparsers(dest="backend", required=True)
    backends.add_parser("local").add_argument("root")
    s3 = backends.add_parser("s3")
    s3.add_argument("bucket")
    s3.add_argument("--prefix", default="")
    s3.add_argument("--endpoint", required=True)
    s3.add_argument("--part-size", type=int, required=True)
    return parser.parse_args(argv)


if __name__ == "__main__":
    serve(parse_args(sys.argv[1:]))
