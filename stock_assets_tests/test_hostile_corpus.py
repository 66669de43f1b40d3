"""The hostile-input corpus (issue 16, part 4) through real runs: every case, wire to symbol,
has its stated outcome (rejected with its message and the victim's stored data unchanged,
quarantined with its reason, or accepted), the control symbols are stored, and the API key is
nowhere: not on screen, not in an object, not in Dagster's run storage."""

import pytest

from stock_assets_tests.hostile.cases import corpus, symbol_corpus
from stock_assets_tests.hostile.runner import run_corpus, scratch


@pytest.mark.slow
def test_every_hostile_case_has_its_stated_outcome(tmp_path):
    cases, symbol_cases = corpus(), symbol_corpus()
    assert len(cases) + len(symbol_cases) >= 80
    assert {c.level for c in cases} | {"symbol"} == {"wire", "envelope", "value", "symbol"}

    with scratch(tmp_path) as work:
        run = run_corpus(cases, symbol_cases, work)

    assert len(run.findings) == len(cases) + len(symbol_cases)
    assert run.surprises == [], (
        f"{len(run.surprises)} not as expected:\n" + "\n".join(run.surprises)
    )
