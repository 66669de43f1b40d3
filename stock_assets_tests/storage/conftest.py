"""Both storage backends behind one fixture, each with a way to look at its bytes from outside."""

from pathlib import Path

import pytest
from dagster_aws.s3 import S3Resource

from stock_assets.storage.history_store import HistoryStore
from stock_assets.storage.io_manager import AtomicIOManager
from stock_assets.storage.objects import ObjectStore
from stock_assets.storage.resources import ObjectStoreResource
from stock_assets_tests.storage.backends import Backend, local_backend, s3_backend


@pytest.fixture(params=["local", "s3"])
def backend(request, tmp_path: Path) -> Backend:
    """Each test runs once on a local folder and once on a fresh bucket of the moto server."""
    if request.param == "local":
        return local_backend(tmp_path / "store")
    return s3_backend(request.getfixturevalue("s3_client"), request.getfixturevalue("s3_bucket"))


@pytest.fixture
def store(backend: Backend) -> ObjectStore:
    return backend.store


@pytest.fixture
def history_store(backend: Backend) -> HistoryStore:
    """The history store as definitions build it, pointed at the backend's URL."""
    return HistoryStore(store=ObjectStoreResource(url=backend.url, s3=S3Resource()))


@pytest.fixture
def io_manager(history_store: HistoryStore) -> AtomicIOManager:
    """The IO manager as definitions build it, on that history store."""
    return AtomicIOManager(history=history_store)
