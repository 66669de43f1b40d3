"""Loads into `daily_prices`, each case on Postgres and on SQLite.

Over 300 lines: one function's cases (merge, append, counts, refusals, every column), which
share their fixtures and helpers.
"""

import pandas as pd
import pytest
import sqlalchemy as sa

from stock_assets.alphavantage.api import DAILY_ADJUSTED
from stock_assets.database.schema import NUMBER_COLUMNS, TEXT_COLUMNS, VALUE_COLUMNS, daily_prices
from stock_assets.prices.schema import ADJUSTMENT_SOURCE, ADJUSTMENT_SOURCES, TEXT, conform
from stock_assets.warehouse.load import Lineage, LoadError, SymbolLoadStats, load_prices
from stock_assets_tests.prices.sample import clean_sample

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


def table_frame(engine: sa.Engine, symbol: str) -> pd.DataFrame:
    """A symbol's rows as the cleaned frames hold them: days as text, NULL as NaN."""
    with engine.connect() as connection:
        table = pd.read_sql(
            sa.select(*(daily_prices.c[c] for c in ["trade_date", *VALUE_COLUMNS]))
            .where(daily_prices.c.symbol == symbol)
            .order_by(daily_prices.c.trade_date),
            connection,
        )
    return comparable(table)


def comparable(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.reindex(columns=["trade_date", *VALUE_COLUMNS])
    out["trade_date"] = out["trade_date"].astype(str)
    out = out.astype({c: "float64" for c in NUMBER_COLUMNS} | dict.fromkeys(TEXT_COLUMNS, TEXT))
    return out.sort_values("trade_date").reset_index(drop=True)


def assert_table_holds(engine: sa.Engine, histories: dict[str, pd.DataFrame]) -> None:
    for symbol, history in histories.items():
        pd.testing.assert_frame_equal(table_frame(engine, symbol), comparable(history))


def counts(stats) -> tuple[int, int, int, int]:
    return stats.inserted, stats.updated, stats.deleted, stats.unchanged


@pytest.fixture(scope="module")
def aapl() -> pd.DataFrame:
    return clean_sample()


@pytest.fixture(scope="module")
def msft() -> pd.DataFrame:
    """An adjusted-plan history, with the adjustments missing on a few scattered days."""
    frame = clean_sample("MSFT", function=DAILY_ADJUSTED, datatype="csv")
    frame.loc[[3, 4, 500, 3000], "adjusted_close"] = float("nan")
    frame.loc[[4, 1200], "dividend_amount"] = float("nan")
    return frame


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
    fb = clean_sample("FB")
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


def test_histories_round_trip_exactly_with_missing_adjustments(engine, aapl, msft):
    stats = load_prices(engine, {"AAPL": aapl, "MSFT": msft}, LINEAGE | {"MSFT": LINEAGE["FB"]})
    assert counts(stats) == (6540, 0, 0, 0)
    assert_table_holds(engine, {"AAPL": aapl, "MSFT": msft})
    with engine.connect() as connection:
        nulls = connection.execute(
            sa.select(sa.func.count())
            .select_from(daily_prices)
            .where(daily_prices.c.symbol == "MSFT", daily_prices.c.adjusted_close.is_(None))
        ).scalar_one()
    assert nulls == 4


def test_new_days_after_the_last_stored_one_are_appended(engine, aapl):
    load_prices(engine, {"AAPL": aapl.iloc[:3000]}, LINEAGE)
    grown = aapl.copy()
    grown.loc[10, "open"] = 1.5
    grown = grown.drop(index=[20, 21])
    stats = load_prices(engine, {"AAPL": grown}, {"AAPL": Lineage("u", "v", "run-2")})
    assert counts(stats) == (270, 1, 2, 2997)
    assert_table_holds(engine, {"AAPL": grown})
    assert rows(engine, "AAPL")["run_id"].value_counts().to_dict() == {"run-1": 2997, "run-2": 271}


def test_fresh_and_stored_symbols_in_one_load(engine, aapl):
    fb = clean_sample("FB")
    load_prices(engine, {"AAPL": aapl.iloc[100:200]}, LINEAGE)
    stats = load_prices(engine, {"FB": fb, "AAPL": aapl.iloc[150:250]}, LINEAGE)
    assert counts(stats) == (len(fb) + 50, 0, 50, 50)
    assert_table_holds(engine, {"AAPL": aapl.iloc[150:250], "FB": fb})


def test_history_that_starts_after_the_stored_days_replaces_them(engine, aapl):
    load_prices(engine, {"AAPL": aapl.iloc[:100]}, LINEAGE)
    stats = load_prices(engine, {"AAPL": aapl.iloc[200:]}, LINEAGE)
    assert counts(stats) == (3070, 0, 100, 0)
    assert_table_holds(engine, {"AAPL": aapl.iloc[200:]})


def test_empty_history_deletes_the_symbol_only(engine, aapl):
    fb = clean_sample("FB")
    load_prices(engine, {"AAPL": aapl, "FB": fb}, LINEAGE)
    stats = load_prices(engine, {"AAPL": aapl.iloc[:0]}, LINEAGE)
    assert counts(stats) == (0, 0, 3270, 0)
    assert rows(engine, "AAPL").empty
    assert_table_holds(engine, {"FB": fb})


def test_unsorted_history_loads_in_day_order(engine, aapl):
    shuffled = aapl.sample(frac=1, random_state=1)
    assert counts(load_prices(engine, {"AAPL": shuffled}, LINEAGE)) == (3270, 0, 0, 0)
    assert_table_holds(engine, {"AAPL": aapl})


@pytest.mark.parametrize("stored", [True, False], ids=["stored", "fresh"])
def test_repeated_day_is_refused_naming_symbol_and_day(engine, aapl, stored):
    fb = clean_sample("FB")
    load_prices(engine, {"AAPL": aapl.iloc[: 3000 if stored else 0], "FB": fb}, LINEAGE)
    before = table_frame(engine, "AAPL")
    doubled = pd.concat([aapl, aapl.iloc[[7]]], ignore_index=True)
    with pytest.raises(LoadError, match=r"AAPL.*2000-03-10 more than once"):
        load_prices(engine, {"FB": fb.iloc[:50], "AAPL": doubled}, LINEAGE)
    pd.testing.assert_frame_equal(table_frame(engine, "AAPL"), before)
    assert_table_holds(engine, {"FB": fb})


def test_bad_fresh_symbol_rolls_back_the_stored_one_too(engine, aapl):
    fb = clean_sample("FB")
    load_prices(engine, {"AAPL": aapl.iloc[:3000]}, LINEAGE)
    before = rows(engine, "AAPL")
    bad = fb.copy()
    bad.loc[9, "volume"] = -5
    with pytest.raises(LoadError, match=r"rolled back"):
        load_prices(engine, {"AAPL": aapl, "FB": bad}, LINEAGE)
    pd.testing.assert_frame_equal(rows(engine, "AAPL"), before)
    assert rows(engine, "FB").empty


def test_failed_loads_leave_nothing_behind(engine, aapl):
    load_prices(engine, {"AAPL": aapl.iloc[:3000]}, LINEAGE)
    bad = aapl.copy()
    bad.loc[3, "volume"] = -1
    for _ in range(2):  # the second would trip over temporary tables left by the first
        with pytest.raises(LoadError, match="AAPL"):
            load_prices(engine, {"AAPL": bad}, LINEAGE)
    assert counts(load_prices(engine, {"AAPL": aapl}, LINEAGE)) == (270, 0, 0, 3000)
    assert counts(load_prices(engine, {}, {})) == (0, 0, 0, 0)


def first_and_last_day(frame: pd.DataFrame) -> tuple[str, str]:
    return str(frame["trade_date"].min()), str(frame["trade_date"].max())


def test_each_symbol_is_counted_and_reported_as_its_rows_are_sent(engine, aapl):
    fb = clean_sample("FB")
    load_prices(engine, {"AAPL": aapl.iloc[100:200]}, LINEAGE)
    revised = aapl.iloc[150:250].copy()
    assert revised.loc[160, "close"] != revised.loc[160, "low"]
    revised.loc[160, "close"] = revised.loc[160, "low"]
    sent: list[tuple[str, int]] = []
    stats = load_prices(
        engine, {"FB": fb, "AAPL": revised}, LINEAGE, on_symbol=lambda *call: sent.append(call)
    )
    assert sent == [("AAPL", 100), ("FB", len(fb))]  # the stored symbol first, for the merge
    assert stats.by_symbol == {
        "AAPL": SymbolLoadStats(100, *first_and_last_day(revised), 50, 1, 50, 49),
        "FB": SymbolLoadStats(len(fb), *first_and_last_day(fb), len(fb), 0, 0, 0),
    }
    for name in ["inserted", "updated", "deleted", "unchanged"]:
        assert getattr(stats, name) == sum(getattr(s, name) for s in stats.by_symbol.values())
    assert_table_holds(engine, {"AAPL": revised, "FB": fb})


def test_stored_symbols_merged_together_are_counted_apart(engine, aapl):
    fb = clean_sample("FB")
    load_prices(engine, {"AAPL": aapl.iloc[:3000], "FB": fb.iloc[:150]}, LINEAGE)
    revised = aapl.drop(index=[5, 6, 7])
    revised.loc[100, "close"] = revised.loc[100, "low"]
    grown = fb.drop(index=[40])
    stats = load_prices(engine, {"AAPL": revised, "FB": grown}, LINEAGE)
    assert stats.by_symbol == {
        "AAPL": SymbolLoadStats(3267, *first_and_last_day(revised), 270, 1, 3, 2996),
        "FB": SymbolLoadStats(195, *first_and_last_day(grown), 46, 0, 1, 149),
    }
    assert counts(stats) == (316, 1, 4, 3145)
    assert_table_holds(engine, {"AAPL": revised, "FB": grown})


def test_an_emptied_symbol_is_counted_as_deleted(engine, aapl):
    load_prices(engine, {"AAPL": aapl}, LINEAGE)
    sent: list[tuple[str, int]] = []
    stats = load_prices(
        engine, {"AAPL": aapl.iloc[:0]}, LINEAGE, on_symbol=lambda *call: sent.append(call)
    )
    assert sent == [("AAPL", 0)]
    assert stats.by_symbol == {"AAPL": SymbolLoadStats(0, None, None, 0, 0, 3270, 0)}


def test_summary_lists_the_first_symbols_and_sums_up_the_rest(engine, aapl):
    histories = {"MSFT": aapl.iloc[:10], "AAPL": aapl.iloc[:30], "FB": clean_sample("FB")}
    stats = load_prices(engine, histories, {s: LINEAGE["AAPL"] for s in histories})
    first, last = first_and_last_day(aapl.iloc[:30])
    rest = len(histories["FB"]) + 10
    assert stats.summary(limit=1) == [
        {
            "symbol": "AAPL",
            "rows": 30,
            "first_trade_date": first,
            "last_trade_date": last,
            "inserted": 30,
            "updated": 0,
            "deleted": 0,
            "unchanged": 0,
        },
        {
            "symbol": "and 2 more",
            "rows": rest,
            "first_trade_date": None,
            "last_trade_date": None,
            "inserted": rest,
            "updated": 0,
            "deleted": 0,
            "unchanged": 0,
        },
    ]
    assert [row["symbol"] for row in stats.summary()] == ["AAPL", "FB", "MSFT"]


def sourced(frame: pd.DataFrame) -> pd.DataFrame:
    """The history with each adjustment source in turn, every fourth day none known (NULL)."""
    sources = [*ADJUSTMENT_SOURCES, None]
    return conform(frame.assign(**{ADJUSTMENT_SOURCE: [sources[i % 4] for i in range(len(frame))]}))


def sources_in_table(engine: sa.Engine, symbol: str) -> dict:
    return table_frame(engine, symbol)[ADJUSTMENT_SOURCE].value_counts(dropna=False).to_dict()


def test_adjustment_sources_round_trip_and_a_reload_writes_nothing(engine, aapl):
    history = sourced(aapl)
    shuffled = history.sample(frac=1, random_state=2)  # the sources follow their days
    assert counts(load_prices(engine, {"AAPL": shuffled}, LINEAGE)) == (3270, 0, 0, 0)
    assert_table_holds(engine, {"AAPL": history})
    assert sources_in_table(engine, "AAPL") == {
        "premium answer": 818, "corporate actions": 818, "none": 817, pd.NA: 817
    }
    before = rows(engine, "AAPL")
    reload = load_prices(engine, {"AAPL": history}, {"AAPL": Lineage("u", "v", "run-2")})
    assert counts(reload) == (0, 0, 0, 3270)
    pd.testing.assert_frame_equal(rows(engine, "AAPL"), before)


def test_a_changed_adjustment_source_alone_updates_its_row(engine, aapl):
    history = sourced(aapl)
    load_prices(engine, {"AAPL": history}, LINEAGE)
    revised = history.copy()
    revised.loc[100, ADJUSTMENT_SOURCE] = "corporate actions"  # was "premium answer"
    revised.loc[101, ADJUSTMENT_SOURCE] = None  # was "corporate actions"
    revised.loc[103, ADJUSTMENT_SOURCE] = "none"  # was NULL
    stats = load_prices(engine, {"AAPL": revised}, {"AAPL": Lineage("u", "v", "run-2")})
    assert counts(stats) == (0, 3, 0, 3267)
    assert_table_holds(engine, {"AAPL": revised})
    table = rows(engine, "AAPL")
    changed = table.loc[table["run_id"] == "run-2", "trade_date"].astype(str).tolist()
    assert changed == revised.loc[[100, 101, 103], "trade_date"].astype(str).tolist()


def test_a_history_stored_before_the_adjustment_source_loads_it_as_null(engine, aapl):
    assert ADJUSTMENT_SOURCE not in aapl.columns
    load_prices(engine, {"AAPL": sourced(aapl).iloc[:3000]}, LINEAGE)
    stats = load_prices(engine, {"AAPL": aapl}, LINEAGE)
    assert counts(stats) == (270, 2250, 0, 750)  # the 750 days without a source unchanged
    assert sources_in_table(engine, "AAPL") == {pd.NA: 3270}
    assert_table_holds(engine, {"AAPL": aapl})


@pytest.mark.parametrize("day", [100, 3100], ids=["stored day", "new day"])
def test_an_unknown_adjustment_source_is_refused_by_the_table(engine, aapl, day):
    load_prices(engine, {"AAPL": aapl.iloc[:3000]}, LINEAGE)
    before = rows(engine, "AAPL")
    bad = sourced(aapl)
    bad.loc[day, ADJUSTMENT_SOURCE] = "guessed"
    with pytest.raises(LoadError, match=r"AAPL rolled back.*ck_daily_prices_adjustment_source"):
        load_prices(engine, {"AAPL": bad}, LINEAGE)
    pd.testing.assert_frame_equal(rows(engine, "AAPL"), before)
