"""The object-store resource: `STOCK_ASSETS_STORAGE_URL` turned into a backend.

``s3://bucket/prefix`` selects S3 with the settings of dagster-aws's `S3Resource` (boto3's
standard variables, including ``AWS_ENDPOINT_URL``, apply); anything else is a local folder.

The S3 client is made here rather than by `S3Resource.get_client`, which leaves botocore's
timeouts at their defaults (60 s to connect, 60 s per read): here each is set, and retries are
botocore's "standard" mode, so a stuck S3 call fails clearly and soon.
"""

from urllib.parse import urlsplit

import botocore.session
import dagster as dg
from botocore import UNSIGNED
from botocore.config import Config
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
    s3_connect_timeout_seconds: float = 5.0
    s3_read_timeout_seconds: float = 30.0
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
                self._s3_client(), parts.netloc, parts.path,
                multipart_threshold=self.multipart_threshold_mib * MiB,
            )
        if parts.scheme not in {"", "file"}:
            raise ValueError(f"unsupported storage URL {self.url!r}: use s3://… or a folder")
        return LocalFolderStore(parts.path if parts.scheme == "file" else self.url)

    def _s3_client(self):
        """A client as `S3Resource` configures it, with explicit timeouts and retries."""
        s3 = self.s3
        config = Config(
            connect_timeout=self.s3_connect_timeout_seconds,
            read_timeout=self.s3_read_timeout_seconds,
            retries={"max_attempts": s3.max_attempts, "mode": "standard"},
            signature_version=UNSIGNED if s3.use_unsigned_session else None,
        )
        return botocore.session.Session(profile=s3.profile_name).create_client(
            "s3",
            region_name=s3.region_name,
            endpoint_url=s3.endpoint_url,
            use_ssl=s3.use_ssl,
            verify=s3.verify,
            aws_access_key_id=s3.aws_access_key_id,
            aws_secret_access_key=s3.aws_secret_access_key,
            aws_session_token=s3.aws_session_token,
            config=config,
        )
