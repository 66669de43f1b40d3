"""Values that read as numbers and dates but cannot be true, through a real run: a volume that no
64-bit integer holds, a high of 1e308, days before the exchange calendar's range (1900, and 1500,
before pandas' nanosecond range). Each row is quarantined with its reason; every other row is
stored as received, no value changed by a cast."""

import copy

import dagster as dg
import pandas as pd
import sqlalchemy as sa

from stock_assets.alphavantage.api import DAILY, SERIES_KEY
from stock_assets.alphavantage.sample import SampleAnswers, bundled_series
from stock_assets.alphavantage.sample_server import SampleServer
from stock_assets.definitions import ASSETS
from stock_assets_tests.helpers import loopback_resources

ROW = {"1. open": "10", "2. high": "11", "3. low": "9", "4. close": "10", "5. volume": "100"}


def _hostile_aapl() -> tuple[dict, dict[str, str]]:
    """AAPL's answer with four implausible rows, and the reason each must be quarantined for."""
    payload = copy.deepcopy(bundled_series(DAILY, "AAPL"))
    series = payload[SERIES_KEY]
    days = list(series)
    series[days[10]]["5. volume"] = "1e20"
    series[days[20]]["2. high"] = "1e308"
    series["1900-01-01"] = dict(ROW)
    series["1500-01-04"] = dict(ROW)
    return payload, {
        days[10]: "volume 1e20 does not fit a 64-bit integer",
        days[20]: "high 1e308 is above the plausible",
        "1900-01-01": "1900-01-01 is before the first day",
        "1500-01-04": "1500-01-04 is before the first day",
    }


def test_implausible_values_are_quarantined_with_their_reasons(tmp_path):
    payload, reasons = _hostile_aapl()
    with SampleServer(SampleAnswers(extra={(DAILY, "AAPL"): payload})) as server:
        result = dg.materialize(
            ASSETS, resources=loopback_resources(tmp_path, server), partition_key="AAPL"
        )
    assert result.success

    objects = tmp_path / "objects"
    quarantine = pd.read_csv(objects / "quarantined_price_rows" / "AAPL.csv", dtype=str)
    found = dict(zip(quarantine["trade_date"], quarantine["reason"], strict=True))
    assert sorted(found) == sorted(reasons)
    for day, reason in reasons.items():
        assert reason in found[day], (day, found[day])

    clean = pd.read_parquet(objects / "cleaned_daily_prices" / "AAPL.parquet")
    assert len(clean) == 3270 - 2
    assert clean["volume"].min() >= 0 and clean["high"].max() < 1e4
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with engine.connect() as connection:
        low, high, first = connection.execute(
            sa.text("SELECT min(volume), max(high), min(trade_date) FROM daily_prices")
        ).one()
    engine.dispose()
    assert low >= 0 and high < 1e4 and str(first) >= "1999"
