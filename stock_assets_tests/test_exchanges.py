"""Each symbol's exchange, read from its Alpha Vantage suffix, and a symbol of another exchange
through a whole Dagster run."""

import json
import subprocess
import sys

import pytest

from stock_assets.exchanges import NYSE, SUFFIXES, UnknownExchangeSuffix, exchange_of
from stock_assets.trading_calendar import calendar
from stock_assets_tests import real_answers, symbol_run
from stock_assets_tests.environments import nothing_set


@pytest.mark.parametrize(
    ("symbol", "code"),
    [
        ("AAPL", "XNYS"), ("BRK.B", "XNYS"), ("RDS-A", "XNYS"), ("BF.AB", "XNYS"),
        ("TSCO.LON", "XLON"), ("SHOP.TRT", "XTSE"), ("GPV.TRV", "XTSX"), ("MBG.DEX", "XETR"),
        ("TCS.BSE", "XBOM"), ("600104.SHH", "XSHG"), ("000002.SHZ", "XSHG"), ("BT-A.LON", "XLON"),
        ("LON", "XNYS"),
    ],
)
def test_the_suffix_names_the_exchange_and_share_classes_stay_on_the_nyse(symbol, code):
    assert exchange_of(symbol).calendar == code


@pytest.mark.parametrize("exchange", [NYSE, *SUFFIXES.values()], ids=lambda e: e.calendar)
def test_every_exchange_has_a_calendar_that_loads(exchange):
    assert len(calendar(exchange).sessions) > 5000


@pytest.mark.parametrize("symbol", ["SHOP.TSX", "ABC.XYZ", "X.1234"])
def test_a_longer_unknown_suffix_is_refused(symbol):
    with pytest.raises(UnknownExchangeSuffix, match=rf"^ticker symbol '{symbol}': unknown"):
        exchange_of(symbol)


@pytest.mark.slow
def test_gpv_trv_loads_juneteenth_into_the_table_through_a_dagster_run(tmp_path, backend):
    """Issue 12 item 12: GPV.TRV's 2023-06-19 (Juneteenth: NYSE closed, TSX Venture open) was
    quarantined, the blocking check failed and the table got no rows. Now every row lands,
    nothing is quarantined (as the manifest expects) and every check passes."""
    [entry] = [e for e in real_answers.DATA if e["symbol"] == "GPV.TRV"]
    env = nothing_set()
    run = subprocess.run(
        [sys.executable, symbol_run.__file__, str(tmp_path), "GPV.TRV",
         str(real_answers.FOLDER / f"{entry['file']}.gz"),
         *(f"--{name.replace('_', '-')}={value}" for name, value in backend.items())],
        env={**env, "STOCK_ASSETS_SYMBOLS": "AAPL,GPV.TRV"},
        capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    outcome = json.loads(run.stdout.splitlines()[-1])
    assert outcome["success"]
    assert outcome["table_days"] == ["2023-06-19", "2023-06-20"]
    assert outcome["quarantined_days"] == sorted(entry["expect_quarantine"]) == []
    assert outcome["checks"] == dict.fromkeys(outcome["checks"], True)
    assert "quarantine_share" in outcome["checks"]
