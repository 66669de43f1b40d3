"""`python -m bench.reliability --short` as the suite runs it: real runs under faults, kills and
hostile input, three tables, nothing not as expected, and the last line scripts read."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_short_reliability_bench_finds_nothing_unexpected():
    result = subprocess.run(
        [sys.executable, "-m", "bench.reliability", "--short"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert sum(line.startswith("## ") for line in lines) == 3  # a table per part
    assert "not as expected:" not in result.stdout
    assert re.fullmatch(
        r"reliability: faults: .+; kills: .+; hostile: .+; 0 not as expected", lines[-1]
    ), lines[-1]
