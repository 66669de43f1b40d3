"""`python -m bench.reliability --short` as the suite runs it: a real run under an Alpha Vantage
drip through the fault proxy, a SIGKILL at a seeded point on each backend, and a few hostile
cases of every level; each part's table read back row by row, and the last line scripts read."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def printed_tables(stdout: str) -> dict[str, list[dict[str, str]]]:
    """Each Markdown table the bench printed, by its title: one dict per row, by column."""
    tables: dict[str, list[dict[str, str]]] = {}
    title, columns = "", None
    for line in stdout.splitlines():
        if line.startswith("## "):
            title, columns = line[3:], None
            tables[title] = []
        elif line.startswith("| ") and title:
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if columns is None:
                columns = cells
            else:
                tables[title].append(dict(zip(columns, cells, strict=True)))
    return tables


@pytest.mark.slow
def test_the_short_reliability_bench_finds_nothing_unexpected():
    result = subprocess.run(
        [sys.executable, "-m", "bench.reliability", "--short"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    tables = printed_tables(result.stdout)
    faults, kills, hostile = (
        next(rows for title, rows in tables.items() if title.startswith(name))
        for name in ("Faults", "Kill campaign", "Hostile input")
    )

    [drip] = faults
    assert (drip["fault"], drip["exit"], drip["injected"]) == (
        "Alpha Vantage drip (body)", "0", "1 drip"
    )
    assert "timed out after 3 s (deadline): the answer was still arriving" in (
        drip["faulted symbol's line"]
    )
    assert drip["duplicate rows"] == "0" and drip["clean re-run"] == "ok, converged"

    assert {trial["backend"] for trial in kills} == {"local+sqlite", "s3+postgres"}
    for trial in kills:
        assert (trial["torn"], trial["half-loaded"], trial["converged"]) == ("0", "0", "yes")
        assert trial["debris → left after cleanup"].endswith("→ 0")

    assert {case["level"] for case in hostile} == {"wire", "envelope", "value", "symbol"}
    assert all(case["as expected?"] == "yes" for case in hostile), hostile

    assert re.fullmatch(
        r"reliability: faults: 1 faults, all as expected; kills: 2 kills in 2 trials, 0 torn, "
        r"0 half-loaded, 0 orphans, 2 converged.*; hostile: \d+ cases, all as expected.*; "
        r"0 not as expected",
        result.stdout.strip().splitlines()[-1],
    )
