"""Bringing a database to the schema this code expects, safely from any number of runs.

`ensure_schema` upgrades to head under a Postgres advisory lock (two runs never race) or, with
auto-migration off, only checks. It trusts the tables, not only `alembic_version`: a table of ours
that was dropped is recreated from the model (which the migrations are tested to match), and a
database whose version row was dropped is stamped once its tables are complete. A database behind
or ahead of the code, or with a table that differs from the model, fails with a message that says
what to do.
"""

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

import stock_assets
from alembic import command
from stock_assets.database.schema import metadata

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


# Differences that break this code. Extra columns, indexes or tables a DBA added are left alone.
_BREAKING = {"add_column", "modify_type", "modify_nullable"}


def _table_differences(connection: sa.Connection) -> tuple[list[str], list[str]]:
    """Our tables that are missing, and those whose columns differ from the model."""
    existing = set(sa.inspect(connection).get_table_names())
    missing = [t.name for t in metadata.sorted_tables if t.name not in existing]
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    differing = {
        change[2]  # (kind, schema, table name, column, ...)
        for diff in compare_metadata(context, metadata)
        for change in (diff if isinstance(diff, list) else [diff])
        if change[0] in _BREAKING and change[2] not in missing
    }
    return missing, sorted(differing)


def _repair(connection: sa.Connection, current: str | None, head: str, where: str,
            migrate: bool) -> None:
    """Bring back what the tables lack when the recorded revision says nothing is to be done."""
    missing, differing = _table_differences(connection)
    if differing:
        raise SchemaMismatchError(
            f"database {where}: table(s) {', '.join(differing)} differ from schema revision "
            f"{head} although the database is recorded at {current or 'no revision'}: compare "
            f"them with stock_assets/database/schema.py, then either fix them by hand or back "
            f"them up and drop them (the next run recreates them), or `alembic stamp` the "
            f"revision they match and run `alembic upgrade head`"
        )
    if not missing and current == head:
        return
    if not migrate:
        raise SchemaMismatchError(
            f"database {where}: table(s) {', '.join(missing) or 'none'} missing and revision "
            f"{current or 'none'} recorded (head {head}): set STOCK_ASSETS_AUTO_MIGRATE=true for "
            f"one run to recreate them from the schema at head"
        )
    metadata.create_all(connection, tables=[metadata.tables[name] for name in missing])
    if current != head:
        command.stamp(alembic_config(connection), head)


def ensure_schema(engine: sa.Engine, *, migrate: bool = True) -> str:
    """Make sure the database is at head with all its tables (upgrading or repairing when
    `migrate`); return the revision."""
    head = head_revision()
    known = {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    where = engine.url.render_as_string(hide_password=True)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK}
            )
        current = current_revision(connection)
        if current is not None and current not in known:
            raise SchemaMismatchError(
                f"database {where} is at schema revision {current}, newer than this code "
                f"(head {head}): deploy the newer stock_assets version"
            )
        ours = set(metadata.tables) & set(sa.inspect(connection).get_table_names())
        if current == head or (current is None and ours):
            _repair(connection, current, head, where, migrate)
            return head
        if not migrate:
            raise SchemaMismatchError(
                f"database {where} is at schema revision {current or 'none'}, behind this code "
                f"(head {head}): run `alembic upgrade head` (auto-migration is off)"
            )
        command.upgrade(alembic_config(connection), "head")
    return head
