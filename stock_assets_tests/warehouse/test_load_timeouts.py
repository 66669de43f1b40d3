"""Every wait of the warehouse has an end: a load blocked by another session's lock, or a
statement that runs too long, fails within its timeout and leaves the table as it was; a server
that never answers the connection fails within `connect_timeout`."""

import socket
import time

import pytest
import sqlalchemy as sa

from stock_assets.database.resource import DatabaseResource, DatabaseUnavailable
from stock_assets.warehouse.load import LoadError, LoadTimeouts, load_prices
from stock_assets_tests.warehouse.test_load_safety import history, lineage, table_state

MARGIN = 2.0  # seconds; a fact checked, not a benchmark


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("timeouts", "named", "waited"),
    [
        (LoadTimeouts(lock_seconds=1, statement_seconds=60), "lock_timeout of 1 s", 1),
        (LoadTimeouts(lock_seconds=60, statement_seconds=1.5), "statement_timeout of 1.5 s", 1.5),
    ],
)
def test_a_load_blocked_by_another_sessions_lock_fails_within_its_timeout(
    pg_engine, timeouts, named, waited
):
    stored = {"AAPL": history("AAPL", 500, seed=1), "MSFT": history("MSFT", 500, seed=2)}
    load_prices(pg_engine, stored, lineage(stored, "stored"))
    before = table_state(pg_engine)
    revised = {"AAPL": history("AAPL", 600, seed=3), "MSFT": history("MSFT", 600, seed=4)}
    with pg_engine.connect() as holder:
        holder.execute(sa.text("LOCK TABLE daily_prices IN ACCESS EXCLUSIVE MODE"))
        started = time.monotonic()
        with pytest.raises(LoadError) as caught:
            load_prices(pg_engine, revised, lineage(revised, "blocked"), timeouts=timeouts)
        elapsed = time.monotonic() - started
        holder.rollback()
    assert elapsed < waited + MARGIN
    message = str(caught.value)
    assert message.startswith("load of AAPL, MSFT rolled back, table unchanged: "), message
    assert named in message
    assert table_state(pg_engine) == before


def test_the_timeouts_end_with_the_load_transaction(pg_engine):
    """SET LOCAL: the pooled connection goes back to the server's defaults."""
    frames = {"AAPL": history("AAPL", 10, seed=1)}
    load_prices(pg_engine, frames, lineage(frames, "run"), timeouts=LoadTimeouts(1, 2))
    with pg_engine.connect() as connection:
        shown = [connection.execute(sa.text(f"SHOW {name}")).scalar_one()
                 for name in ("lock_timeout", "statement_timeout")]
    assert shown == ["0", "0"]


@pytest.mark.timeout(60)
def test_a_server_that_never_answers_fails_within_connect_timeout():
    """A socket that accepts and never speaks: without `connect_timeout` this waits forever."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        database = DatabaseResource(
            url=f"postgresql+psycopg://postgres@127.0.0.1:{port}/prices",
            connect_timeout_seconds=2,
        )
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailable, match=f"127.0.0.1:{port}, database prices"):
            database.validate_connection()
        assert time.monotonic() - started < 2 + MARGIN
