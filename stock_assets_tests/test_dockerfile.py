"""The Dockerfile's recipe, proven without Docker: its stages are replayed into a temporary root
(RUN and COPY lines as written, image paths mapped under that root, one stage replacing the
other at the same path as in an image), then the final stage's CMD is served on loopback and
called over gRPC, and the migration Job's command is run against a fresh Postgres database.

What cannot be replayed on a host is checked from the text instead: the base image's Python is
this interpreter's (same minor version, asserted), and accounts (`useradd`) and ownership
(`chown`) are read, not executed.

Over 300 lines: replaying a Dockerfile without Docker needs its own small interpreter of the
recipe, kept next to the tests it serves.
"""

import importlib.metadata
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
from dagster._core.remote_origin import GrpcServerCodeLocationOrigin
from dagster._core.remote_representation.code_location import GrpcServerCodeLocation
from dockerfile_parse import DockerfileParser
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from stock_assets.database.migrations import head_revision
from stock_assets.definitions import defs
from stock_assets_tests.helpers import free_port

# One replay of the image per run (1.5 GB, minutes): every test of it on one xdist worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dockerfile_image")]

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
MIGRATION_COMMAND = ["alembic", "upgrade", "head"]  # the hook Job's command (see test_helm.py)

DEV_TOOLS = {"pytest", "moto", "hypothesis", "ruff"}
VENV_SEEDS = {"pip", "setuptools", "wheel"}  # what `python -m venv` puts in itself
# The base image's PATH; its /usr/local/bin (where its python lives) is played by a shim folder.
BASE_IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BASE_IMAGE_PYTHON_DIR = "/usr/local/bin"
# Programs a RUN line may call here; anything else would run on this host, so it must be taught.
REPLAYABLE = {"python", "python3", "pip", "mkdir"}
NOT_REPLAYABLE = {"groupadd", "useradd", "chown"}  # the image's accounts, not this host's
SECRET_LIKE_NAME = re.compile(r"KEY|SECRET|TOKEN|PASSW|CREDENTIAL|WEBHOOK|_URL$", re.IGNORECASE)
CREDENTIALS_IN_URL = re.compile(r"://[^/\s:@]+:[^/\s@]+@")
WAIT_FOR_SERVER_SECONDS = 240  # a bound to give up on, not a timing assertion


@dataclass
class Instruction:
    name: str
    value: str
    line: int

    def words(self) -> list[str]:
        return shlex.split(self.value)

    def exec_form(self) -> list[str]:
        words = self.value
        while words.startswith("--"):  # HEALTHCHECK options before its CMD
            words = words.split(maxsplit=1)[1]
        if words.startswith("CMD "):
            words = words[4:]
        parsed = json.loads(words)
        assert isinstance(parsed, list), f"line {self.line}: use the JSON (exec) form"
        return parsed


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, name: str) -> list[Instruction]:
        return [i for i in self.instructions if i.name == name]

    def last(self, name: str) -> Instruction | None:
        found = self.all(name)
        return found[-1] if found else None


def parse_stages(path: Path) -> list[Stage]:
    stages: list[Stage] = []
    for item in DockerfileParser(path=str(path)).structure:
        name, value, line = item["instruction"], item["value"], item["startline"] + 1
        if name == "COMMENT":
            continue
        if name == "FROM":
            words = value.split()
            named = len(words) == 3 and words[1].upper() == "AS"
            stages.append(Stage(words[2] if named else str(len(stages)), words[0]))
            continue
        assert stages, f"Dockerfile line {line}: {name} before the first FROM"
        stages[-1].instructions.append(Instruction(name, value, line))
    return stages


def parse_env(value: str, env: dict[str, str]) -> dict[str, str]:
    """`ENV a=1 b=$a` as Docker reads it, expanding $VAR and ${VAR} from `env`."""

    def expand(text: str) -> str:
        return re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m.group(1), ""), text)

    return dict(
        (word.split("=", 1)[0], expand(word.split("=", 1)[1])) for word in shlex.split(value)
    )


@dataclass
class Image:
    """The final stage: its filesystem under `root`, and what the image would run with."""

    root: Path
    env: dict[str, str]
    workdir: str
    shim: Path
    home: Path  # the image user's home (useradd --home-dir), under `root`
    scratch: Path  # the test's own files, outside the image

    def host(self, image_path: str) -> Path:
        return self.root / image_path.lstrip("/")

    def host_env(self, **extra: str) -> dict[str, str]:
        """The image's environment as this host runs it: nothing inherited but pip's settings
        and the temporary folder."""
        return host_env(self.env, self.root, self.shim, self.home) | extra

    def run(self, argv: list[str], **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            argv,
            cwd=self.host(self.workdir),
            env=self.host_env(**env),
            capture_output=True,
            text=True,
            check=False,
        )


