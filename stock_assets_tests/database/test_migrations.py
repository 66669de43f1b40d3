import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from alembic import command
from stock_assets.database.migrations import (
    SchemaMismatchError,
    alembic_config,
    current_revision,
    ensure_schema,
    head_revision,
)
from stock_assets.database.schema import metadata


@pytest.fixture(params=["postgresql", "sqlite"])
def blank_engine(request, tmp_path):
    """An empty database (no tables at all)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'blank.sqlite'}"
    else:
        url = request.getfixturevalue("make_postgres_database")()
    engine = sa.create_engine(url)
    yield engine
    engine.dispose()


def test_upgrade_downgrade_round_trip(blank_engine):
    with blank_engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")
    assert "daily_prices" in sa.inspect(blank_engine).get_table_names()
    with blank_engine.begin() as connection:
        command.downgrade(alembic_config(connection), "base")
    assert "daily_prices" not in sa.inspect(blank_engine).get_table_names()
    assert ensure_schema(blank_engine) == head_revision()
    assert "daily_prices" in sa.inspect(blank_engine).get_table_names()


def test_renaming_the_lineage_checksum_column_keeps_every_row(blank_engine):
    """0004 renames source_version to source_sha256 in place: the rows loaded before keep
    their checksum, and a downgrade gives the old name back."""
    row = {"symbol": "IBM", "trade_date": "2013-03-01", "open": 1.0, "high": 2.0, "low": 0.5,
           "close": 1.5, "volume": 10, "source_uri": "s3://b/IBM.parquet",
           "source_version": "ab" * 32, "run_id": "r1", "loaded_at": "2013-03-01 22:00:00+00"}
    insert = sa.text(f"INSERT INTO daily_prices ({', '.join(row)}) "
                     f"VALUES ({', '.join(':' + name for name in row)})")
    with blank_engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0003")
        connection.execute(insert, row)
        command.upgrade(alembic_config(connection), "head")
        checksum = connection.execute(sa.text("SELECT source_sha256 FROM daily_prices")).scalar()
    assert checksum == "ab" * 32
    with blank_engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0003")
        old = connection.execute(sa.text("SELECT source_version FROM daily_prices")).scalar()
    assert old == "ab" * 32


def _columns(connection: sa.Connection) -> list[str]:
    return [column["name"] for column in sa.inspect(connection).get_columns("daily_prices")]


def test_adding_the_adjustment_source_keeps_every_row_and_both_checks(blank_engine):
    """0005 adds adjustment_source, NULL on the rows loaded before, and its CHECK constraint;
    on SQLite batch mode copies the table, which must keep the volume check. A downgrade
    removes both and keeps the rows."""
    row = {"symbol": "IBM", "trade_date": "2013-03-01", "open": 1.0, "high": 2.0, "low": 0.5,
           "close": 1.5, "volume": 10, "source_uri": "s3://b/IBM.parquet",
           "source_sha256": "ab" * 32, "run_id": "r1", "loaded_at": "2013-03-01 22:00:00+00"}
    insert = sa.text(f"INSERT INTO daily_prices ({', '.join(row)}) "
                     f"VALUES ({', '.join(':' + name for name in row)})")
    with blank_engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0004")
        connection.execute(insert, row)
        command.upgrade(alembic_config(connection), "0005")
        kept = connection.execute(sa.text("SELECT symbol, close, adjustment_source, "
                                          "source_sha256 FROM daily_prices")).all()
        connection.execute(sa.text("UPDATE daily_prices SET adjustment_source = 'none'"))
    assert kept == [("IBM", 1.5, None, "ab" * 32)]
    refused = {"adjustment_source": "guessed", "volume": -1}
    for column, value in refused.items():
        with pytest.raises(sa.exc.IntegrityError), blank_engine.begin() as connection:
            connection.execute(sa.text(f"UPDATE daily_prices SET {column} = :v"), {"v": value})
    with blank_engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0004")
        assert "adjustment_source" not in _columns(connection)
        assert connection.execute(sa.text("SELECT symbol, close FROM daily_prices")).all() == [
            ("IBM", 1.5)
        ]
    with pytest.raises(sa.exc.IntegrityError), blank_engine.begin() as connection:
        connection.execute(sa.text("UPDATE daily_prices SET volume = -1"))


def test_model_and_migrations_agree(blank_engine):
    ensure_schema(blank_engine)
    with blank_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_behind_without_auto_migration_says_what_to_run(blank_engine):
    with pytest.raises(SchemaMismatchError, match=r"behind this code.*alembic upgrade head"):
        ensure_schema(blank_engine, migrate=False)


def test_database_ahead_of_the_code_fails_clearly(blank_engine):
    ensure_schema(blank_engine)
    with blank_engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(SchemaMismatchError, match="9999_future, newer than this code"):
        ensure_schema(blank_engine)
    with blank_engine.connect() as connection:
        assert current_revision(connection) == "9999_future"


def _tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_a_dropped_table_is_recreated_at_head(blank_engine):
    ensure_schema(blank_engine)
    with blank_engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE daily_prices"))
    assert ensure_schema(blank_engine) == head_revision()
    assert {"daily_prices", "api_budget", "alembic_version"} <= _tables(blank_engine)


def test_a_dropped_version_table_is_stamped_once_the_tables_are_complete(blank_engine):
    ensure_schema(blank_engine)
    with blank_engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE daily_prices"))
        connection.execute(sa.text("DROP TABLE alembic_version"))
    assert ensure_schema(blank_engine) == head_revision()
    with blank_engine.connect() as connection:
        assert current_revision(connection) == head_revision()
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_without_auto_migration_a_missing_table_says_what_to_do(blank_engine):
    ensure_schema(blank_engine)
    with blank_engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE daily_prices"))
    with pytest.raises(SchemaMismatchError, match=r"daily_prices missing.*AUTO_MIGRATE=true"):
        ensure_schema(blank_engine, migrate=False)


def test_a_table_that_differs_from_the_model_is_refused_with_what_to_do(blank_engine):
    ensure_schema(blank_engine)
    with blank_engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE daily_prices"))
        connection.execute(sa.text("DROP TABLE alembic_version"))
        connection.execute(sa.text("CREATE TABLE daily_prices (symbol VARCHAR(10), close FLOAT)"))
    with pytest.raises(SchemaMismatchError, match=r"daily_prices differ.*alembic stamp"):
        ensure_schema(blank_engine)
    assert "alembic_version" not in _tables(blank_engine)
