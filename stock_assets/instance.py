"""The Dagster instance: where runs, event logs and schedules live, chosen by the environment.

`dagster.yaml` names `EnvironmentStorage` (``storage: custom``), so one instance file serves every
case: Postgres through dagster-postgres when ``DAGSTER_PG_URL`` or ``DAGSTER_PG_HOST`` is set (a
server, the daemon, several processes), else SQLite files under ``DAGSTER_HOME``, and with nothing
set under ``<data dir>/dagster_home``. That last case is what makes `dagster dev`, `dagster asset
materialize` (which read `./dagster.yaml` into a temporary instance when ``DAGSTER_HOME`` is
unset) and `stock-assets materialize`, run from the repository root with nothing set, keep their
runs in one place that all of them see.
"""

import os
from pathlib import Path

import dagster as dg
import sqlalchemy as sa
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.base_storage import DagsterStorage
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage
from dagster._serdes import ConfigurableClass, ConfigurableClassData
from dagster_postgres import DagsterPostgresStorage

from stock_assets.settings import dagster_postgres_url, data_dir


def dagster_home() -> Path:
    """``DAGSTER_HOME`` when set, else the project's own folder under the data dir."""
    home = os.environ.get("DAGSTER_HOME", "").strip()
    return Path(home).expanduser().absolute() if home else data_dir() / "dagster_home"


def describe_storage() -> str:
    """Where the instance keeps its runs, for a person (no password)."""
    url = dagster_postgres_url()
    if url:
        return sa.make_url(url).render_as_string(hide_password=True)
    return f"SQLite under {dagster_home()}"


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
        home = dagster_home()
        home.mkdir(parents=True, exist_ok=True)
        return DagsterSqliteStorage.from_local(str(home))


def instance_yaml() -> Path:
    """The project's `dagster.yaml`: bundled in the wheel, or at the checkout's top level."""
    package = Path(__file__).parent
    for candidate in (package / "dagster.yaml", package.parent / "dagster.yaml"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("dagster.yaml not found beside the stock_assets package")


def project_instance() -> dg.DagsterInstance:
    """The instance for the main command: ``DAGSTER_HOME``'s own when set (given the project's
    `dagster.yaml` if it has none), else the project's settings with everything under
    `dagster_home()`, the same place `dagster dev` uses from the repository root."""
    home = dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    if os.environ.get("DAGSTER_HOME", "").strip():
        if not (home / "dagster.yaml").exists():
            (home / "dagster.yaml").write_bytes(instance_yaml().read_bytes())
        return dg.DagsterInstance.get()
    ref = InstanceRef.from_dir(str(home), config_dir=str(instance_yaml().parent))
    return dg.DagsterInstance.from_ref(ref)