def host_env(image_env: dict[str, str], root: Path, shim: Path, home: Path) -> dict[str, str]:
    # TMPDIR too: pip's build folders and the code server's socket go where the suite's others go.
    env = {
        key: value
        for key, value in os.environ.items()
        if key.startswith("PIP_") or key == "TMPDIR"
    }
    env |= {"HOME": str(home), "LANG": "C.UTF-8"}
    for key, value in image_env.items():
        if key == "PATH":
            entries = []
            for entry in value.split(":"):
                if entry == BASE_IMAGE_PYTHON_DIR:
                    entries.append(str(shim))
                elif entry in BASE_IMAGE_PATH.split(":"):
                    entries.append(entry)
                else:
                    entries.append(str(root / entry.lstrip("/")))
            env[key] = ":".join(entries)
        elif value.startswith("/"):
            env[key] = str(root / value.lstrip("/"))
        else:
            env[key] = value
    return env


class Replay:
    """Plays stages into `root` as Docker builds layers: each FROM starts an empty root at the
    same path (so the shebangs pip writes stay valid), the previous one kept for COPY --from."""

    def __init__(self, workspace: Path, context: Path):
        self.root = workspace / "root"
        self.stages = workspace / "stages"
        self.shim = workspace / "base-image-bin"
        self.home = workspace / "home"
        self.context = context
        for folder in (self.stages, self.shim, self.home):
            folder.mkdir(parents=True)
        base_python = Path(getattr(sys, "_base_executable", sys.executable))
        for name in ("python", "python3", f"python{sys.version_info[0]}.{sys.version_info[1]}"):
            (self.shim / name).symlink_to(base_python)
        self.previous: str | None = None
        self.user_home: str | None = None

    def play(self, stage: Stage) -> Image:
        if self.previous is not None:
            self.root.rename(self.stages / self.previous)
        self.root.mkdir()
        self.previous = stage.name
        env = {"PATH": BASE_IMAGE_PATH}
        workdir = "/"
        for instruction in stage.instructions:
            if instruction.name == "ENV":
                env |= parse_env(instruction.value, env)
            elif instruction.name == "WORKDIR":
                workdir = os.path.join(workdir, instruction.value)
                (self.root / workdir.lstrip("/")).mkdir(parents=True, exist_ok=True)
            elif instruction.name == "RUN":
                self.run(instruction, env, workdir)
            elif instruction.name == "COPY":
                self.copy(instruction, workdir)
            elif instruction.name not in {"ARG", "USER", "EXPOSE", "CMD", "HEALTHCHECK", "LABEL"}:
                pytest.fail(f"Dockerfile line {instruction.line}: cannot replay {instruction.name}")
        home = self.root / self.user_home.lstrip("/") if self.user_home else self.home
        return Image(self.root, env, workdir, self.shim, home, self.home.parent)

    def run(self, instruction: Instruction, env: dict[str, str], workdir: str) -> None:
        words = instruction.words()
        commands: list[list[str]] = [[]]
        for word in words:
            if word == "&&":
                commands.append([])
            else:
                commands[-1].append(word)
        for command in commands:
            program = command[0]
            if program == "useradd" and "--home-dir" in command:
                self.user_home = command[command.index("--home-dir") + 1]
            if program in NOT_REPLAYABLE:
                continue
            if program not in REPLAYABLE and not program.startswith("/"):
                pytest.fail(
                    f"Dockerfile line {instruction.line}: this test does not know how to replay "
                    f"{program!r} on a host; teach it (REPLAYABLE) or keep the RUN line simpler"
                )
            argv = [str(self.root / w.lstrip("/")) if w.startswith("/") else w for w in command]
            done = subprocess.run(
                argv,
                cwd=self.root / workdir.lstrip("/"),
                env=host_env(env, self.root, self.shim, self.home),
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                pytest.fail(
                    f"Dockerfile line {instruction.line}: {shlex.join(command)} exited "
                    f"{done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
                )

    def copy(self, instruction: Instruction, workdir: str) -> None:
        words = [w for w in instruction.words() if not w.startswith("--")]
        flags = dict(w[2:].split("=", 1) for w in instruction.words() if w.startswith("--"))
        *sources, destination = words
        source_root = self.stages / flags["from"] if "from" in flags else self.context
        target = self.root / os.path.join(workdir, destination).lstrip("/")
        into_folder = destination.endswith("/") or len(sources) > 1 or target.is_dir()
        for source in sources:
            origin = (source_root / source.lstrip("/")).resolve()
            assert origin.is_relative_to(source_root.resolve()), f"COPY {source} leaves its root"
            if origin.is_dir():
                shutil.copytree(origin, target, symlinks=True, dirs_exist_ok=True)
            else:
                path = target / origin.name if into_folder else target
                path.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, path)


