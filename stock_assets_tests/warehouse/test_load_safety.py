"""A load whose connection dies in the middle, and loads running at the same time, on a real
Postgres: the table is always as before or exactly one load's result, and nothing deadlocks."""

import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from stock_assets.prices.schema import conform
from stock_assets.warehouse.load import Lineage, LoadStats, load_prices
from stock_assets_tests.warehouse.test_load import rows

# A load that waits for a lock longer than this fails instead of hanging the test run.
LOCK_TIMEOUT_MS = 20_000


def history(symbol: str, days: int, *, seed: int, start: str = "1960-01-01") -> pd.DataFrame:
    """A cleaned history of `days` business days; another seed changes every price."""
    rng = np.random.default_rng(seed)
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.01, days)))
    frame = pd.DataFrame(
        {
            "symbol": symbol,
            "trade_date": pd.bdate_range(start, periods=days),
            "open": close * 1.001,
            "high": close * 1.01,
            "low": close * 0.99,
            "close": close,
            "volume": rng.integers(1_000, 1_000_000, days),
        }
    )
    return conform(frame)


def lineage(histories: dict[str, pd.DataFrame], run_id: str) -> dict[str, Lineage]:
    return {symbol: Lineage(f"s3://bucket/{symbol}.parquet", "sha", run_id) for symbol in histories}


def table_state(engine: sa.Engine) -> tuple[int, str]:
    """Row count and a digest of every row, lineage included."""
    with engine.connect() as connection:
        return tuple(
            connection.execute(
                sa.text(
                    "SELECT count(*), md5(coalesce(string_agg(t::text, ',' "
                    "ORDER BY symbol, trade_date), '')) FROM daily_prices AS t"
                )
            ).one()
        )


def assert_symbol_is(engine: sa.Engine, symbol: str, frame: pd.DataFrame, run_id: str) -> None:
    table = rows(engine, symbol)
    assert set(table["run_id"]) == {run_id}
    expected = frame[["trade_date", "open", "high", "low", "close", "volume"]].reset_index(
        drop=True
    )
    pd.testing.assert_frame_equal(
        table.drop(columns="run_id").assign(trade_date=lambda t: t["trade_date"].astype(str)),
        expected.assign(trade_date=expected["trade_date"].astype(str)),
    )


@pytest.fixture
def loader_engine(postgres_url: str) -> Iterator:
    """Engines whose connections carry an application name, to find them in
    `pg_stat_activity`."""
    engines = []

    def make(name: str) -> sa.Engine:
        options = f"-c lock_timeout={LOCK_TIMEOUT_MS}"
        engine = sa.create_engine(
            postgres_url, connect_args={"application_name": name, "options": options}
        )
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.dispose()


def wait_for_backends(
    engine: sa.Engine, names: list[str], condition: str, timeout: float = 20.0
) -> list[int]:
    """The pids of the backends of these application names once each meets `condition`."""
    deadline = time.monotonic() + timeout
    query = sa.text(
        f"SELECT application_name, pid FROM pg_stat_activity "
        f"WHERE application_name = ANY(:names) AND {condition}"
    )
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            found = dict(connection.execute(query, {"names": names}).all())
        if set(found) == set(names):
            return [found[name] for name in names]
        time.sleep(0.002)
    raise AssertionError(f"{names} never met {condition}")


def in_background(function, *args) -> Future:
    executor = ThreadPoolExecutor(max_workers=1)
    future = executor.submit(function, *args)
    executor.shutdown(wait=False)
    return future


@pytest.fixture(scope="module")
def crash_load() -> tuple[dict, dict, dict]:
    """(stored histories, those revised on every day, fresh ones): 200 000 rows each."""
    stored = {f"S{i:03d}": history(f"S{i:03d}", 2_000, seed=i) for i in range(100)}
    revised = {s: history(s, 2_000, seed=500 + i) for i, s in enumerate(stored)}
    fresh = {f"F{i:03d}": history(f"F{i:03d}", 2_000, seed=1_000 + i) for i in range(100)}
    return stored, revised, fresh


