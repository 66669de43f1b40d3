"""The two object stores under test, each with a way to look at its bytes from outside."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from stock_assets.storage.local import LOCKS, TMP_MARK, LocalFolderStore
from stock_assets.storage.objects import ObjectStore
from stock_assets.storage.s3 import MiB, S3Store

S3_PREFIX = "assets"


@dataclass(frozen=True)
class Backend:
    """A store under test, its URL, and access to its bytes that goes around the store."""

    name: str
    url: str
    store: ObjectStore
    read_raw: Callable[[str], bytes]
    overwrite_raw: Callable[[str, bytes], None]
    """Replace an object's bytes but keep the SHA-256 written with the old ones."""
    raw_keys: Callable[[], list[str]]
    leftovers: Callable[[], list[str]]
    """What killed or failed writers left: temp and lock files, incomplete multipart uploads."""


def local_backend(root: Path) -> Backend:
    store = LocalFolderStore(root)

    def overwrite_raw(key: str, data: bytes) -> None:
        with open(root / key, "r+b") as handle:  # in place: the xattr stays
            handle.truncate(0)
            handle.write(data)

    def raw_keys() -> list[str]:
        return sorted(
            path.relative_to(root).as_posix()
            for path in root.rglob("*")
            if path.is_file() and LOCKS not in path.parts and TMP_MARK not in path.name
        )

    def leftovers() -> list[str]:
        debris = [*root.rglob(f".*{TMP_MARK}*"), *root.glob(f"{LOCKS}/*")]
        return sorted(str(path) for path in debris)

    return Backend(
        name="local",
        url=str(root),
        store=store,
        read_raw=lambda key: (root / key).read_bytes(),
        overwrite_raw=overwrite_raw,
        raw_keys=raw_keys,
        leftovers=leftovers,
    )


def s3_backend(client, bucket: str, prefix: str = S3_PREFIX) -> Backend:
    store = S3Store(client, bucket, prefix, multipart_threshold=5 * MiB, part_size=5 * MiB)

    def read_raw(key: str) -> bytes:
        return client.get_object(Bucket=bucket, Key=f"{prefix}/{key}")["Body"].read()

    def overwrite_raw(key: str, data: bytes) -> None:
        metadata = client.head_object(Bucket=bucket, Key=f"{prefix}/{key}")["Metadata"]
        client.put_object(Bucket=bucket, Key=f"{prefix}/{key}", Body=data, Metadata=metadata)

    def raw_keys() -> list[str]:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/")
        return sorted(
            item["Key"].removeprefix(f"{prefix}/")
            for page in pages
            for item in page.get("Contents", [])
        )

    def leftovers() -> list[str]:
        uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        return sorted(f"{upload['Key']} ({upload['UploadId']})" for upload in uploads)

    return Backend(
        name="s3",
        url=f"s3://{bucket}/{prefix}",
        store=store,
        read_raw=read_raw,
        overwrite_raw=overwrite_raw,
        raw_keys=raw_keys,
        leftovers=leftovers,
    )
