"""A fork server of writers that publish one large object over and over until they are killed.

Started once, because importing the store takes seconds; then, on stdin:
- ``write FIRST`` forks a writer that puts versions FIRST, FIRST+1, … (modulo `VERSIONS`) of the
  key, printing ``start N`` before and ``done N`` after each put, and answers ``writer PID``;
- ``reap PID`` waits for that (killed) writer and answers ``reaped PID``.
Used by test_crash_safety, which SIGKILLs the writers at random moments.
"""

import argparse
import hashlib
import itertools
import os
import sys

import boto3

from stock_assets.storage.local import LocalFolderStore
from stock_assets.storage.objects import ObjectStore
from stock_assets.storage.s3 import S3Store

VERSIONS = 6


def version_bytes(number: int, size: int) -> bytes:
    """Version `number` of the object: its own content and its own length."""
    block = hashlib.sha256(f"version {number}".encode()).digest()
    length = size + number * 4096
    return (block * (length // len(block) + 1))[:length]


def say(line: str) -> None:
    # Unbuffered: a killed writer's lines are in the pipe, and no buffer is copied by fork.
    os.write(sys.stdout.fileno(), f"{line}\n".encode())


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


def write_forever(store: ObjectStore, key: str, size: int, first: int) -> None:
    server = os.getppid()
    for count in itertools.count(first):
        if os.getppid() != server:  # orphaned: the test run is gone, so stop
            return
        number = count % VERSIONS
        say(f"start {number}")
        store.put(key, version_bytes(number, size))
        say(f"done {number}")


def serve(args: argparse.Namespace) -> None:
    store = open_store(args)
    say("ready")
    for line in sys.stdin:
        command, value = line.split()
        if command == "write":
            pid = os.fork()
            if pid == 0:
                try:
                    write_forever(store, args.key, args.size, int(value))
                finally:
                    os._exit(1)
            say(f"writer {pid}")
        elif command == "reap":
            os.waitpid(int(value), 0)
            say(f"reaped {value}")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--key", required=True)
    parser.add_argument("--size", type=int, required=True)
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
