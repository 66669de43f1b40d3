import pytest
import sqlalchemy as sa

from stock_assets.database.migrations import ensure_schema


@pytest.fixture(params=["postgresql", "sqlite"])
def engine(request, tmp_path):
    """`daily_prices` at head, empty, on the local Postgres and on a SQLite file."""
    if request.param == "sqlite":
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'warehouse.sqlite'}")
        ensure_schema(engine)
        yield engine
        engine.dispose()
    else:
        yield request.getfixturevalue("pg_engine")
