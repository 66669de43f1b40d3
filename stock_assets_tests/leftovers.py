"""The suite cleans up after itself: every process a run starts gets one fresh temporary folder
(TMPDIR), and the run fails naming whatever is left in it, or new in the repository, at the end.

pytest's own `tmp_path` folders are left to its retention settings (pyproject.toml), and a run
that passes must leave none of them either. The check runs once, in the process that started the
session (the xdist controller, or the only process with `-n 0`), after the workers have stopped
and the session fixtures are torn down; it then removes the folder, so leftovers are reported
once, never piled up.

A folder of the suite's own, rather than a before/after listing of the system temp folder, is
what makes the check exact: other programs on the machine write there at the same time.
"""

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Generator
from pathlib import Path

import pytest

# Caches of the tools a run uses (all git-ignored); anything else new in the repository is a leak.
TOOL_CACHES = {".pytest_cache", ".hypothesis", ".ruff_cache"}
ENVIRONMENT = ("TMPDIR", "PYTEST_DEBUG_TEMPROOT")


@dataclasses.dataclass
class Watch:
    folder: Path
    saved_environment: dict[str, str | None]
    repository_entries: set[str]
    left: list[str] = dataclasses.field(default_factory=list)


WATCH = pytest.StashKey[Watch]()


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):  # an xdist worker: it inherited the controller's TMPDIR
        return
    system_temp = tempfile.gettempdir()
    folder = Path(tempfile.mkdtemp(prefix="stock-assets-tests-"))
    watch = Watch(
        folder,
        {name: os.environ.get(name) for name in ENVIRONMENT},
        set(os.listdir(config.rootpath)),
    )
    # pytest's basetemp stays in the system temp folder, where its retention rules prune it.
    os.environ.setdefault("PYTEST_DEBUG_TEMPROOT", system_temp)
    os.environ["TMPDIR"] = str(folder)  # before xdist starts its workers: they inherit it
    tempfile.tempdir = None  # this process, too, asks TMPDIR again
    config.stash[WATCH] = watch


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> Generator[None]:
    """Innermost wrapper: runs after the workers stopped, the session fixtures were torn down
    and pytest pruned its basetemp, and before the terminal summary."""
    result = yield
    watch = session.config.stash.get(WATCH, None)
    if watch is None:
        return result
    watch.left = [str(watch.folder / name) for name in sorted(os.listdir(watch.folder))]
    root = session.config.rootpath
    new = set(os.listdir(root)) - watch.repository_entries - TOOL_CACHES
    watch.left += [str(root / name) for name in sorted(new)]
    # pytest names its basetemp nowhere public outside fixtures; xdist reads it here too.
    factory = getattr(session.config, "_tmp_path_factory", None)
    basetemp = getattr(factory, "_basetemp", None)  # None until something used tmp_path
    if (
        session.exitstatus == pytest.ExitCode.OK
        and session.config.option.basetemp is None
        and basetemp is not None
        and basetemp.exists()
    ):
        watch.left.append(f"{basetemp} (kept by pytest although every test passed)")
    if watch.left and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    return result


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    watch = config.stash.get(WATCH, None)
    if watch is None or not watch.left:
        return
    terminalreporter.write_sep("=", "left behind by the tests", red=True)
    for path in watch.left:
        terminalreporter.write_line(path, red=True)
    terminalreporter.write_line(
        "A test that writes outside its tmp_path must remove what it wrote, failing or not "
        "(a fixture with teardown, a context manager).",
        red=True,
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    watch = config.stash.get(WATCH, None)
    if watch is None:
        return
    shutil.rmtree(watch.folder, ignore_errors=True)
    for name, value in watch.saved_environment.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    tempfile.tempdir = None
