"""The database resource: a SQLAlchemy engine from `STOCK_ASSETS_DATABASE_URL`."""

from pathlib import Path

import dagster as dg
import sqlalchemy as sa
from pydantic import PrivateAttr

from stock_assets.settings import resolve


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached; the message names host and database, never a password."""


class DatabaseResource(dg.ConfigurableResource):
    """Postgres in production (``postgresql+psycopg://…``), a SQLite file by default."""

    url: str
    auto_migrate: bool = True
    _engine: sa.Engine | None = PrivateAttr(default=None)

    def get_engine(self) -> sa.Engine:
        if self._engine is None:
            url = sa.make_url(self.url)
            if url.get_backend_name() == "sqlite" and url.database not in {None, "", ":memory:"}:
                Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            self._engine = sa.create_engine(url, pool_pre_ping=True)
        return self._engine

    def describe(self) -> str:
        """The URL, its password masked."""
        return sa.make_url(resolve(self.url)).render_as_string(hide_password=True)

    def stored_symbols(self) -> set[str]:
        """The symbols `daily_prices` holds rows of (none before the table exists)."""
        engine = self.get_engine()
        if not sa.inspect(engine).has_table("daily_prices"):
            return set()
        with engine.connect() as connection:
            query = sa.text("SELECT DISTINCT symbol FROM daily_prices")
            return set(connection.execute(query).scalars())

    def check_connection(self) -> None:
        """Fail fast with a message that says where, not how (no password)."""
        try:
            with self.get_engine().connect() as connection:
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