@pytest.fixture(scope="session")
def stages() -> list[Stage]:
    return parse_stages(DOCKERFILE)


@pytest.fixture(scope="session")
def image(stages: list[Stage], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Image]:
    """The one install of the session: every stage replayed, the final one returned; removed
    when the session ends, whatever the outcome, as no run should keep its 1.5 GB of venvs."""
    version = re.match(r"python:(\d+)\.(\d+)", stages[-1].base)
    assert version, f"the final stage's base {stages[-1].base} is not an official python image"
    if tuple(map(int, version.groups())) != sys.version_info[:2]:
        pytest.fail(
            f"{stages[-1].base} is Python {'.'.join(version.groups())}; this test replays "
            f"it with {sys.version_info[0]}.{sys.version_info[1]}: run it on that version"
        )
    workspace = tmp_path_factory.mktemp("image")
    try:
        replay = Replay(workspace, ROOT)
        played = [replay.play(stage) for stage in stages]
        yield played[-1]
    finally:
        shutil.rmtree(workspace)


def _user_uid(stage: Stage) -> int:
    user = stage.last("USER")
    assert user is not None, "the final stage sets no USER: it would run as root"
    name = user.value.split(":")[0]
    assert name.isdigit(), (
        f"USER {user.value}: use a numeric uid, or Kubernetes cannot verify runAsNonRoot"
    )
    return int(name)


def test_final_stage_runs_as_a_non_root_user_who_owns_its_writable_folders(stages):
    final = stages[-1]
    uid = _user_uid(final)
    assert uid != 0
    run_text = " ".join(i.value for i in final.all("RUN"))
    assert f"--uid {uid}" in run_text, "the USER's uid is not created by useradd in the image"
    env: dict[str, str] = {}
    for instruction in final.all("ENV"):
        env |= parse_env(instruction.value, env)
    home = re.search(r"--home-dir (\S+)", run_text)
    assert home, "useradd names no --home-dir"
    writable = {"HOME": home.group(1)}
    for variable in ("DAGSTER_HOME", "STOCK_ASSETS_DATA_DIR"):
        assert variable in env, f"the image does not set {variable}"
        writable[variable] = env[variable]
    owned = {
        path
        for paths in re.findall(rf"chown {uid}:\d+ ([^&]+)", run_text)
        for path in paths.split()
    }
    unowned = {variable: path for variable, path in writable.items() if path not in owned}
    assert not unowned, f"folders the image writes but {uid} does not own: {unowned}"
    assert final.last("ENTRYPOINT") is None, "the chart passes the command as args: no ENTRYPOINT"


def test_no_stage_bakes_in_a_secret_or_copies_the_whole_context(stages):
    for stage in stages:
        for instruction in stage.all("ENV") + stage.all("ARG"):
            for word in instruction.words():
                name, _, value = word.partition("=")
                assert not (SECRET_LIKE_NAME.search(name) and value), (
                    f"line {instruction.line}: {name} is secret-like and has a value in the image"
                )
                assert not CREDENTIALS_IN_URL.search(value), f"line {instruction.line}: {name}"
        for instruction in stage.all("COPY"):
            sources = [w for w in instruction.words() if not w.startswith("--")][:-1]
            assert not {".", "./", ".env", "stock_assets_tests"} & set(sources), (
                f"line {instruction.line}: COPY names only what the image needs"
            )


def _runtime_closure(site_packages: Path, root: str) -> set[str]:
    """`root` and everything its requirements pull in (markers and extras honoured), read from
    the installed metadata: what a runtime-only install may hold."""
    dists = {
        canonicalize_name(d.metadata["Name"]): d
        for d in importlib.metadata.distributions(path=[str(site_packages)])
    }
    closure: set[str] = set()
    todo: list[tuple[str, frozenset[str]]] = [(canonicalize_name(root), frozenset())]
    while todo:
        name, extras = todo.pop()
        if (name, extras) in closure or name not in dists:
            continue
        closure.add((name, extras))
        for line in dists[name].requires or []:
            requirement = Requirement(line)
            marker = requirement.marker
            if marker is None or any(marker.evaluate({"extra": e}) for e in {"", *extras}):
                todo.append((canonicalize_name(requirement.name), frozenset(requirement.extras)))
    return {name for name, _ in closure}


