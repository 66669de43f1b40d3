"""The storage URL picks the backend: s3://bucket/prefix or a folder."""

from pathlib import Path

import pytest
from dagster_aws.s3 import S3Resource

from stock_assets.storage.local import LocalFolderStore
from stock_assets.storage.resources import ObjectStoreResource
from stock_assets.storage.s3 import S3Store


def open_store(url: str):
    return ObjectStoreResource(url=url, s3=S3Resource()).get_store()


@pytest.mark.parametrize("scheme", ["", "file://"])
def test_a_folder_url_is_a_local_store(tmp_path: Path, scheme: str):
    store = open_store(f"{scheme}{tmp_path}")

    assert isinstance(store, LocalFolderStore) and store.root == tmp_path
    store.put("a/b.json", b"{}")
    assert (tmp_path / "a" / "b.json").read_bytes() == b"{}"


def test_an_s3_url_reaches_the_endpoint_from_the_environment(s3_client, s3_bucket: str):
    store = open_store(f"s3://{s3_bucket}/data/assets/")

    assert isinstance(store, S3Store)
    assert (store.bucket, store.prefix) == (s3_bucket, "data/assets")
    store.put("a/b.json", b"{}")
    stored = s3_client.get_object(Bucket=s3_bucket, Key="data/assets/a/b.json")
    assert stored["Body"].read() == b"{}"


@pytest.mark.parametrize(
    ("url", "message"),
    [("s3:///prefix", "names no bucket"), ("gs://bucket/prefix", "unsupported storage URL")],
)
def test_unusable_urls_are_refused(url: str, message: str):
    with pytest.raises(ValueError, match=message):
        open_store(url)


def test_the_s3_client_has_explicit_timeouts_and_standard_retries(s3_client, s3_bucket: str):
    """botocore's defaults (60 s to connect, 60 s per read, legacy retries) are not left to
    chance: the resource sets each, and the client still reaches the endpoint."""
    resource = ObjectStoreResource(
        url=f"s3://{s3_bucket}/p", s3=S3Resource(max_attempts=4),
        s3_connect_timeout_seconds=3, s3_read_timeout_seconds=7,
    )
    config = resource.get_store().client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (3, 7)
    assert config.retries == {"mode": "standard", "total_max_attempts": 5}
    resource.get_store().put("a.json", b"{}")
    assert s3_client.get_object(Bucket=s3_bucket, Key="p/a.json")["Body"].read() == b"{}"


def test_the_s3_defaults_are_well_under_botocores(s3_bucket: str):
    config = open_store(f"s3://{s3_bucket}/p").client.meta.config
    assert config.connect_timeout <= 10 and config.read_timeout <= 30
    assert config.retries["mode"] == "standard"
