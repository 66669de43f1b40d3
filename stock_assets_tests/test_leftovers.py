"""The leftovers check fails a run whose tests leave files behind, and passes a run that cleans up,
with and without xdist."""

import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

TESTS = """
import shutil
import tempfile


def test_cleans_up():
    folder = tempfile.mkdtemp(prefix="cleaned-")
    shutil.rmtree(folder)


def test_uses_tmp_path(tmp_path):
    (tmp_path / "kept-by-pytest-only-on-failure").write_text("x")
"""

LEAKY_TEST = """

def test_leaves_a_folder():
    tempfile.mkdtemp(prefix="left-behind-")
"""


@pytest.fixture
def inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    """Runs pytest in a subprocess on a throwaway project with this suite's plugin and retention
    settings, its temporary folders under pytester's."""
    pytester.makeini("[pytest]\ntmp_path_retention_policy = failed\ntmp_path_retention_count = 1\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    system_temp = pytester.mkdir("system-temp")
    monkeypatch.setenv("TMPDIR", str(system_temp))
    monkeypatch.delenv("PYTEST_DEBUG_TEMPROOT", raising=False)

    def run(*args: str) -> tuple[pytest.RunResult, list[str]]:
        # No --basetemp (runpytest_subprocess would add one): pytest picks and prunes its own.
        plugins = ["-p", "stock_assets_tests.leftovers", "-p", "no:cacheprovider"]
        result = pytester.run(sys.executable, "-m", "pytest", *plugins, *args)
        return result, sorted(str(path.relative_to(system_temp)) for path in system_temp.rglob("*"))

    return run


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_run_that_cleans_up_passes_and_leaves_nothing(pytester, inner, workers):
    pytester.makepyfile(test_inner=TESTS)
    result, left = inner("-n", workers)
    assert result.ret == 0, result.stdout.str()
    assert [entry for entry in left if not entry.startswith("pytest-of-")] == []
    assert [entry for entry in left if re.fullmatch(r"pytest-of-[^/]+/pytest-\d+", entry)] == []
    result.stdout.no_fnmatch_line("*left behind by the tests*")


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_test_that_leaves_a_temporary_folder_fails_the_run_naming_it(pytester, inner, workers):
    pytester.makepyfile(test_inner=TESTS + LEAKY_TEST)
    result, left = inner("-n", workers)
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    result.stdout.fnmatch_lines(
        ["*left behind by the tests*", "*/stock-assets-tests-*/left-behind-*"]
    )
    assert not [entry for entry in left if "left-behind-" in entry]  # reported, then removed
