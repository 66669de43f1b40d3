"""The fault campaign's short mode: real materializations under an Alpha Vantage drip, S3
resets and a PostgreSQL backend terminated mid-load, each as expected, nothing torn."""

import pytest

from bench.fault_campaign import COLUMNS, run


@pytest.mark.slow
def test_the_short_campaign_finds_every_fault_handled_as_expected(tmp_path):
    table = run(short=True, seed=1, work=tmp_path)
    assert table.surprises == [], table.render()
    rows = {row[0]: dict(zip(COLUMNS, row, strict=True)) for row in table.rows}
    assert set(rows) == {
        "Alpha Vantage drip (body)", "S3 reset", "PostgreSQL backend terminated mid-load"
    }
    drip, reset, kill = rows.values()
    assert (drip["exit"], drip["injected"]) == (0, "1 drip")
    assert "timed out after 3 s (deadline)" in drip["faulted symbol's line"]
    assert (reset["exit"], reset["injected"]) == (0, "2 reset")
    assert kill["exit"] == 1
    assert "COPY daily_prices" in kill["injected"]
    assert "absent" in kill["table = stored history"]  # rolled back, not torn
    for row in rows.values():
        assert row["duplicate rows"] == 0
        assert row["clean re-run"] == "ok, converged"
        assert row["as expected"] == "yes"
    assert table.summary == "3 faults, all as expected"
