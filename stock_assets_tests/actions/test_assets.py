"""The corporate-actions asset through Dagster, fed by the loopback Alpha Vantage server: prices
first, nothing twice in a day, at once on an unexplained jump, and a bad answer never trusted
over the record (nor allowed to touch the stored prices)."""

import json
from datetime import UTC, datetime, timedelta

import dagster as dg
import pandas as pd
import pytest
import sqlalchemy as sa

from stock_assets.alphavantage.api import DAILY, DAILY_ADJUSTED, DIVIDENDS, SPLITS
from stock_assets.alphavantage.sample import SampleAnswers
from stock_assets.alphavantage.sample_server import SampleServer
from stock_assets.definitions import ASSETS
from stock_assets_tests.helpers import loopback_resources

EVERY_SYMBOL = {
    "dagster/asset_partition_range_start": "AAPL",
    "dagster/asset_partition_range_end": "FB",
}
AAPL = {"dagster/partition": "AAPL"}


def run(tmp_path, server, instance, tags=EVERY_SYMBOL, **overrides) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        ASSETS, resources=loopback_resources(tmp_path, server, **overrides), tags=tags,
        instance=instance, raise_on_error=False,
    )


def statuses(result: dg.ExecuteInProcessResult) -> dict[str, str]:
    return {m.partition: m.metadata["status"].value
            for m in result.asset_materializations_for_node("corporate_actions")}


def logged(instance, result) -> list[str]:
    return [entry.user_message for entry in instance.all_logs(result.run_id)]


def stored_actions(tmp_path, symbol="AAPL") -> dict:
    return json.loads((tmp_path / "objects" / "corporate_actions" / f"{symbol}.json").read_text())


def age_actions(tmp_path, server, days: int, **changes) -> None:
    """Make AAPL's stored corporate actions look fetched `days` ago (and changed so), written
    through the store so that their checksum still holds."""
    store = loopback_resources(tmp_path, server)["object_store"].get_store()
    record = json.loads(store.get("corporate_actions/AAPL.json").data)
    fetched = datetime.now(UTC) - timedelta(days=days)
    record |= {"fetched_at": fetched.isoformat(), **changes}
    store.put("corporate_actions/AAPL.json", json.dumps(record).encode(),
              content_type="application/json")


def test_a_25_a_day_first_load_fetches_every_price_first_and_nothing_twice_in_a_day(
    tmp_path, sample_server, instance, backend
):
    first = run(tmp_path, sample_server, instance, requests_per_day=25, **backend)
    assert first.success
    asked = [a.function for a in sample_server.arrivals()]
    assert asked[:5] == [DAILY] * 5
    assert sorted(asked[5:]) == [DIVIDENDS] * 5 + [SPLITS] * 5
    plan = next(line for line in logged(instance, first) if line.startswith("corporate actions:"))
    assert plan.startswith("corporate actions: 5 of 5 symbols due, 10 requests")
    assert "asked after the prices" in plan
    assert "20 of today's 25 requests are left after the prices" in plan
    assert set(statuses(first).values()) == {"fetched: never fetched"}

    sample_server.clear()
    again = run(tmp_path, sample_server, instance, requests_per_day=25, **backend)
    assert again.success
    assert [a.function for a in sample_server.arrivals()] == [DAILY] * 5
    assert all(s.startswith("not due: fetched ") for s in statuses(again).values())


def test_when_the_prices_leave_too_little_quota_the_rest_waits_and_the_prices_go_on(
    tmp_path, sample_server, instance
):
    result = run(tmp_path, sample_server, instance, requests_per_day=8,
                 max_concurrent_requests=1)
    assert result.success
    status = statuses(result)
    assert status.pop("AAPL") == "fetched: never fetched"
    assert set(status.values()) == {
        "not fetched: waits for quota the prices do not need: 3 requests are left today and 0 "
        "are kept for symbols whose prices are not fetched yet"
    }
    assert [a.function for a in sample_server.arrivals()] == [DAILY] * 5 + [SPLITS, DIVIDENDS]
    cleaned = {m.partition: m.metadata["adjustment_source"].value
               for m in result.asset_materializations_for_node("cleaned_daily_prices")
               if m.asset_key.path == ["cleaned_daily_prices"]}
    assert cleaned["AAPL"] == "corporate actions"
    assert {cleaned[s] for s in ["MSFT", "IBM", "GOOG", "FB"]} == {"none"}
    assert any("so 1 symbols are asked now" in line for line in logged(instance, result))


