"""Synthetic histories: distinct rescaled copies of the bundled ones, movable to recent sessions,
that clean without quarantine."""

import json
from datetime import UTC, date, datetime

import pytest

from bench.synthetic_sample import SyntheticSample, last_session_before
from stock_assets.alphavantage.api import DAILY
from stock_assets.alphavantage.sample import SampleAnswers, bundled_series
from stock_assets.prices.validate import clean_answer
from stock_assets.trading_calendar import sessions_between

SERIES = "Time Series (Daily)"


def _rows(payload: dict) -> dict[str, tuple[float, ...]]:
    return {d: tuple(float(v) for v in row.values()) for d, row in payload[SERIES].items()}


def test_synthetic_histories_are_distinct_rescaled_copies_of_the_bundled_ones():
    sample = SyntheticSample(12)
    assert sample.symbols[:2] == ["S0001", "S0002"] and len(set(sample.symbols)) == 12
    payloads = {s: sample(DAILY, s) for s in sample.symbols}
    assert len({json.dumps(p[SERIES], sort_keys=True) for p in payloads.values()}) == 12
    for symbol, payload in payloads.items():
        base = bundled_series(DAILY, sample.base(symbol))
        assert list(payload[SERIES]) == list(base[SERIES])  # the same trading days
        factor = sample.factor(symbol)
        assert 0.5 <= factor <= 2
        for (day, row), original in zip(_rows(payload).items(), _rows(base).values(), strict=True):
            open_, high, low, close, volume = row
            assert high >= max(open_, close, low) and low <= min(open_, close), (symbol, day)
            assert row[:4] == pytest.approx([v * factor for v in original[:4]], abs=6e-5)
            assert original[4] * 0.9 - 1 <= volume <= original[4] * 1.1 + 1
        first = next(iter(payload[SERIES].values()))
        assert all(len(v.split(".")[1]) == 4 for v in list(first.values())[:4])
        assert str(int(first["5. volume"])) == first["5. volume"]
    assert sample(DAILY, "S0013") is None and sample("TIME_SERIES_DAILY_ADJUSTED", "S0001") is None
    assert SyntheticSample(12)(DAILY, "S0007") == payloads["S0007"]  # reproducible


def test_synthetic_histories_move_to_a_recent_session_and_can_be_served_as_of_a_day():
    last = last_session_before(datetime.now(UTC).date())
    assert last < datetime.now(UTC).date()
    sample = SyntheticSample(2, last_session=last)
    payload = sample("TIME_SERIES_DAILY", "S0001")
    days = [date.fromisoformat(d) for d in payload[SERIES]]
    assert days[0] == last and payload["Meta Data"]["3. Last Refreshed"] == last.isoformat()
    assert sorted(days) == list(sessions_between(days[-1], days[0]).date)
    base = bundled_series(DAILY, sample.base("S0001"))
    assert len(days) == len(base[SERIES])
    before = sessions_between(date(last.year - 1, 1, 1), last)[-2].date()
    sample.as_of = before
    earlier = sample(DAILY, "S0001")
    assert earlier["Meta Data"]["3. Last Refreshed"] == before.isoformat()
    assert list(earlier[SERIES].items()) == list(payload[SERIES].items())[1:]
    with pytest.raises(ValueError, match="not an NYSE session"):
        SyntheticSample(1, last_session=date(2024, 12, 25))(DAILY, "S0001")


def test_synthetic_answers_clean_without_quarantine_through_the_client(sample_server, make_client):
    sample = SyntheticSample(5, last_session=last_session_before(datetime.now(UTC).date()))
    sample_server.answers = SampleAnswers(provider=sample)
    client = make_client()
    for symbol in sample.symbols:
        cleaned = clean_answer(client.fetch_daily(symbol, outputsize="full"))
        assert cleaned.quarantine.empty, symbol
        assert len(cleaned.clean) == len(bundled_series(DAILY, sample.base(symbol))[SERIES])
    compact = client.fetch_daily("S0001", outputsize="compact")
    assert len(json.loads(compact.body)[SERIES]) == 100
    assert [a.outputsize for a in sample_server.arrivals()] == ["full"] * 5 + ["compact"]
