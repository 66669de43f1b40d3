"""The cleaned-prices multi-asset through Dagster, fed by the loopback Alpha Vantage server."""

import base64
import re

import dagster as dg
import pandas as pd
import pytest
import sqlalchemy as sa

from stock_assets.definitions import ASSETS, CHECKS
from stock_assets.ingest.sample_source import POISONED_ROWS, SampleAnswers
from stock_assets_tests.conftest import loopback_resources
from stock_assets_tests.prices.sample import SYMBOLS


def _checks(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def _stored(tmp_path, name: str, ext: str) -> pd.DataFrame:
    path = tmp_path / "objects" / name / f"AAPL.{ext}"
    return pd.read_parquet(path) if ext == "parquet" else pd.read_csv(path, dtype=str)


def test_real_aapl_is_clean_and_its_two_splits_are_flagged(tmp_path, sample_server):
    result = dg.materialize(
        [*ASSETS, *CHECKS],
        resources=loopback_resources(tmp_path, sample_server),
        partition_key="AAPL",
    )
    assert result.success
    meta = result.asset_materializations_for_node("cleaned_daily_prices")
    cleaned = next(m for m in meta if m.asset_key.path == ["cleaned_daily_prices"]).metadata
    assert cleaned["rows"].value == 3270 and cleaned["rows_quarantined"].value == 0
    assert len(_stored(tmp_path, "cleaned_daily_prices", "parquet")) == 3270
    assert _stored(tmp_path, "quarantined_price_rows", "csv").empty

    checks = _checks(result)
    splits = checks["no_undeclared_splits"]
    assert not splits.passed and splits.severity == dg.AssetCheckSeverity.WARN
    assert "2000-06-21" in str(splits.metadata) and "2005-02-28" in str(splits.metadata)
    assert all(c.passed for name, c in checks.items() if name != "no_undeclared_splits")


def test_poisoned_answer_keeps_every_good_row_and_quarantines_exactly_the_bad(
    tmp_path, sample_server
):
    sample_server.fail("AAPL", "poisoned")
    result = dg.materialize(
        [*ASSETS, *CHECKS],
        resources=loopback_resources(tmp_path, sample_server),
        partition_key="AAPL",
    )
    assert result.success

    series = list(SampleAnswers().series("TIME_SERIES_DAILY", "AAPL")["Time Series (Daily)"])
    poisoned_days = {series[i] for i in POISONED_ROWS}
    quarantine = _stored(tmp_path, "quarantined_price_rows", "csv")
    assert set(quarantine["trade_date"]) == poisoned_days
    assert quarantine["reason"].str.len().gt(0).all()
    assert quarantine["reason"].str.contains("high").any()
    assert quarantine["reason"].str.contains("volume").any()
    assert quarantine["reason"].str.contains("not a number").any()

    clean = _stored(tmp_path, "cleaned_daily_prices", "parquet")
    assert len(clean) == 3270 - 3
    assert not set(clean["trade_date"].astype(str)) & poisoned_days

    checks = _checks(result)
    assert checks["quarantine_share"].passed
    assert checks["quarantine_share"].metadata["quarantined_rows"].value == 3
    assert not checks["no_gaps_beyond_holidays"].passed  # the three quarantined days are missing
    table = result.asset_materializations_for_node("daily_prices_table")[0].metadata
    assert table["rows_inserted"].value == 3267
    chart = _cleaned_metadata(result)["price_chart"].md_str
    marked = ", ".join(sorted(poisoned_days))
    assert "AAPL: suspected split 2000-06-21 (2:1); suspected split 2005-02-28 (2:1); " in chart
    assert f"3 quarantined day(s): {marked}" in chart


def test_premium_answer_lands_adjusted_prices_in_the_table(tmp_path, sample_server):
    resources = loopback_resources(tmp_path, sample_server, premium=True)
    result = dg.materialize([*ASSETS, *CHECKS], resources=resources, partition_key="AAPL")
    assert result.success
    assert sample_server.requests[0]["function"] == "TIME_SERIES_DAILY_ADJUSTED"
    checks = _checks(result)
    assert checks["table_matches_stored_prices"].passed
    assert checks["no_undeclared_splits"].passed  # the answer declares its splits

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with engine.connect() as connection:
        first, last = connection.execute(
            sa.text(
                "SELECT adjusted_open, adjusted_close, adjusted_volume, volume FROM daily_prices "
                "WHERE symbol = 'AAPL' AND trade_date IN ('2000-03-01', '2013-03-01') "
                "ORDER BY trade_date"
            )
        ).all()
    assert last[0] == pytest.approx(438.0) and last[1] == pytest.approx(430.47)
    # Two 2:1 splits since 2000: volume scaled up fourfold, prices down at least fourfold.
    assert first[2] == pytest.approx(first[3] * 4)
    assert first[0] < 140 / 4


def _cleaned_metadata(result: dg.ExecuteInProcessResult) -> dict:
    meta = result.asset_materializations_for_node("cleaned_daily_prices")
    return next(m for m in meta if m.asset_key.path == ["cleaned_daily_prices"]).metadata


def _log_lines(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult) -> list[str]:
    return [entry.user_message for entry in instance.all_logs(result.run_id)]


def test_one_symbol_run_shows_its_chart_and_logs_its_progress(tmp_path, sample_server):
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [*ASSETS, *CHECKS],
        resources=loopback_resources(tmp_path, sample_server),
        partition_key="AAPL",
        instance=instance,
    )
    assert result.success
    chart = _cleaned_metadata(result)["price_chart"]
    assert isinstance(chart, dg.MarkdownMetadataValue)
    image = re.fullmatch(
        r"!\[AAPL close\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)\n\nAAPL: (.*)",
        chart.md_str,
        flags=re.DOTALL,
    )
    assert image
    png = base64.b64decode(image[1])
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) <= 40_000
    assert image[2] == "suspected split 2000-06-21 (2:1); suspected split 2005-02-28 (2:1)"

    logged = _log_lines(instance, result)
    assert any(
        re.fullmatch(
            r"AAPL \(1 of 1\): 3270 added, 0 revised, 0 quarantined, 3270 days in history; "
            r"\d+\.\d s elapsed",
            line,
        )
        for line in logged
    ), logged


def test_several_symbols_in_one_run_chart_only_the_first_few(tmp_path, sample_server):
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [*ASSETS, *CHECKS],
        resources=loopback_resources(tmp_path, sample_server),
        tags={
            "dagster/asset_partition_range_start": "AAPL",
            "dagster/asset_partition_range_end": "FB",
        },
        instance=instance,
    )
    assert result.success
    chart = _cleaned_metadata(result)["price_chart"].md_str
    charted = re.findall(r"!\[(\w+) close\]\(data:image/png;base64,", chart)
    assert charted == ["AAPL", "FB", "GOOG"]  # the first by name
    assert chart.endswith("Charted: AAPL, FB, GOOG; 2 more symbol(s) in this run not charted.")
    assert len(chart) <= 3 * 40_000 * 4 / 3

    progress = [
        re.match(r"(\w+) \((\d) of 5\): .* days in history; \d+\.\d s elapsed$", line)
        for line in _log_lines(instance, result)
    ]
    numbered = dict(sorted((found[2], found[1]) for found in progress if found))
    assert list(numbered) == ["1", "2", "3", "4", "5"]
    assert sorted(numbered.values()) == sorted(SYMBOLS)
