import dagster as dg
import sqlalchemy as sa

from stock_assets.definitions import ASSETS
from stock_assets.prices.schema import ADJUSTMENT_SOURCE
from stock_assets.storage.formats import get_format
from stock_assets.storage.history_store import object_key
from stock_assets.warehouse.checks import table_matches_stored_prices
from stock_assets.warehouse.load import load_prices
from stock_assets.warehouse.reconcile import reconcile, table_rows, table_rows_by_symbol
from stock_assets_tests.helpers import make_resources
from stock_assets_tests.prices.sample import clean_sample
from stock_assets_tests.warehouse.test_load import LINEAGE, sourced


def _evaluation(result: dg.ExecuteInProcessResult):
    (evaluation,) = [
        e
        for e in result.get_asset_check_evaluations()
        if e.check_name == "table_matches_stored_prices"
    ]
    return evaluation


def test_reconciliation_passes_after_a_load_and_names_the_days_that_drift(
    tmp_path, postgres_url, pg_engine
):
    resources = make_resources(storage_url=str(tmp_path / "objects"), database_url=postgres_url)
    loaded = dg.materialize(ASSETS, resources=resources, partition_key="FB")
    evaluation = _evaluation(loaded)
    assert evaluation.passed
    assert (
        evaluation.metadata["table_rows"].value == evaluation.metadata["stored_rows"].value == 196
    )

    with pg_engine.begin() as connection:
        connection.execute(
            sa.text(
                "UPDATE daily_prices SET close = close + 0.01 "
                "WHERE symbol = 'FB' AND trade_date = '2012-12-03'"
            )
        )
        connection.execute(
            sa.text("DELETE FROM daily_prices WHERE symbol = 'FB' AND trade_date = '2013-01-02'")
        )
    # Dagster cannot run a partitioned check without its asset, so the check's comparison is
    # run directly (on the same stored object and database) to see the drift the table now has.
    stored = (
        resources["history_store"]
        .objects()
        .get(object_key(dg.AssetKey("cleaned_daily_prices"), "FB", get_format("parquet")))
    )
    frame = get_format("parquet").decode(stored.data, as_frame=True)
    found = reconcile(table_rows(pg_engine, "FB"), frame)
    assert not found.matches
    metadata = found.as_metadata()
    assert metadata["table_rows"] == 195
    assert metadata["table_checksum"] != metadata["stored_checksum"]
    assert metadata["first_differing_days"] == "2012-12-03, 2013-01-02"


def test_the_table_is_read_back_for_a_batch_in_one_go_with_symbols_it_lacks_empty(
    tmp_path, postgres_url, pg_engine
):
    resources = make_resources(storage_url=str(tmp_path / "objects"), database_url=postgres_url)
    assert dg.materialize(ASSETS, resources=resources, partition_key="FB").success
    rows = table_rows_by_symbol(pg_engine, ["FB", "ZZZZ"])
    assert len(rows["FB"]) == 196 and rows["FB"]["trade_date"].is_unique
    assert rows["ZZZZ"].empty and list(rows["ZZZZ"].columns) == list(rows["FB"].columns)
    assert rows["FB"].equals(table_rows(pg_engine, "FB"))


def test_reconciliation_sees_an_adjustment_source_that_differs_and_old_histories_as_null(engine):
    history = sourced(clean_sample("FB"))
    load_prices(engine, {"FB": history}, LINEAGE)
    assert table_matches_stored_prices(engine, {"FB": history})["FB"][0].passed
    drifted = history.copy()
    drifted.loc[5, ADJUSTMENT_SOURCE] = "none"  # "corporate actions" in the table
    (result,) = table_matches_stored_prices(engine, {"FB": drifted})["FB"]
    assert not result.passed
    assert result.metadata["first_differing_days"].value == str(history.loc[5, "trade_date"])
    assert result.metadata["table_rows"].value == result.metadata["stored_rows"].value == 196

    old = history.drop(columns=ADJUSTMENT_SOURCE)  # stored before the column existed
    assert not table_matches_stored_prices(engine, {"FB": old})["FB"][0].passed
    load_prices(engine, {"FB": old}, LINEAGE)
    assert table_matches_stored_prices(engine, {"FB": old})["FB"][0].passed
