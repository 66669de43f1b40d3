"""The Dagster instance's storage for runs, event logs and schedules, chosen by the environment.

`dagster.yaml` names this class (``storage: custom``), so one instance file serves both cases:
Postgres through dagster-postgres when ``DAGSTER_PG_URL`` or ``DAGSTER_PG_HOST`` is set (a
server, the daemon, several processes), else the embedded SQLite files under ``DAGSTER_HOME``.
"""

import os
from pathlib import Path

from dagster._core.storage.base_storage import DagsterStorage
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage
from dagster._serdes import ConfigurableClass, ConfigurableClassData
from dagster_postgres import DagsterPostgresStorage

from stock_assets.settings import dagster_postgres_url


class EnvironmentStorage(DagsterStorage, ConfigurableClass):
    """Builds a `DagsterPostgresStorage` or a `DagsterSqliteStorage` (it is a `DagsterStorage`
    only so that Dagster accepts the class; it is never instantiated itself)."""

    @classmethod
    def config_type(cls) -> dict:
        return {}

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: dict
    ) -> DagsterStorage:
        url = dagster_postgres_url()
        if url:
            return DagsterPostgresStorage(postgres_url=url)
        home = os.environ.get("DAGSTER_HOME", "").strip()
        if not home:
            raise RuntimeError(
                "DAGSTER_HOME is not set: point it at the folder holding dagster.yaml (the "
                "SQLite instance lives there), or set DAGSTER_PG_URL for a Postgres instance"
            )
        return DagsterSqliteStorage.from_local(home)


def instance_yaml() -> Path:
    """The project's `dagster.yaml`: bundled in the wheel, or at the checkout's top level."""
    package = Path(__file__).parent
    for candidate in (package / "dagster.yaml", package.parent / "dagster.yaml"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("dagster.yaml not found beside the stock_assets package")
