"""The codebase stays `ruff` clean (the style every contributor is held to)."""

import ast
import importlib.metadata
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

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



def _imported_top_level_modules(package: Path) -> set[str]:
    names = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {package.name}


def test_the_declared_dependencies_are_what_the_package_imports():
    """A dependency the package imports but does not declare works here by accident (another
    package pulled it in); one declared and never imported only weighs on every install."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}
    distributions = importlib.metadata.packages_distributions()
    imported = {canonicalize_name(d) for module in _imported_top_level_modules(
        ROOT / "stock_assets") for d in distributions.get(module, [module])}
    # Installed for what they serve, never imported: the UI and `dg`.
    served = {"dagster-webserver", "dagster-dg-cli"}
    assert imported - declared == set(), "imported, not declared"
    assert declared - imported - served == set(), "declared, never imported"


# Data flows ingest → storage → prices → warehouse; corporate actions are fetched like prices and
# judged with the prices' own rules (split jumps), so they come after them. The edge wires them
# together (definitions, jobs, CLI, alerts); everything else is shared infrastructure that no
# stage owns.
STAGES = ["ingest", "storage", "prices", "actions", "warehouse"]
EDGE = {"definitions", "jobs", "cli", "alerts", "__main__"}


def _stock_assets_imports(path: Path) -> set[str]:
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.add(node.module)
    return {name for name in imported if name.split(".")[0] == "stock_assets"}


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in STAGES else None


def test_the_stages_import_only_earlier_stages_and_shared_modules():
    """No import from a later stage into an earlier one, and none from shared infrastructure
    into any stage: the house reads top to bottom."""
    backwards = []
    for path in sorted((ROOT / "stock_assets").rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        if module.split(".")[1] in EDGE:
            continue
        stage = _stage(module)
        for imported in _stock_assets_imports(path):
            target = _stage(imported)
            if target is None:
                continue
            if stage is None or STAGES.index(target) > STAGES.index(stage):
                backwards.append(f"{module} imports {imported}")
    assert backwards == []


def test_no_asset_function_takes_the_io_manager():
    """Assets hand values to the IO manager by returning them; a step that reads or writes
    stored values itself uses the history store, openly."""
    takes = []
    for path in sorted((ROOT / "stock_assets").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef):
                continue
            for argument in node.args.args + node.args.kwonlyargs:
                annotation = ast.unparse(argument.annotation) if argument.annotation else ""
                if argument.arg == "io_manager" or "IOManager" in annotation:
                    takes.append(f"{path.name}:{node.name}({argument.arg})")
    assert takes == []


def test_modules_and_functions_stay_short():
    """A module over 300 lines says why at its top ("Over 300 lines: ..."); no function outside
    the tests is over 60 lines: each reads on one screen."""
    long_modules, long_functions = [], []
    for root in ("stock_assets", "bench", "stock_assets_tests"):
        for path in sorted((ROOT / root).rglob("*.py")):
            text = path.read_text()
            docstring = ast.get_docstring(ast.parse(text)) or ""
            if text.count("\n") > 300 and "Over 300 lines:" not in docstring:
                long_modules.append(str(path.relative_to(ROOT)))
            if root == "stock_assets_tests":
                continue
            for node in ast.walk(ast.parse(text)):
                is_function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                if is_function and node.end_lineno - node.lineno + 1 > 60:
                    long_functions.append(f"{path.relative_to(ROOT)}:{node.name}")
    assert long_modules == [] and long_functions == []
