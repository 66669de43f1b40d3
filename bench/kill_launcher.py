"""`stock-assets materialize` started without paying for Python's imports each time: a fork
server that has imported the libraries the command imports (not the project's code, which reads
its settings when imported) forks one child per run.

A child is the command as its console script runs it, in a process of its own: the run's
environment and folder, `stock_assets.cli.main(["materialize"])`, its exit code (or the signal
that killed it) reported back; armed by `bench.kill_point.kill_hooks` first if the environment
asks for a kill point, as `sitecustomize` arms the console script. Importing dagster, pandas,
pyarrow, SQLAlchemy and boto3 is about half the CPU time of a one-symbol run, which the kill
campaign runs hundreds of. Stand-alone: ``python -m bench.kill_launcher`` reads one request (JSON)
per line on stdin and answers each with ``{"returncode": ...}``.
"""

import atexit
import importlib
import json
import os
import queue
import signal
import subprocess
import sys
import traceback
from pathlib import Path

PRELOADED = ("dagster", "pandas", "pyarrow.parquet", "pyarrow.csv", "pyarrow.json",
             "sqlalchemy", "boto3", "botocore.session", "psycopg", "psycopg2", "numpy",
             "requests", "tenacity", "dagster_aws.s3", "alembic")
KILL_POINT_DIR = str(Path(__file__).with_name("kill_point"))
ROOT = Path(__file__).resolve().parents[1]


def _child(request: dict) -> None:
    """The run, in the forked child; never returns."""
    code = 1
    try:
        signal.alarm(request["timeout"])  # a run that hangs (a slot never freed) ends here
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        for stream, path in ((1, request["stdout"]), (2, request["stderr"])):
            os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), stream)
        sys.argv = ["stock-assets", "materialize"]
        if os.environ.get("STOCK_ASSETS_KILL_AT"):
            sys.path.insert(0, KILL_POINT_DIR)
            importlib.import_module("kill_hooks").arm()
        from stock_assets.cli import main

        code = main(["materialize"])
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        atexit._run_exitfuncs()  # what the interpreter runs at exit, os._exit does not
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def serve() -> None:
    for name in PRELOADED:
        importlib.import_module(name)
    print("ready", flush=True)
    for line in sys.stdin:
        pid = os.fork()
        if pid == 0:
            _child(json.loads(line))
        _, status = os.waitpid(pid, 0)
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        print(json.dumps({"returncode": code}), flush=True)


class Launcher:
    """`slots` fork servers; `run` takes a free one for each run."""

    def __init__(self, slots: int):
        self._servers: list[subprocess.Popen] = []
        self._free: queue.Queue = queue.Queue()
        for _ in range(slots):
            server = subprocess.Popen(
                [sys.executable, "-m", "bench.kill_launcher"], cwd=ROOT, text=True,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            )
            self._servers.append(server)
        for server in self._servers:
            if server.stdout.readline().strip() != "ready":
                raise RuntimeError(f"the fork server did not start (exit {server.poll()})")
            self._free.put(server)

    def run(self, env: dict[str, str], cwd: Path, timeout: int) -> subprocess.CompletedProcess:
        """`stock-assets materialize` in `cwd` with `env`: its exit code (minus the signal that
        killed it, -14 when `timeout` passed), stdout and stderr."""
        out, err = cwd / ".materialize.stdout", cwd / ".materialize.stderr"
        request = {"env": env, "cwd": str(cwd), "stdout": str(out), "stderr": str(err),
                   "timeout": timeout}
        server = self._free.get()
        try:
            server.stdin.write(json.dumps(request) + "\n")
            server.stdin.flush()
            reply = server.stdout.readline()
        finally:
            self._free.put(server)
        if not reply:
            raise RuntimeError(f"the fork server died (exit {server.poll()})")
        stdout, stderr = (path.read_text() if path.exists() else "" for path in (out, err))
        for path in (out, err):
            path.unlink(missing_ok=True)
        return subprocess.CompletedProcess(["stock-assets", "materialize"],
                                           json.loads(reply)["returncode"], stdout, stderr)

    def stop(self) -> None:
        for server in self._servers:
            server.stdin.close()
            server.wait(timeout=30)


if __name__ == "__main__":
    serve()