def test_runs_of_one_symbol_each_leave_the_quota_the_other_prices_need(
    tmp_path, sample_server, instance
):
    """As the CLI runs them: without the reservation, AAPL, MSFT and IBM would spend 9 of 10
    requests and FB's prices would find the quota spent."""
    for symbol in ["AAPL", "MSFT", "IBM", "GOOG", "FB"]:
        result = run(tmp_path, sample_server, instance, tags={"dagster/partition": symbol},
                     requests_per_day=10)
        assert result.success, symbol
    asked = [(a.function, a.symbol) for a in sample_server.arrivals()]
    assert [s for f, s in asked if f == DAILY] == ["AAPL", "MSFT", "IBM", "GOOG", "FB"]
    assert sorted({s for f, s in asked if f != DAILY}) == ["AAPL", "MSFT"]
    assert len(asked) == 9

def test_a_price_jump_with_no_split_on_record_fetches_them_at_once(
    tmp_path, sample_server, instance
):
    assert run(tmp_path, sample_server, instance, tags=AAPL).success
    # Fetched yesterday, before the splits were known.
    age_actions(tmp_path, sample_server, days=1, splits=[])
    sample_server.clear()
    result = run(tmp_path, sample_server, instance, tags=AAPL)
    assert result.success
    assert {a.function for a in sample_server.arrivals()} == {DAILY, SPLITS, DIVIDENDS}
    assert statuses(result)["AAPL"] == (
        "fetched: price jump with no split on record: 2000-06-21 2:1, 2005-02-28 2:1"
    )
    assert len(stored_actions(tmp_path)["splits"]) == 2


BAD_ANSWERS = {
    "another symbol's": (
        {(SPLITS, "AAPL"): {"symbol": "MSFT", "data": []}},
        "not fetched: AAPL: Alpha Vantage answer for another symbol: the SPLITS answer is for "
        "'MSFT', not AAPL; it was not stored as AAPL's",
    ),
    "empty data": (
        {(SPLITS, "AAPL"): {"symbol": "AAPL", "data": []},
         (DIVIDENDS, "AAPL"): {"symbol": "AAPL", "data": []}},
        "kept: the new answers no longer list 5 events on record (split 2000-06-21, split "
        "2005-02-28, dividend 2012-08-09 (and 2 more)), so the record is trusted over them",
    ),
    "a premium notice": (
        {(DIVIDENDS, "AAPL"): {"Information": "Thank you for using Alpha Vantage! This is a "
                               "premium endpoint. You may subscribe to any of the premium plans "
                               "at https://www.alphavantage.co/premium/ to instantly unlock all "
                               "premium endpoints"}},
        "not fetched: AAPL: Alpha Vantage plan does not allow this request: this endpoint is "
        "premium-only for this key",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_ANSWERS))
def test_a_bad_corporate_actions_answer_gets_a_clear_outcome_and_touches_no_stored_price(
    tmp_path, sample_server, instance, case
):
    assert run(tmp_path, sample_server, instance, tags=AAPL).success
    age_actions(tmp_path, sample_server, days=8)  # due again
    record = stored_actions(tmp_path)
    history = pd.read_parquet(tmp_path / "objects" / "cleaned_daily_prices" / "AAPL.parquet")
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    table = pd.read_sql("SELECT * FROM daily_prices ORDER BY trade_date", engine)

    extra, expected = BAD_ANSWERS[case]
    with SampleServer(SampleAnswers(extra=extra)) as bad:
        result = run(tmp_path, bad, instance, tags=AAPL)
    assert result.success
    assert statuses(result)["AAPL"].startswith(expected)
    assert stored_actions(tmp_path) == record
    after = pd.read_parquet(tmp_path / "objects" / "cleaned_daily_prices" / "AAPL.parquet")
    pd.testing.assert_frame_equal(after, history)
    now = pd.read_sql("SELECT * FROM daily_prices ORDER BY trade_date", engine)
    pd.testing.assert_frame_equal(now.drop(columns=["run_id", "loaded_at"]),
                                  table.drop(columns=["run_id", "loaded_at"]))
    engine.dispose()


def premium_adjusted_close(symbol: str) -> pd.Series:
    """The bundled premium answer's own adjusted close, by day."""
    series = SampleAnswers().series(DAILY_ADJUSTED, symbol)["Time Series (Daily)"]
    return pd.Series({day: float(row["5. adjusted close"]) for day, row in series.items()})


