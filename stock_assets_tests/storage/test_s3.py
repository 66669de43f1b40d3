"""The S3 backend on moto's server: one PUT or a multipart upload, never a temporary key."""

import base64
import io
import socket

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.response import StreamingBody
from botocore.stub import Stubber

from stock_assets.storage.objects import (
    ConcurrentUpdateError,
    StorageError,
    StoreUnavailable,
    sha256_hex,
)
from stock_assets.storage.s3 import MiB, S3Store

KEY = "market/prices/IBM.parquet"
PREFIX = "assets"


@pytest.fixture
def store(s3_client, s3_bucket: str) -> S3Store:
    return S3Store(s3_client, s3_bucket, PREFIX, multipart_threshold=5 * MiB, part_size=5 * MiB)


def uploads(s3_client, bucket: str) -> list[dict]:
    return s3_client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])


def test_small_object_is_one_put_with_its_sha256(store, s3_client, s3_bucket: str):
    sent = []

    def record(request, **_) -> None:
        checksum = request.headers.get("x-amz-checksum-sha256", b"")
        text = checksum.decode() if isinstance(checksum, bytes) else checksum
        sent.append((request.method, text))

    s3_client.meta.events.register("before-send.s3", record)

    version = store.put(KEY, b"payload", content_type="application/vnd.apache.parquet")

    # moto keeps no checksum, so check the one S3 would verify is on the request
    assert sent == [("PUT", base64.b64encode(bytes.fromhex(sha256_hex(b"payload"))).decode())]
    head = s3_client.head_object(Bucket=s3_bucket, Key=f"{PREFIX}/{KEY}")
    assert head["Metadata"]["sha256"] == sha256_hex(b"payload") == version.sha256
    assert head["ContentType"] == "application/vnd.apache.parquet"
    assert "-" not in head["ETag"] and head["ETag"] == version.etag
    assert version.uri == f"s3://{s3_bucket}/{PREFIX}/{KEY}"
    listed = s3_client.list_objects_v2(Bucket=s3_bucket)["Contents"]
    assert [item["Key"] for item in listed] == [f"{PREFIX}/{KEY}"]


def test_large_object_is_a_completed_multipart_upload(store, s3_client, s3_bucket: str):
    data = bytes(range(256)) * (12 * MiB // 256)

    version = store.put(KEY, data)

    stored = s3_client.get_object(Bucket=s3_bucket, Key=f"{PREFIX}/{KEY}")
    assert stored["Body"].read() == data
    assert stored["ETag"].endswith('-3"') and stored["ETag"] == version.etag
    assert stored["Metadata"]["sha256"] == sha256_hex(data)
    assert store.get(KEY).data == data
    assert uploads(s3_client, s3_bucket) == []


def test_failed_multipart_upload_is_aborted_and_the_old_object_kept(s3_client, s3_bucket: str):
    store = S3Store(s3_client, s3_bucket, PREFIX, multipart_threshold=MiB, part_size=MiB)
    store.put(KEY, b"previous")

    with pytest.raises(StorageError, match="EntityTooSmall"):
        store.put(KEY, b"x" * (3 * MiB))  # parts under S3's 5 MiB minimum fail on completion

    assert store.get(KEY).data == b"previous"
    assert uploads(s3_client, s3_bucket) == []


def test_multipart_if_absent_conflict_aborts_the_upload(store, s3_client, s3_bucket: str):
    store.put(KEY, b"previous")

    with pytest.raises(ConcurrentUpdateError, match="concurrent update"):
        store.put(KEY, b"y" * (6 * MiB), if_absent=True)

    assert store.get(KEY).data == b"previous"
    assert uploads(s3_client, s3_bucket) == []


@pytest.mark.xfail(
    strict=True, reason="moto 5.2.5 ignores If-Match on CompleteMultipartUpload (AWS honours it)"
)
def test_multipart_stale_if_match_conflicts(store, s3_client, s3_bucket: str):
    first = store.put(KEY, b"a" * (6 * MiB))
    store.put(KEY, b"b" * (6 * MiB))

    with pytest.raises(ConcurrentUpdateError):
        store.put(KEY, b"c" * (6 * MiB), if_match=first.etag)


def test_cleanup_aborts_incomplete_uploads_below_its_prefix(store, s3_client, s3_bucket: str):
    for key in (f"{PREFIX}/{KEY}", f"{PREFIX}/other.csv", "elsewhere/IBM.parquet"):
        s3_client.create_multipart_upload(Bucket=s3_bucket, Key=key)

    assert store.cleanup("market", older_than_seconds=0) == 1
    assert store.cleanup(older_than_seconds=0) == 1
    assert [u["Key"] for u in uploads(s3_client, s3_bucket)] == ["elsewhere/IBM.parquet"]


def test_list_reads_every_page_and_only_its_prefix(store, s3_client, s3_bucket: str):
    def two_per_page(params: dict, **_) -> None:
        params["MaxKeys"] = 2

    s3_client.meta.events.register("before-parameter-build.s3.ListObjectsV2", two_per_page)
    keys = [f"market/quotes/_history/IBM/{n:02}.json" for n in range(5)]
    for key in reversed(keys):
        store.put(key, b"{}")
    s3_client.put_object(Bucket=s3_bucket, Key="elsewhere/market/quotes/x.json", Body=b"{}")
    s3_client.create_multipart_upload(Bucket=s3_bucket, Key=f"{PREFIX}/market/quotes/y.json")

    assert store.list("market/quotes/") == keys
    assert store.list() == keys


def test_missing_bucket_is_unavailable_naming_it(s3_client):
    store = S3Store(s3_client, "no-such-bucket-here", PREFIX)

    for operation in (
        lambda: store.head(KEY),
        lambda: store.get(KEY),
        lambda: store.put(KEY, b"x"),
        lambda: store.list(),
    ):
        with pytest.raises(StoreUnavailable, match="bucket 'no-such-bucket-here' does not exist"):
            operation()


def test_unreachable_endpoint_is_unavailable_naming_it():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    client = boto3.client(
        "s3",
        endpoint_url=closed,
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1}, connect_timeout=2, signature_version=UNSIGNED),
    )
    store = S3Store(client, "bucket", PREFIX)

    for operation in (
        lambda: store.head(KEY),
        lambda: store.get(KEY),
        lambda: store.put(KEY, b"x"),
    ):
        with pytest.raises(StoreUnavailable, match=f"cannot reach S3 at {closed}") as failure:
            operation()
        assert "Could not connect to the endpoint URL" in str(failure.value)


def test_an_answer_cut_within_its_headers_is_unavailable_not_a_key_error():
    """Issue 16's fault campaign: an answer cut short within its headers reaches botocore as a
    whole answer without them (http.client takes the end of the stream for the end of the
    headers), and a HEAD then raised a bare `KeyError: 'ContentLength'` (a PUT or GET, 'ETag')."""
    client = boto3.client("s3", region_name="us-east-1",
                          config=Config(signature_version=UNSIGNED))
    store = S3Store(client, "bucket", PREFIX)
    with Stubber(client) as stub:
        stub.add_response("head_object", {})
        stub.add_response("put_object", {})
        stub.add_response("get_object", {"Body": StreamingBody(io.BytesIO(b"x"), 1)})
        for operation, field in (
            (lambda: store.head(KEY), "ContentLength"),
            (lambda: store.put(KEY, b"x"), "ETag"),
            (lambda: store.get(KEY), "ETag"),
        ):
            with pytest.raises(StoreUnavailable, match=(
                f"incomplete answer from S3 for s3://bucket/{PREFIX}/{KEY}: no {field}"
            )):
                operation()
