"""The codebase stays `ruff` clean (the style every contributor is held to)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_check_is_clean():
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run([str(ruff), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_nothing_reads_a_folder_beside_the_clone():
    """A user's clone has nothing beside it: every file the project reads lives in the repo."""
    beside = "shared"  # the folder a developer's machine has beside the clone, a user's not
    pattern = rf"\.\./{beside}|{beside}/data/|parents\[[3-9]\]"
    result = subprocess.run(
        ["git", "grep", "-nIE", pattern,
         "--", "stock_assets", "stock_assets_tests", "bench", "README.md", ".ci", "scripts",
         ":!stock_assets_tests/test_code_style.py"],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 1, result.stdout

