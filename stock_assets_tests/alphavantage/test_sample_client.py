"""The offline client: the live client's requests answered from the bundled sample in-process."""

import pytest
import requests

from stock_assets.alphavantage.api import DAILY
from stock_assets.alphavantage.errors import NotInSample
from stock_assets.alphavantage.sample_client import (
    OFFLINE_URL,
    AlphaVantageSampleClient,
    SampleAdapter,
)


def daily_params(symbol: str, **extra: str) -> dict[str, str]:
    return {"function": DAILY, "symbol": symbol, **extra}


def test_adapter_answers_a_plain_requests_session(reference_sample):
    session = requests.Session()
    session.mount(OFFLINE_URL, SampleAdapter())
    response = session.get(
        OFFLINE_URL, params=daily_params("AAPL", outputsize="full", datatype="csv"), timeout=1
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/x-download"
    assert response.content == (reference_sample / "csv" / "daily_AAPL.csv").read_bytes()
    assert response.url.startswith(OFFLINE_URL)


def test_offline_client_serves_the_sample_without_a_key(reference_sample):
    answer = AlphaVantageSampleClient().fetch_daily("AAPL", outputsize="compact")
    assert answer.source == "offline-sample"
    compact = reference_sample / "TIME_SERIES_DAILY" / "AAPL.compact.json"
    assert answer.body == compact.read_bytes()
    assert answer.url == (
        f"{OFFLINE_URL}?function=TIME_SERIES_DAILY&symbol=AAPL&outputsize=compact&datatype=json"
    )


@pytest.mark.parametrize(
    ("symbol", "adjusted", "holds"),
    [
        ("NVDA", False, "holds AAPL, FB, GOOG, IBM, MSFT;"),
        ("IBM", True, "holds TIME_SERIES_DAILY_ADJUSTED for AAPL, MSFT only;"),
    ],
)
def test_offline_client_names_a_symbol_the_sample_lacks(symbol, adjusted, holds):
    """Offline, Alpha Vantage is never asked, so its "Invalid API call" would mislead."""
    with pytest.raises(NotInSample) as raised:
        AlphaVantageSampleClient().fetch_daily(symbol, adjusted=adjusted)
    message = str(raised.value)
    assert message.startswith(f"{symbol} is not in the offline sample, which {holds}")
    assert f"set ALPHAVANTAGE_API_KEY to fetch {symbol} for real" in message
    assert "Please retry" not in message and not raised.value.retryable
