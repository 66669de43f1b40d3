import pandas as pd
import pytest
import sqlalchemy as sa

from stock_assets.warehouse.load import Lineage, LoadError, load_prices
from stock_assets_tests.prices.test_parse import parse_answer, sample_answer

LINEAGE = {s: Lineage("s3://bucket/cleaned/x.parquet", "abc123", "run-1") for s in ("AAPL", "FB")}


def rows(engine: sa.Engine, symbol: str) -> pd.DataFrame:
    with engine.connect() as connection:
        return pd.read_sql(
            sa.text(
                "SELECT trade_date, open, high, low, close, volume, run_id FROM daily_prices "
                "WHERE symbol = :s ORDER BY trade_date"
            ),
            connection,
            params={"s": symbol},
        )


@pytest.fixture(scope="module")
def aapl() -> pd.DataFrame:
    return parse_answer(sample_answer())


def test_load_then_reload_writes_nothing(engine, aapl):
    first = load_prices(engine, {"AAPL": aapl}, LINEAGE)
    assert (first.inserted, first.updated, first.deleted, first.unchanged) == (3270, 0, 0, 0)
    before = rows(engine, "AAPL")
    second = load_prices(engine, {"AAPL": aapl}, {"AAPL": Lineage("u", "v", "run-2")})
    assert (second.inserted, second.updated, second.deleted, second.unchanged) == (0, 0, 0, 3270)
    pd.testing.assert_frame_equal(rows(engine, "AAPL"), before)  # lineage of run-1 kept


def test_revised_day_is_updated_and_removed_days_deleted(engine, aapl):
    load_prices(engine, {"AAPL": aapl}, LINEAGE)
    revised = aapl.iloc[:-2].copy()
    revised.loc[100, "close"] = 123.45
    stats = load_prices(engine, {"AAPL": revised}, {"AAPL": Lineage("u", "v", "run-2")})
    assert (stats.inserted, stats.updated, stats.deleted) == (0, 1, 2)
    table = rows(engine, "AAPL")
    assert len(table) == 3268
    changed = table[table["run_id"] == "run-2"]
    assert len(changed) == 1 and changed["close"].item() == 123.45


def test_symbols_do_not_touch_each_other(engine, aapl):
    fb = parse_answer(sample_answer("FB"))
    load_prices(engine, {"AAPL": aapl, "FB": fb}, LINEAGE)
    load_prices(engine, {"FB": fb.iloc[:10]}, LINEAGE)
    assert len(rows(engine, "AAPL")) == 3270
    assert len(rows(engine, "FB")) == 10


def test_constraint_violation_rolls_back_and_names_the_symbol(engine, aapl):
    load_prices(engine, {"AAPL": aapl}, LINEAGE)
    before = rows(engine, "AAPL")
    bad = aapl.copy()
    bad.loc[5, "close"] = 1.0
    bad.loc[7, "volume"] = -1
    with pytest.raises(LoadError, match=r"AAPL.*rolled back"):
        load_prices(engine, {"AAPL": bad}, LINEAGE)
    pd.testing.assert_frame_equal(rows(engine, "AAPL"), before)
