"""`python -m bench.synthetic_server` serves synthetic symbols beside the bundled sample."""

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from bench.synthetic_sample import last_session_before
from stock_assets.alphavantage.api import DAILY

ROOT = Path(__file__).resolve().parents[2]
SERIES = "Time Series (Daily)"


@pytest.mark.slow
def test_command_line_server_serves_recent_synthetic_symbols():
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.synthetic_server", "--port", "0",
         "--synthetic", "3", "--recent"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = process.stdout.readline().split(" on ", 1)[1].split(" ", 1)[0]
        query = {"function": DAILY, "outputsize": "compact"}
        answer = requests.get(url, params={**query, "symbol": "S0003"}, timeout=10).json()
        last = last_session_before(datetime.now(UTC).date()).isoformat()
        assert answer["Meta Data"]["3. Last Refreshed"] == last
        assert next(iter(answer[SERIES])) == last
        assert requests.get(url, params={**query, "symbol": "FB"}, timeout=10).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
