"""Alpha Vantage library test parts: the reference sample on disk and a database to hold a request
budget (fast clients of the loopback server, `make_client`, are in the suite's conftest)."""

import gzip
import hashlib
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from stock_assets.database.migrations import ensure_schema

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
def budget_engine(tmp_path):
    """A SQLite warehouse at head, to hold a request budget."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'budget.sqlite'}")
    ensure_schema(engine)
    yield engine
    engine.dispose()
