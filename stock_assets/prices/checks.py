"""The checks on cleaned daily prices, each declared once: its name, what it promises, how bad a
failure is, and how it is judged from one symbol's evidence. The asset's check specs and each
symbol's results are both made from this list."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import dagster as dg
import pandas as pd

from stock_assets.asset_keys import CLEANED_KEY
from stock_assets.prices import quality
from stock_assets.prices.quality import CheckResult

QUARANTINE_THRESHOLD = 0.05


@dataclass(frozen=True)
class Evidence:
    """What one symbol's checks look at: the updated history, the stored one's size before (None:
    there was none), and the latest answer's clean and quarantined rows and 'Last Refreshed'."""

    history: pd.DataFrame
    previous_rows: int | None
    clean_rows: int
    quarantined_rows: int
    last_refreshed: date | None


@dataclass(frozen=True)
class PriceCheck:
    name: str
    description: str
    judge: Callable[[Evidence], CheckResult]
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR
    blocking: bool = False

    def spec(self, partitions_def: dg.PartitionsDefinition) -> dg.AssetCheckSpec:
        return dg.AssetCheckSpec(
            self.name, asset=CLEANED_KEY, description=self.description,
            partitions_def=partitions_def, blocking=self.blocking,
        )

    def result(self, evidence: Evidence) -> dg.AssetCheckResult:
        passed, metadata = self.judge(evidence)
        return dg.AssetCheckResult(
            check_name=self.name, asset_key=CLEANED_KEY, passed=passed, metadata=metadata,
            severity=self.severity,
        )


QUARANTINE_SHARE = PriceCheck(
    "quarantine_share",
    f"Under {QUARANTINE_THRESHOLD:.0%} of the answer's rows quarantined; blocks the symbol "
    "(in a batch, it alone is held back).",
    lambda e: quality.check_quarantine_share(
        e.clean_rows, e.quarantined_rows, QUARANTINE_THRESHOLD
    ),
    blocking=True,
)

CHECKS = [
    PriceCheck(
        "ohlc_consistent", "Each day's high is its highest price, low lowest.",
        lambda e: quality.check_ohlc_consistency(e.history),
    ),
    PriceCheck(
        "unique_trading_dates", "One row per trading day.",
        lambda e: quality.check_unique_dates(e.history),
    ),
    PriceCheck(
        "no_gaps_beyond_holidays", "No session of the symbol's exchange missing in its history.",
        lambda e: quality.check_no_gaps(e.history),
    ),
    QUARANTINE_SHARE,
    PriceCheck(
        "history_never_shrinks", "The history holds at least as many days as before this run.",
        lambda e: quality.check_history_not_shrunk(e.previous_rows, len(e.history)),
    ),
    PriceCheck(
        "fresh_against_last_refreshed", "The last trading day is the answer's 'Last Refreshed'.",
        lambda e: quality.check_freshness(e.history, e.last_refreshed),
    ),
    PriceCheck(
        "no_undeclared_splits",
        "Warns where declared splits (the premium answer's or the SPLITS corporate actions) and "
        "price jumps of a split ratio (2:1, 3:2, 1:10, ...) disagree, either way: a jump with no "
        "declared split, or a declared split with no jump. With no declared splits known, warns "
        "of every such jump.",
        lambda e: quality.check_splits(e.history),
        severity=dg.AssetCheckSeverity.WARN,
    ),
    PriceCheck(
        "adjusted_close_matches_actions",
        "Warns where the answer's adjusted close differs from what its own splits and dividends "
        "give (the adjusted columns follow the answer); reports the largest deviation and day.",
        lambda e: quality.check_adjusted_close(e.history),
        severity=dg.AssetCheckSeverity.WARN,
    ),
]
CHECK_NAMES = [check.name for check in CHECKS]
