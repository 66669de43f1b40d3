"""The Dagster instance's storage for runs, event logs and schedules, chosen by the environment.

`dagster.yaml` names this class (``storage: custom``), so one instance file serves both cases:
Postgres through dagster-postgres when ``DAGSTER_PG_URL`` or ``DAGSTER_PG_HOST`` is set (a
server, the daemon, several processes), else the embedded SQLite files under ``DAGSTER_HOME``.
"""

import os

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
        return DagsterSqliteStorage.from_local(os.environ["DAGSTER_HOME"])