@pytest.mark.slow
@pytest.mark.parametrize("table", ["daily_prices", "daily_prices_staging"])
def test_connection_killed_during_copy_leaves_table_as_before(
    pg_engine, loader_engine, crash_load, table
):
    stored, revised, fresh = crash_load
    load_prices(pg_engine, stored, lineage(stored, "run-1"))
    before = table_state(pg_engine)
    histories = revised | fresh
    loader = loader_engine("stock-assets-crash-test")

    load = in_background(load_prices, loader, histories, lineage(histories, "run-2"))
    [pid] = wait_for_backends(
        pg_engine, ["stock-assets-crash-test"], f"state = 'active' AND query LIKE 'COPY {table} (%'"
    )
    with pg_engine.connect() as connection:
        assert connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    with pytest.raises(sa.exc.OperationalError):
        load.result(timeout=30)

    assert table_state(pg_engine) == before
    stats = load_prices(loader, histories, lineage(histories, "run-3"))
    assert (stats.inserted, stats.updated, stats.deleted) == (200_000, 200_000, 0)
    assert_symbol_is(pg_engine, "S007", revised["S007"], "run-3")
    assert_symbol_is(pg_engine, "F007", fresh["F007"], "run-3")


@pytest.mark.slow
def test_concurrent_loads_of_the_same_symbols_end_as_one_of_them(pg_engine, loader_engine):
    """The loads name shared symbols in opposite orders, and a third connection holds one of
    their locks until both are waiting, so both are in flight together: neither deadlocks,
    and each shared symbol ends exactly as the load that committed last left it."""
    first = {s: history(s, 10_000, seed=n) for n, s in enumerate(["AAA", "BBB", "CCC"])}
    second = {s: history(s, 10_000, seed=10 + n) for n, s in enumerate(["DDD", "CCC", "BBB"])}
    second = {s: frame.iloc[3_000:] for s, frame in second.items()}  # overlaps `first`
    stored = {s: history(s, 5_000, seed=20) for s in ["BBB", "CCC"]}
    loaders = {"stock-assets-first": first, "stock-assets-second": second}
    for round_ in range(3):
        load_prices(pg_engine, stored, lineage(stored, "stored"))
        with pg_engine.connect() as holder:
            holder.execute(
                sa.text("SELECT pg_advisory_xact_lock(hashtext('daily_prices'), hashtext('BBB'))")
            )
            loads = {
                name: in_background(
                    load_prices, loader_engine(f"{name}-{round_}"), frames, lineage(frames, name)
                )
                for name, frames in loaders.items()
            }
            wait_for_backends(
                pg_engine, [f"{name}-{round_}" for name in loaders], "wait_event = 'advisory'"
            )
            holder.rollback()
        stats = {name: load.result(timeout=60) for name, load in loads.items()}
        assert all(isinstance(s, LoadStats) for s in stats.values())

        assert_symbol_is(pg_engine, "AAA", first["AAA"], "stock-assets-first")
        assert_symbol_is(pg_engine, "DDD", second["DDD"], "stock-assets-second")
        last = rows(pg_engine, "BBB")["run_id"].iloc[0]
        for symbol in ["BBB", "CCC"]:
            assert_symbol_is(pg_engine, symbol, loaders[last][symbol], last)
        with pg_engine.connect() as connection:
            duplicates = connection.execute(
                sa.text(
                    "SELECT count(*) FROM (SELECT FROM daily_prices GROUP BY symbol, trade_date "
                    "HAVING count(*) > 1) AS d"
                )
            ).scalar_one()
        assert duplicates == 0


def test_a_load_does_not_wait_for_loads_of_other_symbols(pg_engine, loader_engine):
    aaa = {"AAA": history("AAA", 2_000, seed=1)}
    bbb = {"BBB": history("BBB", 2_000, seed=2)}
    with pg_engine.connect() as holder:
        holder.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtext('daily_prices'), hashtext('AAA'))")
        )
        blocked = in_background(
            load_prices, loader_engine("stock-assets-aaa"), aaa, lineage(aaa, "run-a")
        )
        wait_for_backends(pg_engine, ["stock-assets-aaa"], "wait_event = 'advisory'")

        other = in_background(
            load_prices, loader_engine("stock-assets-bbb"), bbb, lineage(bbb, "run-b")
        )
        assert other.result(timeout=10).inserted == 2_000
        assert not blocked.done()
        assert rows(pg_engine, "AAA").empty
        holder.rollback()
    assert blocked.result(timeout=10).inserted == 2_000
    assert_symbol_is(pg_engine, "AAA", aaa["AAA"], "run-a")
    assert_symbol_is(pg_engine, "BBB", bbb["BBB"], "run-b")
