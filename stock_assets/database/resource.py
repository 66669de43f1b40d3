"""The database resource: a SQLAlchemy engine from `STOCK_ASSETS_DATABASE_URL`, its schema
made ready before anyone uses it (the warehouse loader and the request budget alike)."""

from pathlib import Path

import dagster as dg
import sqlalchemy as sa
from pydantic import PrivateAttr

from stock_assets.database.migrations import ensure_schema
from stock_assets.settings import resolve


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached; the message names host and database, never a password."""


class DatabaseResource(dg.ConfigurableResource):
    """Postgres in production (``postgresql+psycopg://…``), a SQLite file by default.

    On Postgres every wait has an end: connecting (`connect_timeout_seconds`, unless the URL sets
    ``connect_timeout``), and a load's lock waits and statements (the `lock_timeout` and
    `statement_timeout` the warehouse sets on its transaction).
    """

    url: str
    auto_migrate: bool = True
    connect_timeout_seconds: int = 10
    lock_timeout_seconds: float = 30.0
    statement_timeout_seconds: float = 600.0
    _engine: sa.Engine | None = PrivateAttr(default=None)
    _revision: str | None = PrivateAttr(default=None)

    def _raw_engine(self) -> sa.Engine:
        """The engine, whatever the schema (created once per process)."""
        if self._engine is None:
            url = sa.make_url(self.url)
            if url.get_backend_name() == "sqlite" and url.database not in {None, "", ":memory:"}:
                Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            connect_args = {}
            if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
                connect_args["connect_timeout"] = self.connect_timeout_seconds
            self._engine = sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args)
        return self._engine

    def get_engine(self) -> sa.Engine:
        """The engine of a reachable database at the code's schema: migrated to head the first
        time (only checked when auto-migration is off), so no caller runs migrations itself."""
        if self._revision is None:
            self.validate_connection()
            self._revision = ensure_schema(self._raw_engine(), migrate=self.auto_migrate)
        return self._raw_engine()

    def schema_revision(self) -> str:
        """The alembic revision the database is at (head, once `get_engine` has run)."""
        self.get_engine()
        assert self._revision is not None
        return self._revision

    def describe(self) -> str:
        """The URL, its password masked."""
        return sa.make_url(resolve(self.url)).render_as_string(hide_password=True)

    def stored_symbols(self) -> set[str]:
        """The symbols `daily_prices` holds rows of (none before the table exists)."""
        engine = self._raw_engine()  # a read: it migrates nothing
        if not sa.inspect(engine).has_table("daily_prices"):
            return set()
        with engine.connect() as connection:
            query = sa.text("SELECT DISTINCT symbol FROM daily_prices")
            return set(connection.execute(query).scalars())

    def validate_connection(self) -> None:
        """Fail fast with a message that says where, not how (no password)."""
        try:
            with self._raw_engine().connect() as connection:
                connection.execute(sa.text("SELECT 1"))
        except sa.exc.OperationalError as exc:
            url = sa.make_url(self.url)
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
            if url.password:
                reason = reason.replace(str(url.password), "***")
            where = (
                f"host {url.host or 'localhost'}:{url.port or 5432}, database {url.database}"
                if url.get_backend_name() != "sqlite"
                else f"SQLite file {url.database}"
            )
            raise DatabaseUnavailable(
                f"cannot connect to the database ({where}): {reason}"
            ) from None
