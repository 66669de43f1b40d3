"""Ingest test parts: the reference Alpha Vantage sample on disk and fast clients of the loopback
server. Clients retry with millisecond backoff and no budget, so fault tests stay quick."""

import gzip
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from stock_assets.database.migrations import ensure_schema
from stock_assets.ingest.client import AlphaVantageClient
from stock_assets.ingest.sample_server import SampleServer

# A copy of the reference sample (gzipped file by file, byte-exact; provenance in its README).
_REFERENCE_SAMPLE = Path(__file__).resolve().parents[1] / "data" / "alphavantage-sample"


@pytest.fixture(scope="session")
def reference_sample(tmp_path_factory) -> Path:
    """The reference sample unpacked into a folder, checked against its manifest so a damaged
    copy fails loudly."""
    folder = tmp_path_factory.mktemp("alphavantage-sample")
    manifest = json.loads((_REFERENCE_SAMPLE / "manifest.json").read_bytes())
    for name, entry in manifest["files"].items():
        packed = _REFERENCE_SAMPLE / f"{name}.gz"
        data = gzip.decompress(packed.read_bytes()) if packed.exists() else (
            (_REFERENCE_SAMPLE / name).read_bytes()
        )
        assert len(data) == entry["bytes"], name
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], name
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


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
