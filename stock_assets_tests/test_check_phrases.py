"""A check that warned or failed, phrased with its key figure as the main command prints it."""

import dagster as dg

from stock_assets.check_phrases import describe_checks


def _evaluation(name: str, passed: bool, metadata: dict, **kwargs) -> dg.AssetCheckEvaluation:
    return dg.AssetCheckEvaluation(
        asset_key=dg.AssetKey("cleaned_daily_prices"), check_name=name, passed=passed,
        metadata=metadata, **kwargs,
    )


def test_checks_that_warned_or_failed_are_phrased_with_their_key_figure():
    warn = dg.AssetCheckSeverity.WARN
    evaluations = [
        _evaluation("ohlc_consistent", True, {"inconsistent_rows": 0}),
        _evaluation(
            "no_undeclared_splits", False,
            {"probable_splits": 1, "undeclared_splits": ["2003-02-18 2:1"]},
            severity=warn, partition="MSFT",
        ),
        _evaluation(
            "quarantine_share", False,
            {"clean_rows": 90, "quarantined_rows": 10, "quarantine_share": 0.1,
             "threshold": 0.05},
            blocking=True,
        ),
        _evaluation("no_gaps_beyond_holidays", False, {"missing_sessions": 1,
                                                        "first_missing_days": ["2001-09-10"]}),
        _evaluation("a_future_check", False, {"something": 3, "details": {"x": 1}}),
    ]
    assert describe_checks(evaluations) == [
        "warning no_undeclared_splits: 1 suspected split (2003-02-18 2:1)",
        "FAILED quarantine_share (blocking): 10.0% of the answer's rows quarantined "
        "(10 of 100, limit 5%)",
        "FAILED no_gaps_beyond_holidays: 1 missing session (2001-09-10)",
        "FAILED a_future_check: something 3",
    ]