def test_final_environment_holds_the_pinned_project_and_no_dev_tools(image):
    listed = image.run(
        [str(image.host("/opt/venv/bin/python")), "-m", "pip", "list", "--format=json"]
    )
    assert listed.returncode == 0, listed.stderr
    installed = {canonicalize_name(p["name"]): p["version"] for p in json.loads(listed.stdout)}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for requirement in map(Requirement, project["dependencies"]):
        version = installed.get(canonicalize_name(requirement.name))
        assert version is not None, f"{requirement.name} is missing from the image"
        assert requirement.specifier.contains(version), f"{requirement} but {version} installed"
    assert not DEV_TOOLS & installed.keys()
    # Nothing the [dev] extra (or anything else) brings beyond what the project needs to run.
    site_packages = next(image.host("/opt/venv/lib").glob("python3*/site-packages"))
    beyond_runtime = installed.keys() - _runtime_closure(site_packages, project["name"])
    assert beyond_runtime <= VENV_SEEDS, f"not needed at run time: {beyond_runtime - VENV_SEEDS}"
    where = image.run(["python", "-c", "import stock_assets; print(stock_assets.__file__)"])
    assert Path(where.stdout.strip()).is_relative_to(image.host("/opt/venv")), where.stderr


def _on_loopback(argv: list[str], port: int) -> list[str]:
    """The CMD with its host and port replaced: tests listen on loopback only."""
    replaced = list(argv)
    for flags, value in ((("-h", "--host"), "127.0.0.1"), (("-p", "--port"), str(port))):
        at = next((i for i, word in enumerate(replaced) if word in flags), None)
        assert at is not None, f"{argv} names no {flags[1]}"
        replaced[at + 1] = value
    return replaced


@pytest.fixture
def served(image, stages) -> Iterator[tuple[int, subprocess.Popen]]:
    """The final stage's CMD, started as the image would start it, stopped with its children."""
    final = stages[-1]
    exposed = final.last("EXPOSE")
    cmd = final.last("CMD")
    assert exposed and cmd, "the final stage needs EXPOSE and CMD"
    argv = cmd.exec_form()
    assert argv[argv.index("-p") + 1] == exposed.value, "CMD serves on the EXPOSEd port"
    port = free_port()
    log = image.scratch / f"code-server-{port}.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            _on_loopback(argv, port),
            cwd=image.host(image.workdir),
            env=image.host_env(),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield port, server
    finally:
        _stop_group(server, log)


def _stop_group(server: subprocess.Popen, log: Path) -> None:
    """SIGTERM the server's process group, as Kubernetes stops a pod, and see every member go."""
    group = server.pid
    if server.poll() is None:
        os.killpg(group, signal.SIGTERM)
    try:
        server.wait(timeout=60)
    finally:
        deadline = time.monotonic() + 60
        while _group_alive(group) and time.monotonic() < deadline:
            time.sleep(0.5)
        if _group_alive(group):
            os.killpg(group, signal.SIGKILL)
            pytest.fail(f"the code server ignored SIGTERM\n{log.read_text()[-3000:]}")


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_healthy(image: Image, stages: list[Stage], port: int, server: subprocess.Popen) -> None:
    healthcheck = stages[-1].last("HEALTHCHECK")
    assert healthcheck, "the final stage has no HEALTHCHECK"
    probe = healthcheck.exec_form()
    probe[probe.index("-p") + 1] = str(port)
    probe += ["-h", "127.0.0.1"]
    deadline = time.monotonic() + WAIT_FOR_SERVER_SECONDS
    while True:
        answered = image.run(probe)
        if answered.returncode == 0:
            return
        if server.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the code server never answered its health check: {answered.stdout}")
        time.sleep(1)


def test_cmd_serves_the_code_location_over_grpc_and_stops_on_sigterm(image, stages, served):
    port, server = served
    _wait_healthy(image, stages, port, server)
    origin = GrpcServerCodeLocationOrigin(host="127.0.0.1", port=port, location_name="image")
    with (
        dg.DagsterInstance.ephemeral() as instance,
        GrpcServerCodeLocation(origin, instance=instance) as location,
    ):
        served_python = Path(location.executable_path)
        repositories = location.get_repositories().values()
        served_keys = {s.asset_key for r in repositories for s in r.get_asset_node_snaps()}
    assert served_python.is_relative_to(image.host("/opt/venv")), served_python
    assert served_keys == set(defs.resolve_all_asset_keys())


def _files(root: Path) -> dict[Path, int]:
    return {path: path.stat().st_mtime_ns for path in root.rglob("*") if not path.is_symlink()}


def test_image_runs_the_migration_job_command(image, make_postgres_database):
    url = make_postgres_database()
    before = _files(image.root)
    migrated = image.run(MIGRATION_COMMAND, STOCK_ASSETS_DATABASE_URL=url)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    # The hook Job runs with a read-only root filesystem (and an empty /tmp): it may write nothing.
    assert _files(image.root) == before
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            revision = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
            assert revision.scalar_one() == head_revision()
    finally:
        engine.dispose()
