"""The kill campaign (issue 16, part 3), short: a run SIGKILLed inside a seeded phase on each
backend leaves nothing torn, half-loaded or behind, and its re-run ends as a clean run does; and
a kill point whose function is gone stops the process instead of letting it run unkilled."""

import subprocess
import sys

import pytest

from bench.kill_campaign import run
from bench.kill_point.kill_hooks import TARGET_MISSING
from bench.kill_state import KILL_POINT_DIR, STOCK_ASSETS


@pytest.mark.slow
def test_the_short_campaign_kills_on_each_backend_and_finds_nothing_wrong(tmp_path):
    table = run(short=True, seed=16, work=tmp_path)

    assert table.surprises == []
    assert table.summary.startswith("2 kills in 2 trials, 0 torn, 0 half-loaded, 0 orphans, "
                                    "2 converged"), table.render()
    assert {row[1] for row in table.rows} == {"local+sqlite", "s3+postgres"}


def test_a_kill_point_whose_function_is_gone_stops_the_process():
    code = ("import kill_hooks; "
            "kill_hooks._wrap('stock_assets.storage.local', 'gone', kill_hooks._archiving)")
    result = subprocess.run([sys.executable, "-c", code], cwd=KILL_POINT_DIR,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == TARGET_MISSING
    assert "stock_assets.storage.local.gone is not there" in result.stderr


def test_an_unknown_kill_point_stops_the_command_before_it_runs(tmp_path):
    env = {"PATH": "", "PYTHONPATH": KILL_POINT_DIR, "STOCK_ASSETS_KILL_AT": "fetch"}
    result = subprocess.run([STOCK_ASSETS, "materialize"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == TARGET_MISSING
    assert "is not <phase>:<n>" in result.stderr
