"""Helpers the tests import (fixtures live in `conftest.py`, which no test imports)."""

import dataclasses
import socket

from stock_assets.alphavantage.sample_server import SampleServer
from stock_assets.definitions import build_resources
from stock_assets.settings import Settings


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_resources(**overrides) -> dict:
    """The project's resources as `definitions` builds them, with settings overridden."""
    settings = dataclasses.replace(Settings.from_env(), **overrides)
    resources = build_resources(settings)
    # Rebuilt, not `model_copy`: Dagster configures a resource from its constructor's values,
    # so a copied field never reaches the client (its retries waited 1, 2, 4 and 8 s).
    api = resources["alphavantage"]
    fields = {name: getattr(api, name) for name in type(api).model_fields}
    resources["alphavantage"] = type(api)(**{**fields, "retry_backoff_seconds": 0.01})
    return resources


def loopback_resources(tmp_path, server: SampleServer, **overrides) -> dict:
    """Resources fed by the loopback server: objects in a folder, a SQLite warehouse, no
    pacing and no quota unless `overrides` say otherwise."""
    return make_resources(
        **{
            "api_key": "test-key",
            "base_url": server.url,
            "storage_url": str(tmp_path / "objects"),
            "database_url": f"sqlite:///{tmp_path / 'db.sqlite'}",
            "requests_per_second": 0,
            "requests_per_minute": 0,
            "requests_per_day": 0,
            **overrides,
        }
    )
