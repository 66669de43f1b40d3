"""The S3 backend: one PUT for small objects, a multipart upload for large ones.

S3 applies a PUT atomically and shows a multipart object only on completion, so no temporary
key is ever written; a failed upload is aborted. Conditional headers (`If-Match`,
`If-None-Match: *`) make compare-and-swap exact on AWS, MinIO and moto alike.
"""

import base64
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from botocore.exceptions import BotoCoreError, ClientError, FlexibleChecksumError

from stock_assets.storage.objects import (
    ConcurrentUpdateError,
    CorruptObject,
    ObjectNotFound,
    ObjectStore,
    ObjectVersion,
    StorageError,
    StoreUnavailable,
)

MiB = 1024 * 1024
_CONFLICT_CODES = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}
_MISSING_CODES = {"NoSuchKey", "404", "NotFound"}


def _b64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


class S3Store(ObjectStore):
    """Objects below s3://bucket/prefix through a boto3 S3 client."""

    def __init__(
        self, client, bucket: str, prefix: str = "", *, multipart_threshold: int = 64 * MiB,
        part_size: int = 16 * MiB, max_workers: int = 4,
    ):
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.multipart_threshold = multipart_threshold
        self.part_size = part_size
        self.max_workers = max_workers

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def _error(self, exc: Exception, key: str) -> StorageError:
        """Translate a boto error into one that says which object, bucket or endpoint."""
        if isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _CONFLICT_CODES:
                return ConcurrentUpdateError(
                    f"concurrent update: {self.uri(key)} changed since it was read"
                )
            if code in _MISSING_CODES:
                return ObjectNotFound(f"no object at {self.uri(key)}")
            if code == "NoSuchBucket":
                return StoreUnavailable(f"bucket {self.bucket!r} does not exist")
            return StorageError(f"S3 refused {self.uri(key)}: {code} {exc}")
        if isinstance(exc, FlexibleChecksumError):
            return CorruptObject(f"{self.uri(key)} is corrupt: {exc}")
        endpoint = self.client.meta.endpoint_url
        return StoreUnavailable(f"cannot reach S3 at {endpoint} for {self.uri(key)}: {exc}")

    @staticmethod
    def _conditions(if_match: str | None, if_absent: bool) -> dict:
        if if_absent:
            return {"IfNoneMatch": "*"}
        return {"IfMatch": if_match} if if_match is not None else {}

    def _publish(self, key, data, sha256, if_match, if_absent, content_type) -> ObjectVersion:
        conditions = self._conditions(if_match, if_absent)
        try:
            if len(data) < self.multipart_threshold:
                response = self.client.put_object(
                    Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type,
                    ChecksumSHA256=_b64(sha256), Metadata={"sha256": sha256}, **conditions,
                )
            else:
                response = self._put_multipart(key, data, sha256, content_type, conditions)
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, key) from exc
        return ObjectVersion(
            uri=self.uri(key), etag=self._carried(response, "ETag", key), sha256=sha256,
            size=len(data), version_id=response.get("VersionId"),
        )

    def _carried(self, response: dict, field: str, key: str):
        """A field every whole answer carries. An answer cut short within its headers reaches
        botocore as a whole one without them (http.client takes the end of the stream for the
        end of the headers): without the field, it is such an answer."""
        if field not in response:
            raise StoreUnavailable(f"incomplete answer from S3 for {self.uri(key)}: no {field}")
        return response[field]

    def _put_multipart(self, key, data, sha256, content_type, conditions) -> dict:
        upload = self.client.create_multipart_upload(
            Bucket=self.bucket, Key=self._key(key), ContentType=content_type,
            ChecksumAlgorithm="SHA256", Metadata={"sha256": sha256},
        )
        upload_id = upload["UploadId"]
        chunks = [data[i : i + self.part_size] for i in range(0, len(data), self.part_size)]

        def send(numbered: tuple[int, bytes]) -> dict:
            number, chunk = numbered
            part = self.client.upload_part(
                Bucket=self.bucket, Key=self._key(key), UploadId=upload_id, PartNumber=number,
                Body=chunk, ChecksumAlgorithm="SHA256",
            )
            return {"PartNumber": number, "ETag": part["ETag"],
                    "ChecksumSHA256": part["ChecksumSHA256"]}

        try:
            with ThreadPoolExecutor(self.max_workers) as pool:
                parts = list(pool.map(send, enumerate(chunks, start=1)))
            return self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=self._key(key), UploadId=upload_id,
                MultipartUpload={"Parts": parts}, **conditions,
            )
        except BaseException:
            self.client.abort_multipart_upload(
                Bucket=self.bucket, Key=self._key(key), UploadId=upload_id
            )
            raise

    def _fetch(self, key: str) -> tuple[bytes, ObjectVersion]:
        try:
            response = self.client.get_object(
                Bucket=self.bucket, Key=self._key(key), ChecksumMode="ENABLED"
            )
            data = response["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, key) from exc
        return data, self._version_of(key, response, len(data))

    def _version_of(self, key: str, response: dict, size: int) -> ObjectVersion:
        return ObjectVersion(
            uri=self.uri(key), etag=self._carried(response, "ETag", key),
            sha256=response.get("Metadata", {}).get("sha256", ""), size=size,
            version_id=response.get("VersionId"),
        )

    def _head(self, key: str) -> ObjectVersion | None:
        try:
            response = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except (ClientError, BotoCoreError) as exc:
            error = self._error(exc, key)
            if isinstance(error, ObjectNotFound):
                self._require_bucket(key)
                return None
            raise error from exc
        return self._version_of(key, response, self._carried(response, "ContentLength", key))

    def _delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, key) from exc

    def list(self, prefix: str = "") -> list[str]:
        start = len(self._key(""))
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            return sorted(
                item["Key"][start:]
                for page in paginator.paginate(Bucket=self.bucket, Prefix=self._key(prefix))
                for item in page.get("Contents", [])
            )
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, prefix) from exc

    def _require_bucket(self, key: str) -> None:
        """HEAD answers carry no error code, so a bare 404 may also mean a missing bucket."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as exc:
            error = self._error(exc, key)
            if isinstance(error, ObjectNotFound):
                raise StoreUnavailable(f"bucket {self.bucket!r} does not exist") from exc
            raise error from exc

    def cleanup(self, prefix: str = "", *, older_than_seconds: float = 3600) -> int:
        """Abort incomplete multipart uploads below `prefix` started over `older_than_seconds` ago.

        A bucket lifecycle rule (AbortIncompleteMultipartUpload) does the same in production.
        """
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than_seconds)
        paginator = self.client.get_paginator("list_multipart_uploads")
        aborted = 0
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self._key(prefix)):
            for upload in page.get("Uploads", []):
                if upload["Initiated"] <= cutoff:
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
                    aborted += 1
        return aborted
