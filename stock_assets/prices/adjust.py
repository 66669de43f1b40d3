"""Split- and dividend-adjusted prices, from an answer's own adjusted close and corporate actions.

Where the answer carries an adjusted close, open, high and low are adjusted by that day's own
ratio `adjusted_close / close`, so every adjusted column agrees with the source (Alpha Vantage's
factor steps differ from the textbook one on special dividends). Elsewhere the standard backward
factor applies: `F[last] = 1`, `F[t-1] = F[t] * (1 - div[t] / close[t-1]) / split[t]`, adjusted
price = price * F; it is also what `adjusted_close_mismatches` compares the source against.
Volume is adjusted for splits only, inversely (a 2:1 split doubles the volume of every earlier
day): a dividend changes prices, not how many shares traded. Adjusted values depend on the whole
frame: compute them on the merged history, never merge adjusted values from different answers.

A free key's answer carries no splits or dividends: the symbol's corporate actions (the SPLITS and
DIVIDENDS events, `stock_assets.actions`) fill `split_coefficient` and `dividend_amount` on their
days, and the backward factor gives `adjusted_close`. Each row says where its adjustment came
from (`adjustment_source`); a history is stripped back to what was received (`as_received`)
before an answer is merged into it, and adjusted again after.
"""

import numpy as np
import pandas as pd

from stock_assets.prices import schema

ACTIONS = ["dividend_amount", "split_coefficient"]
RECEIVED = ["adjusted_close", *ACTIONS]
SOURCE = schema.ADJUSTMENT_SOURCE
FROM_PREMIUM, FROM_ACTIONS, FROM_NOTHING = schema.ADJUSTMENT_SOURCES
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
    """The frame plus adjusted_open/high/low and adjusted_volume (float); returned unchanged when
    it lacks the dividend_amount and split_coefficient fields.

    The answer's own adjusted_close is kept as received and sets the price ratio of its day.
    A day without one gets the recomputed factor, which is NaN (unknown, not guessed) before a
    day with a missing action field.
    """
    if not set(ACTIONS) <= set(frame.columns):
        return frame
    factors = adjustment_factors(frame)
    price = factors["price"]
    if "adjusted_close" in frame.columns:
        received = frame["adjusted_close"] / frame["close"].where(frame["close"] != 0)
        price = received.where(received.notna(), price)
    return frame.assign(
        adjusted_open=frame["open"] * price,
        adjusted_high=frame["high"] * price,
        adjusted_low=frame["low"] * price,
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


def known_actions(record: dict | None) -> dict | None:
    """A stored corporate-actions record's events, or None when they were never fetched: unknown,
    which is not the same as none."""
    return record if record and record.get("fetched_at") else None


def as_received(history: pd.DataFrame) -> pd.DataFrame:
    """The history with only what its answers carried: computed columns dropped, and the
    adjustments filled from corporate actions emptied (or dropped, when no row was received)."""
    frame = history.drop(columns=schema.COMPUTED_ADJUSTMENTS, errors="ignore")
    if SOURCE not in frame.columns:
        return frame
    derived = (frame[SOURCE] != FROM_PREMIUM).to_numpy()
    frame = frame.drop(columns=SOURCE)
    present = [c for c in RECEIVED if c in frame.columns]
    if derived.all():
        return frame.drop(columns=present)
    frame.loc[derived, present] = np.nan
    return frame


def _on_sessions(days: np.ndarray, events: list[dict], when: str, what: str,
                 combine: np.ufunc, empty: float) -> np.ndarray:
    """Each event's value on the first session on or after its day (a split effective on a
    holiday acts at the next open); events after the last session are not due yet."""
    values = np.full(len(days), empty)
    for event in events:
        at = np.searchsorted(days, np.datetime64(event[when], "D"))
        if at < len(days) and (at > 0 or days[0] == np.datetime64(event[when], "D")):
            values[at] = combine(values[at], event[what])
    return values


def fill_from_actions(history: pd.DataFrame, actions: dict | None) -> pd.DataFrame:
    """Every row's splits, dividends and adjusted close: as received where the answer carried
    them, else from `actions` (a symbol's parsed events: "splits" and "dividends"); each row's
    `adjustment_source` says which (or "none", when `actions` is None and nothing was received).
    Adjusted open, high, low and volume follow from them (`adjust_for_corporate_actions`)."""
    received = (history["adjusted_close"].notna() if "adjusted_close" in history.columns
                else pd.Series(False, index=history.index)).to_numpy()
    frame = history
    if actions is not None and not received.all():
        days = schema.day_numbers(history)
        split = _on_sessions(days, actions["splits"], "effective_date", "split_factor",
                             np.multiply, 1.0)
        dividend = _on_sessions(days, actions["dividends"], "ex_dividend_date", "amount",
                                np.add, 0.0)
        frame = history.reindex(columns=[*history.columns,
                                         *(c for c in RECEIVED if c not in history.columns)])
        frame["split_coefficient"] = np.where(received, frame["split_coefficient"], split)
        frame["dividend_amount"] = np.where(received, frame["dividend_amount"], dividend)
        computed = frame["close"] * adjustment_factors(frame)["price"]
        frame["adjusted_close"] = np.where(received, frame["adjusted_close"], computed)
    source = np.where(received, FROM_PREMIUM, FROM_NOTHING if actions is None else FROM_ACTIONS)
    return adjust_for_corporate_actions(frame).assign(**{SOURCE: source})