def test_a_free_key_loads_adjusted_prices_that_match_the_premium_answer(
    tmp_path, sample_server, instance, s3_bucket, make_postgres_database
):
    """Issue 15's acceptance, on Postgres and moto's S3: the free endpoint plus SPLITS and
    DIVIDENDS give AAPL's premium adjusted close within 1e-6 on every day, and MSFT's within the
    4-decimal rounding of its dividends."""
    database = make_postgres_database()
    result = run(tmp_path, sample_server, instance, storage_url=f"s3://{s3_bucket}/prices",
                 database_url=database, tags={
                     "dagster/asset_partition_range_start": "AAPL",
                     "dagster/asset_partition_range_end": "MSFT"})
    assert result.success
    assert {r["function"] for r in sample_server.requests} == {DAILY, SPLITS, DIVIDENDS}
    engine = sa.create_engine(database)
    table = pd.read_sql("SELECT symbol, trade_date, close, adjusted_close, dividend_amount, "
                        "adjustment_source FROM daily_prices ORDER BY symbol, trade_date", engine)
    engine.dispose()
    assert set(table["adjustment_source"]) == {"corporate actions"}
    for symbol, rounding in [("AAPL", False), ("MSFT", True)]:
        rows = table[table["symbol"] == symbol].set_index(table["trade_date"].astype(str)
                                                           [table["symbol"] == symbol])
        premium = premium_adjusted_close(symbol).reindex(rows.index)
        assert premium.notna().all() and len(rows) == 3270
        relative = (rows["adjusted_close"] / premium - 1).abs()
        bound = 1e-6
        if rounding:  # each dividend is 0.00005 off at most, moving every earlier day's factor
            paid = rows["dividend_amount"] > 0
            bound = (0.00005 / (rows["close"].shift() - rows["dividend_amount"]))[paid].sum()
        assert relative.max() <= bound, (symbol, relative.max(), bound)


def test_a_reverse_split_and_a_special_dividend_adjust_the_table_exactly(
    tmp_path, instance, s3_bucket, make_postgres_database
):
    """IBM's real prices with a 1:10 reverse split made up on 2010-01-04 (every later price ten
    times higher) and a 25-dollar special dividend on 2012-06-01, served by the loopback server
    with those as its only corporate actions."""
    payload = SampleAnswers().series(DAILY, "IBM")
    series = {day: {k: (f"{float(v) * 10:.4f}" if day >= "2010-01-04" and "volume" not in k
                        else v) for k, v in row.items()}
              for day, row in payload["Time Series (Daily)"].items()}
    extra = {
        (DAILY, "IBM"): {**payload, "Time Series (Daily)": series},
        (SPLITS, "IBM"): {"symbol": "IBM", "data": [
            {"effective_date": "2010-01-04", "split_factor": "0.1000"}]},
        (DIVIDENDS, "IBM"): {"symbol": "IBM", "data": [
            {"ex_dividend_date": "2012-06-01", "declaration_date": "None",
             "record_date": "None", "payment_date": "None", "amount": "25.00"}]},
    }
    database = make_postgres_database()
    with SampleServer(SampleAnswers(extra=extra)) as server:
        result = run(tmp_path, server, instance, tags={"dagster/partition": "IBM"},
                     storage_url=f"s3://{s3_bucket}/prices", database_url=database)
    assert result.success
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert checks["no_undeclared_splits"].passed  # the 1:10 jump, declared
    engine = sa.create_engine(database)
    rows = pd.read_sql("SELECT * FROM daily_prices ORDER BY trade_date", engine)
    engine.dispose()
    rows.index = rows["trade_date"].astype(str)
    before_dividend = rows["close"].shift()["2012-06-01"]
    dividend = 1 - 25.0 / before_dividend
    day = rows.loc["2009-12-31"]  # before both
    assert day["adjusted_close"] == pytest.approx(day["close"] * 10 * dividend, rel=1e-12)
    assert day["adjusted_volume"] == pytest.approx(day["volume"] / 10, rel=1e-12)
    day = rows.loc["2011-06-01"]  # after the split, before the dividend
    assert day["adjusted_close"] == pytest.approx(day["close"] * dividend, rel=1e-12)
    assert day["adjusted_volume"] == day["volume"]
    day = rows.loc["2012-06-01"]  # from the ex-date on, as traded
    assert day["adjusted_close"] == day["close"] and day["dividend_amount"] == 25.0
    assert rows.loc["2010-01-04", "split_coefficient"] == 0.1
    assert set(rows["adjustment_source"]) == {"corporate actions"}


def test_the_same_events_fetched_again_are_archived_once(tmp_path, sample_server, instance):
    """Found by the kill campaign: every re-fetch archived a new entry, the records differing
    only in when they were fetched (the archive identifies a record by its answers' bodies)."""
    assert run(tmp_path, sample_server, instance, tags=AAPL).success
    age_actions(tmp_path, sample_server, days=8)  # due again: fetched, and the same events come
    again = run(tmp_path, sample_server, instance, tags=AAPL)
    assert again.success and statuses(again)["AAPL"].startswith("fetched"), statuses(again)
    archive = tmp_path / "objects" / "corporate_actions" / "_history" / "AAPL"
    assert len(list(archive.iterdir())) == 1
