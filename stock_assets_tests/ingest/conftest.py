"""Ingest test parts: the shared Alpha Vantage sample on disk and fast clients of the loopback
server. Clients retry with millisecond backoff and no budget, so fault tests stay quick."""

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from stock_assets.ingest.client import AlphaVantageClient
from stock_assets.ingest.sample_server import SampleServer
from stock_assets.warehouse.migrations import ensure_schema

# stock_assets_tests/ingest/conftest.py -> parents[2] is the project root, [3] holds `shared/`.
_SHARED_SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "alphavantage-sample"


@pytest.fixture(scope="session")
def shared_sample() -> Path:
    """The shared sample folder, checked against its manifest so a damaged copy fails loudly."""
    if not (_SHARED_SAMPLE / "manifest.json").is_file():
        pytest.fail(f"the shared Alpha Vantage sample is missing at {_SHARED_SAMPLE}")
    manifest = json.loads((_SHARED_SAMPLE / "manifest.json").read_bytes())
    for name, entry in manifest["files"].items():
        data = (_SHARED_SAMPLE / name).read_bytes()
        assert len(data) == entry["bytes"], name
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], name
    return _SHARED_SAMPLE


@pytest.fixture
def make_client(sample_server: SampleServer) -> Callable[..., AlphaVantageClient]:
    """Clients of the loopback server; keyword arguments override the fast test defaults."""

    def make(**overrides) -> AlphaVantageClient:
        options = {
            "api_key": "test-key",
            "base_url": sample_server.url,
            "budget": None,
            "attempts": 3,
            "backoff_seconds": 0.001,
        }
        return AlphaVantageClient(**{**options, **overrides})

    return make


@pytest.fixture
def budget_engine(tmp_path):
    """A SQLite warehouse at head, to hold a request budget."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'budget.sqlite'}")
    ensure_schema(engine)
    yield engine
    engine.dispose()
