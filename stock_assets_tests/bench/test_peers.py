"""`python -m bench.peers` runs every contender for real and ends on the line scripts read."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RATIO = r"\d+\.\d+x"
LAST_LINE = re.compile(
    rf"peers: first {RATIO} dlt-arrow, {RATIO} hand; refresh {RATIO} dlt-arrow, {RATIO} own-first"
)
CONTENDERS = ["stock_assets", "hand", "dlt-dicts", "dlt-arrow"]


def row_counts(output: str, phase: str) -> dict[str, int]:
    line = next(line for line in output.splitlines() if line.startswith(f"rows {phase}: "))
    return {name: int(count) for name, count in
            (item.split("=") for item in line.removeprefix(f"rows {phase}: ").split())}


@pytest.mark.slow
def test_every_contender_loads_what_was_served_and_the_last_line_is_readable():
    result = subprocess.run(
        [sys.executable, "-m", "bench.peers", "--symbols", "3"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert LAST_LINE.fullmatch(lines[-1]), lines[-1]
    first, refresh = row_counts(result.stdout, "first"), row_counts(result.stdout, "refresh")
    assert list(first) == [*CONTENDERS, "served"]
    assert len(set(first.values())) == 1, first
    assert len(set(refresh.values())) == 1, refresh
    assert refresh["served"] == first["served"] + 3  # exactly one new day a symbol
    assert sum(line.startswith("|") for line in lines) == 2 + len(CONTENDERS)  # the table
    assert re.fullmatch(rf"storage floor: \d+\.\d+ s for the refresh's 4 object-store calls per "
                        rf"symbol alone \(bench.storage_floor\), {RATIO} dlt-arrow's whole refresh",
                        lines[-2]), lines[-2]
