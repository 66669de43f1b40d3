"""Split- and dividend-adjusted prices, computed from an answer's own corporate-action fields.

The standard backward factor: `F[last] = 1`, `F[t-1] = F[t] * (1 - div[t] / close[t-1]) / split[t]`,
adjusted price = price * F. Volume is adjusted for splits only, inversely (a 2:1 split doubles
the volume of every earlier day). Adjusted values depend on the whole frame: compute them on the
merged history, never merge adjusted values computed from different answers.
"""

import numpy as np
import pandas as pd

ACTIONS = ["dividend_amount", "split_coefficient"]
MISMATCH_COLUMNS = [
    "symbol",
    "trade_date",
    "close",
    "adjusted_close",
    "computed_adjusted_close",
    "relative_error",
]


def _backward_product(steps: np.ndarray) -> np.ndarray:
    """For each day t, the product of `steps` over all later days (1 for the last day).

    A missing step (NaN) makes every earlier day's product NaN: unknown, not guessed.
    """
    later = np.append(steps[1:], 1.0)
    return np.cumprod(later[::-1])[::-1]


def adjustment_factors(frame: pd.DataFrame) -> pd.DataFrame:
    """Per row of `frame` (aligned on its index): the price factor F and the split-only factor.

    Rows are taken in trade-date order, each day's previous close being the previous row's.
    """
    ordered = frame.sort_values("trade_date", kind="stable")
    close = ordered["close"].to_numpy(dtype="float64")
    dividend = ordered["dividend_amount"].to_numpy(dtype="float64")
    split = ordered["split_coefficient"].to_numpy(dtype="float64")
    previous_close = np.append(np.nan, close[:-1])
    factors = pd.DataFrame(
        {
            "price": _backward_product((1 - dividend / previous_close) / split),
            "split": _backward_product(1 / split),
        },
        index=ordered.index,
    )
    return factors.reindex(frame.index)


def adjust_for_corporate_actions(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame plus adjusted_open/high/low and adjusted_volume (float), recomputed from its
    dividend_amount and split_coefficient; returned unchanged when it lacks those fields.

    The answer's own adjusted_close is kept as received (see `adjusted_close_mismatches`).
    Rows before a day with a missing action field get NaN adjusted values.
    """
    if not set(ACTIONS) <= set(frame.columns):
        return frame
    factors = adjustment_factors(frame)
    return frame.assign(
        adjusted_open=frame["open"] * factors["price"],
        adjusted_high=frame["high"] * factors["price"],
        adjusted_low=frame["low"] * factors["price"],
        adjusted_volume=frame["volume"] / factors["split"],
    )


def adjusted_close_mismatches(frame: pd.DataFrame, rtol: float = 1e-6) -> pd.DataFrame:
    """Rows whose received adjusted_close differs from close * F by more than `rtol` (relative),
    or cannot be recomputed. Empty when the frame lacks adjusted_close or the action fields.
    """
    if not {"adjusted_close", *ACTIONS} <= set(frame.columns):
        return pd.DataFrame(columns=MISMATCH_COLUMNS)
    computed = frame["close"] * adjustment_factors(frame)["price"]
    relative_error = (computed - frame["adjusted_close"]).abs() / frame["adjusted_close"].abs()
    report = frame.assign(computed_adjusted_close=computed, relative_error=relative_error)
    report = report.reindex(columns=MISMATCH_COLUMNS)
    return report.loc[~(relative_error <= rtol)].reset_index(drop=True)
