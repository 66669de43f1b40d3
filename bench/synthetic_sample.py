"""Any number of distinct daily histories made from the bundled sample, for load tests.

`SyntheticSample` is a `SeriesProvider`: give it to `SampleServer` (or `SampleAnswers`) and the
loopback server answers for S0001, S0002, ... as it does for the bundled symbols.
"""

from datetime import date, timedelta
from functools import cache

import numpy as np
import pandas as pd

from stock_assets.alphavantage.api import DAILY, SERIES_KEY
from stock_assets.alphavantage.sample import bundled_series, sample_symbols
from stock_assets.trading_calendar import nyse, sessions_between

_PRICE_FIELDS = ("1. open", "2. high", "3. low", "4. close")
_VOLUME_FIELD = "5. volume"
_GOLDEN = (5**0.5 - 1) / 2


def shift_sessions(days: list[str], last_session: date) -> list[str]:
    """ISO days that are NYSE sessions, moved session for session so the newest is `last_session`:
    gaps (closures, missing days) stay where they were relative to each other."""
    sessions = nyse().sessions
    positions = sessions.get_indexer(pd.DatetimeIndex(days))
    if (positions < 0).any():
        raise ValueError(f"{days[int(np.argmin(positions))]} is not an NYSE session")
    target = sessions.get_indexer(pd.DatetimeIndex([last_session]))[0]
    if target < 0:
        raise ValueError(f"{last_session} is not an NYSE session")
    moved = positions + (target - positions.max())
    if moved.min() < 0:
        raise ValueError(f"the history does not fit before {last_session} in the calendar")
    return list(sessions[moved].strftime("%Y-%m-%d"))


@cache
def _daily_arrays(base: str, last_session: date | None) -> tuple[dict, list[str], np.ndarray]:
    """A bundled daily history: meta data, days newest first, open/high/low/close/volume rows."""
    payload = bundled_series(DAILY, base)
    if payload is None:
        raise ValueError(f"no bundled daily history for {base}")
    series = payload[SERIES_KEY]
    days = list(series)
    values = np.array(
        [[float(row[name]) for name in (*_PRICE_FIELDS, _VOLUME_FIELD)] for row in series.values()]
    )
    if last_session is not None:
        days = shift_sessions(days, last_session)
    return payload["Meta Data"], days, values


class SyntheticSample:
    """Any number of distinct daily histories made from the bundled ones; a `SeriesProvider`.

    Symbol number i (``S0001``, ``S0002``, ...) is the i-th bundled daily history, round robin,
    with all its prices multiplied by a factor of its own (0.5 to 2, different for every symbol)
    and rounded to four decimals like the originals (rounding a scaled value keeps every order
    between a day's prices, so open and close stay between low and high), and each volume
    jittered by up to 10 %. The days are the original NYSE sessions, or with `last_session` the
    same sessions moved forward so that the history ends on that day. Setting `as_of` serves the
    days up to then only, as the API would have answered on an earlier day.
    """

    def __init__(
        self, count: int, *, prefix: str = "S", seed: int = 0, last_session: date | None = None
    ):
        width = max(4, len(str(count)))
        self.symbols = [f"{prefix}{number:0{width}d}" for number in range(1, count + 1)]
        self.seed = seed
        self.last_session = last_session
        self.as_of: date | None = None
        self._number = {symbol: number for number, symbol in enumerate(self.symbols)}
        self._bases = sample_symbols()

    def base(self, symbol: str) -> str:
        """The bundled symbol this one is made from."""
        return self._bases[self._number[symbol] % len(self._bases)]

    def factor(self, symbol: str) -> float:
        """This symbol's price factor: the golden-ratio sequence never repeats a value."""
        return 0.5 + 1.5 * ((self._number[symbol] + 1) * _GOLDEN % 1)

    def __call__(self, function: str, symbol: str) -> dict | None:
        if function != DAILY or symbol not in self._number:
            return None
        meta, days, values = _daily_arrays(self.base(symbol), self.last_session)
        rng = np.random.default_rng([self.seed, self._number[symbol]])
        prices = values[:, :4] * self.factor(symbol)
        volumes = np.rint(values[:, 4] * rng.uniform(0.9, 1.1, len(values))).astype(np.int64)
        cutoff = self.as_of.isoformat() if self.as_of is not None else days[0]
        first = next((i for i, day in enumerate(days) if day <= cutoff), len(days))
        if first == len(days):
            return None
        series = {
            days[i]: {
                **{name: f"{p:.4f}" for name, p in zip(_PRICE_FIELDS, prices[i], strict=True)},
                _VOLUME_FIELD: str(volumes[i]),
            }
            for i in range(first, len(days))
        }
        meta = dict(meta, **{"2. Symbol": symbol, "3. Last Refreshed": days[first]})
        return {"Meta Data": meta, SERIES_KEY: series}


def last_session_before(day: date) -> date:
    """The last NYSE session before `day`."""
    return sessions_between(day - timedelta(days=14), day - timedelta(days=1))[-1].date()
