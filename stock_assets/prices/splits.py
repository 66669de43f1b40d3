"""Probable stock splits in raw (as-traded) daily prices, found from overnight price jumps.

A split on day t divides the price by its ratio overnight: today's open is yesterday's close
divided by the ratio, give or take an ordinary overnight gap. So a day is a probable split when
previous close / open matches a common ratio within `OPEN_TOLERANCE`, and previous close / close
still matches it within the looser `CLOSE_TOLERANCE` (the day's own move stays ordinary).

Tuned on the bundled 2000-2013 sample: the three real splits deviate from 2:1 by at most 0.019
(log of previous close / open: MSFT 2003-02-18 opened 2 % above half its close); the closest
ordinary move, AAPL's 2000-09-29 crash (53.50 -> open 28.19), deviates by 0.052; the open
tolerance sits halfway between. No other day of the five symbols comes within 0.2 of a ratio.
"""

import numpy as np
import pandas as pd

# (shares after : shares before) -> label; reverse splits have ratios below 1.
COMMON_RATIOS = {
    1.5: "3:2",
    2.0: "2:1",
    3.0: "3:1",
    4.0: "4:1",
    5.0: "5:1",
    7.0: "7:1",
    8.0: "8:1",
    10.0: "10:1",
    20.0: "20:1",
    1 / 2: "1:2",
    1 / 3: "1:3",
    1 / 4: "1:4",
    1 / 5: "1:5",
    1 / 8: "1:8",
    1 / 10: "1:10",
    1 / 20: "1:20",
}
OPEN_TOLERANCE = 0.035
CLOSE_TOLERANCE = 0.15
COLUMNS = [
    "symbol",
    "trade_date",
    "ratio",
    "label",
    "close_before",
    "open_after",
    "close_after",
    "open_jump",
    "deviation",
]


def detect_splits(
    frame: pd.DataFrame,
    open_tolerance: float = OPEN_TOLERANCE,
    close_tolerance: float = CLOSE_TOLERANCE,
) -> pd.DataFrame:
    """Probable splits in one symbol's raw daily prices, one row per split day.

    Columns: symbol, trade_date, ratio (e.g. 2.0, or 0.5 for a 1:2 reverse split), label
    ("2:1"), close_before (previous row's close), open_after and close_after (the split day's),
    open_jump (close_before / open_after) and deviation (|log(open_jump / ratio)|).
    Tolerances are on the log scale.
    """
    ordered = frame.sort_values("trade_date", kind="stable")
    close_before = ordered["close"].shift()
    open_jump = close_before / ordered["open"]
    close_jump = close_before / ordered["close"]

    ratios = np.array(list(COMMON_RATIOS))
    distance = np.abs(np.log(open_jump.to_numpy(dtype="float64")[:, None] / ratios[None, :]))
    nearest = np.argmin(np.where(np.isnan(distance), np.inf, distance), axis=1)
    ratio = ratios[nearest]
    labels = np.array(list(COMMON_RATIOS.values()))[nearest]
    deviation = distance[np.arange(len(ratio)), nearest]
    close_deviation = np.abs(np.log(close_jump.to_numpy(dtype="float64") / ratio))
    found = (deviation <= open_tolerance) & (close_deviation <= close_tolerance)

    splits = ordered.assign(
        ratio=ratio,
        label=labels,
        close_before=close_before,
        open_after=ordered["open"],
        close_after=ordered["close"],
        open_jump=open_jump,
        deviation=deviation,
    ).loc[found]
    return splits.reindex(columns=COLUMNS).reset_index(drop=True)


def unexplained(jumps: pd.DataFrame, declared: dict[str, float]) -> list[str]:
    """The jumps (`detect_splits` rows) that no split declared on their day, of their ratio
    within `OPEN_TOLERANCE`, explains, as "2000-06-21 2:1"."""
    return [
        f"{day} {label}"
        for day, ratio, label in zip(jumps["trade_date"].astype(str), jumps["ratio"],
                                     jumps["label"], strict=True)
        if day not in declared or abs(np.log(ratio / declared[day])) > OPEN_TOLERANCE
    ]
