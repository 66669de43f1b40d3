"""Alembic environment: migrations target `stock_assets.database.schema.metadata`.

The connection comes from the caller (`stock_assets.database.migrations` passes one), from
``-x url=…``, or from the project's settings (``STOCK_ASSETS_DATABASE_URL``).
"""

import dagster as dg
import sqlalchemy as sa

from alembic import context
from stock_assets.database.schema import metadata


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url")
    if url:
        return url
    from stock_assets.settings import Settings

    configured = Settings.from_env().database_url
    # A set variable arrives as a dg.EnvVar, which is a str holding the variable's name.
    return configured.get_value() if isinstance(configured, dg.EnvVar) else configured


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif connection is not None:
    _run(connection)
else:
    engine = sa.create_engine(_url())
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()
