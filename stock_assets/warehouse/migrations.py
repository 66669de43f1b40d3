"""Bringing a database to the schema this code expects, safely from any number of runs.

`ensure_schema` upgrades to head under a Postgres advisory lock (two runs never race) or, with
auto-migration off, only checks. A database behind or ahead of the code fails with a message
that says what to run.
"""

from pathlib import Path

import sqlalchemy as sa
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

import stock_assets
from alembic import command

_MIGRATION_LOCK = 7_245_001  # arbitrary, fixed: the advisory-lock id for migrations


class SchemaMismatchError(RuntimeError):
    """The database's schema revision is not the one this code was written for."""


def migrations_folder() -> Path:
    """The alembic scripts: bundled in the wheel, or the checkout's top-level `alembic/`."""
    package = Path(stock_assets.__file__).parent
    for candidate in (package / "migrations", package.parent / "alembic"):
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError("alembic migrations not found beside the stock_assets package")


def alembic_config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_folder()))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: sa.Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def ensure_schema(engine: sa.Engine, *, migrate: bool = True) -> str:
    """Make sure the database is at head (upgrading when `migrate`); return the revision."""
    head = head_revision()
    known = {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    where = engine.url.render_as_string(hide_password=True)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK}
            )
        current = current_revision(connection)
        if current == head:
            return head
        if current is not None and current not in known:
            raise SchemaMismatchError(
                f"database {where} is at schema revision {current}, newer than this code "
                f"(head {head}): deploy the newer stock_assets version"
            )
        if not migrate:
            raise SchemaMismatchError(
                f"database {where} is at schema revision {current or 'none'}, behind this code "
                f"(head {head}): run `alembic upgrade head` (auto-migration is off)"
            )
        command.upgrade(alembic_config(connection), "head")
    return head
