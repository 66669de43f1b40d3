"""The kill campaign's kill points (issue 16, part 3): one whose function is gone, or that is
not <phase>:<n>, stops the process instead of letting it run unkilled. (The short campaign
itself runs in `test_reliability.py`.)"""

import subprocess
import sys

from bench.kill_point.kill_hooks import TARGET_MISSING
from bench.kill_state import KILL_POINT_DIR, STOCK_ASSETS


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
