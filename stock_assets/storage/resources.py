"""The object-store resource: `STOCK_ASSETS_STORAGE_URL` turned into a backend.

``s3://bucket/prefix`` selects S3 through dagster-aws's `S3Resource` (boto3's standard variables,
including ``AWS_ENDPOINT_URL``, apply); anything else is a local folder.
"""

from urllib.parse import urlsplit

import dagster as dg
from dagster_aws.s3 import S3Resource
from pydantic import PrivateAttr

from stock_assets.settings import resolve
from stock_assets.storage.local import LocalFolderStore
from stock_assets.storage.objects import ObjectStore
from stock_assets.storage.s3 import MiB, S3Store


class ObjectStoreResource(dg.ConfigurableResource):
    """Where assets are stored: an s3:// URL or a local folder."""

    url: str
    s3: S3Resource
    multipart_threshold_mib: int = 64
    _store: ObjectStore | None = PrivateAttr(default=None)

    def describe(self) -> str:
        """The URL or folder the objects go to."""
        return str(resolve(self.url))

    def get_store(self) -> ObjectStore:
        if self._store is None:
            self._store = self._open()
        return self._store

    def _open(self) -> ObjectStore:
        parts = urlsplit(self.url)
        if parts.scheme == "s3":
            if not parts.netloc:
                raise ValueError(f"storage URL {self.url!r} names no bucket: use s3://bucket/prefix")
            return S3Store(
                self.s3.get_client(), parts.netloc, parts.path,
                multipart_threshold=self.multipart_threshold_mib * MiB,
            )
        if parts.scheme not in {"", "file"}:
            raise ValueError(f"unsupported storage URL {self.url!r}: use s3://… or a folder")
        return LocalFolderStore(parts.path if parts.scheme == "file" else self.url)
