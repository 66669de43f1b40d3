"""The Kubernetes deployment, validated offline: our chart rendered and linted by Helm's own engine
(helm-python-sdk binds Helm 4's Go SDK, no cluster contacted), every manifest checked against the
Kubernetes schemas kubernetes-validate ships, and helm/values.yaml checked against the values
schema of the official Dagster chart (vendored in stock_assets_tests/data/, with its source).

Over 300 lines: the chart, every manifest and the values are each validated by a different
engine, set up here.
"""

import ipaddress
import json
import re
from pathlib import Path
from typing import Any

import dagster as dg
import helm_python
import jsonschema
import kubernetes_validate
import pytest
import yaml
from dockerfile_parse import DockerfileParser
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from stock_assets.definitions import defs

ROOT = Path(__file__).resolve().parents[1]
HELM = ROOT / "helm"
CHART = HELM / "stock-assets"
DAGSTER_VALUES = HELM / "values.yaml"
SECRETS_EXAMPLE = HELM / "secrets.example.yaml"
DAGSTER_SCHEMA = Path(__file__).parent / "data" / "dagster_chart_values.schema.json"

# The oldest Kubernetes our chart declares (Chart.yaml kubeVersion is >= 1.25) is no longer
# supported upstream; validate against a supported one and the newest kubernetes-validate ships.
KUBERNETES_VERSIONS = ["1.30.0", kubernetes_validate.latest_version()]
MIGRATION_COMMAND = ["alembic", "upgrade", "head"]  # what test_dockerfile.py runs in the image
HOOK_EVENTS = {"pre-install", "pre-upgrade"}
SECRET_LIKE = re.compile(r"KEY|SECRET|TOKEN|PASSW|WEBHOOK|DATABASE_URL|STORAGE_URL", re.IGNORECASE)
REQUIRED_SECRET_KEYS = {
    "ALPHAVANTAGE_API_KEY",
    "STOCK_ASSETS_DATABASE_URL",
    "STOCK_ASSETS_STORAGE_URL",
}
PLACEHOLDER = re.compile(r"^<[^<>]+>$")


def _load_yaml(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def _documents(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def _render(values: dict[str, Any] | None = None, **options: Any) -> list[dict[str, Any]]:
    with helm_python.Chart.load(CHART) as chart:
        rendered = chart.render(values or {}, name="stock-assets", namespace="prices", **options)
    return [doc for text in rendered.values() for doc in _documents(text)]


def _user_deployment() -> dict[str, Any]:
    deployments = _load_yaml(DAGSTER_VALUES)["dagster-user-deployments"]["deployments"]
    assert len(deployments) == 1, "helm/values.yaml deploys one code location"
    return deployments[0]


def _settings_variables() -> set[str]:
    """Every environment variable stock_assets/settings.py (the one reader) names."""
    source = (ROOT / "stock_assets" / "settings.py").read_text()
    return set(re.findall(r'"((?:ALPHAVANTAGE|STOCK_ASSETS)_[A-Z_]+)"', source))


def _is_read(variable: str) -> bool:
    return variable in _settings_variables() or variable.startswith("AWS_")  # boto3 reads AWS_*


def _secrets() -> dict[str, dict[str, str]]:
    return {d["metadata"]["name"]: d["stringData"] for d in _documents(SECRETS_EXAMPLE.read_text())}


def _migration_job(documents: list[dict[str, Any]]) -> dict[str, Any]:
    jobs = [d for d in documents if d["kind"] == "Job"]
    assert len(jobs) == 1, f"expected one migration Job, rendered {[d['kind'] for d in documents]}"
    return jobs[0]


TAG = {"image": {"tag": "2026.11.21-abc1234"}}


@pytest.mark.parametrize("kubernetes", KUBERNETES_VERSIONS)
def test_chart_lints_clean_in_strict_mode(kubernetes):
    report = helm_python.lint(CHART, TAG, strict=True, kube_version=f"v{kubernetes}")
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert not report["errors"] and not problems, report


@pytest.mark.parametrize("kubernetes", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("event", ["install", "upgrade"])
def test_every_rendered_manifest_is_valid_kubernetes(kubernetes, event):
    documents = _render(TAG, is_install=event == "install", is_upgrade=event == "upgrade")
    assert documents
    for document in documents:
        assert "{{" not in yaml.safe_dump(document), "a template expression was left unrendered"
        kubernetes_validate.validate(document, kubernetes, strict=True)


def test_example_secrets_are_valid_kubernetes():
    for document in _documents(SECRETS_EXAMPLE.read_text()):
        for kubernetes in KUBERNETES_VERSIONS:
            kubernetes_validate.validate(document, kubernetes, strict=True)


def test_migration_job_is_a_pre_install_and_pre_upgrade_hook_running_the_image_alembic():
    job = _migration_job(_render(TAG))
    annotations = job["metadata"]["annotations"]
    assert set(annotations["helm.sh/hook"].split(",")) == HOOK_EVENTS
    assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"].split(",")
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"] == MIGRATION_COMMAND
    assert "workingDir" not in container, "alembic.ini is in the image's WORKDIR"
    assert (
        container["image"] == f"{_user_deployment()['image']['repository']}:{TAG['image']['tag']}"
    )
    assert pod["restartPolicy"] == "Never"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert str(pod["securityContext"]["runAsUser"]) == _dockerfile_user()


def test_migration_job_reads_the_database_url_from_the_code_location_secret():
    job = _migration_job(_render(TAG))
    (container,) = job["spec"]["template"]["spec"]["containers"]
    (variable,) = container["env"]
    assert variable["name"] == "STOCK_ASSETS_DATABASE_URL"
    reference = variable["valueFrom"]["secretKeyRef"]
    assert {"name": reference["name"]} in _user_deployment()["envSecrets"]
    assert reference["key"] in _secrets()[reference["name"]]


def test_migration_job_refuses_to_render_without_an_image_tag():
    with pytest.raises(helm_python.HelmRenderError, match=r"image\.tag is required"):
        _render()


def _dockerfile_user() -> str:
    return _dockerfile_last("USER").split(":")[0]


def _dockerfile_last(instruction: str) -> str:
    structure = DockerfileParser(path=str(ROOT / "Dockerfile")).structure
    return [i["value"] for i in structure if i["instruction"] == instruction][-1]


def test_code_location_runs_the_image_cmd_on_its_exposed_port():
    deployment = _user_deployment()
    cmd = json.loads(_dockerfile_last("CMD"))
    # The chart's deployment-user.yaml runs, as the container's args:
    #   dagster code-server start -h 0.0.0.0 -p <port> <codeServerArgs>
    assert cmd[:4] == ["dagster", "code-server", "start", "-h"]
    assert ipaddress.ip_address(cmd[4]).is_unspecified, "the Service reaches every interface"
    assert cmd[5:] == ["-p", str(deployment["port"]), *deployment["codeServerArgs"]]
    assert deployment["port"] == int(_dockerfile_last("EXPOSE"))
    assert deployment["includeConfigInLaunchedRuns"] == {"enabled": True}
    assert deployment["image"]["tag"] not in {"latest", None, ""}


def test_settings_reach_the_code_location_with_secrets_only_in_secrets():
    deployment = _user_deployment()
    plain = deployment["env"]
    secrets = _secrets()
    (code_secret,) = (s["name"] for s in deployment["envSecrets"])
    secret_keys = set(secrets[code_secret])
    assert plain["STOCK_ASSETS_AUTO_MIGRATE"] == "false", "the hook Job migrates, not the runs"
    assert secret_keys >= REQUIRED_SECRET_KEYS
    assert not plain.keys() & secret_keys, "each variable is set in one place"
    assert not [k for k in plain if SECRET_LIKE.search(k)], "secret-like variables go in Secrets"
    assert all(isinstance(v, str) for v in plain.values()), "the chart's env map takes strings"
    unread = [v for v in [*plain, *secret_keys] if not _is_read(v)]
    assert not unread, f"nothing reads {unread}: a typo?"


def test_example_secrets_hold_placeholders_only_and_the_names_the_charts_use():
    values = _load_yaml(DAGSTER_VALUES)
    secrets = _secrets()
    instance_secret = values["global"]["postgresqlSecretName"]
    assert values["generatePostgresqlPasswordSecret"] is False
    assert values["postgresql"]["postgresqlPassword"] == ""
    assert set(secrets[instance_secret]) == {"postgresql-password"}
    assert set(secrets) == {instance_secret, *(s["name"] for s in _user_deployment()["envSecrets"])}
    for name, data in secrets.items():
        for key, value in data.items():
            assert PLACEHOLDER.match(value), f"{name}.{key} must be a <placeholder>, not a value"


def test_queue_and_pool_limits_are_set_once_and_cover_the_alphavantage_pool():
    values = _load_yaml(DAGSTER_VALUES)
    concurrency = values["concurrency"]
    queued = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert concurrency["enabled"] is True
    assert concurrency["runs"]["maxConcurrentRuns"] > 0
    # The chart fails the install when both places set the run limit (_concurrency.tpl).
    assert queued.get("maxConcurrentRuns") is None
    assert concurrency["pools"]["defaultLimit"] == 1
    pools = {
        op.pool
        for asset in defs.assets
        if isinstance(asset, dg.AssetsDefinition)
        for op in asset.node_def.iterate_op_defs()
        if op.pool
    }
    # Dagster has no per-pool limit in dagster.yaml: the default limit is the alphavantage limit,
    # and must not throttle a pool added later without anyone deciding so.
    assert pools == {"alphavantage"}


def test_cluster_limits_are_the_local_instance_limits():
    chart = _load_yaml(DAGSTER_VALUES)["concurrency"]
    local = _load_yaml(ROOT / "dagster.yaml")["concurrency"]
    assert chart["runs"]["maxConcurrentRuns"] == local["runs"]["max_concurrent_runs"]
    assert chart["pools"]["defaultLimit"] == local["pools"]["default_limit"]
    assert chart["pools"]["granularity"] == local["pools"]["granularity"]


def test_run_pod_overrides_are_valid_kubernetes():
    launcher = _load_yaml(DAGSTER_VALUES)["runLauncher"]["config"]["k8sRunLauncher"]
    raw = launcher["runK8sConfig"]
    image = f"{_user_deployment()['image']['repository']}:{_user_deployment()['image']['tag']}"
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "run", **raw.get("jobMetadata", {})},
        "spec": {
            **raw.get("jobSpecConfig", {}),
            "template": {
                "metadata": raw.get("podTemplateSpecMetadata", {}),
                "spec": {
                    **raw.get("podSpecConfig", {}),
                    "restartPolicy": "Never",
                    "containers": [
                        {"name": "dagster", "image": image, **raw.get("containerConfig", {})}
                    ],
                },
            },
        },
    }
    for kubernetes in KUBERNETES_VERSIONS:
        kubernetes_validate.validate(job, kubernetes, strict=True)
    security = raw["podSpecConfig"]["securityContext"]
    assert security["runAsNonRoot"] is True
    assert str(security["runAsUser"]) == _dockerfile_user()


def _dagster_schema_registry() -> tuple[dict[str, Any], Registry]:
    """The chart's schema, with the Kubernetes definitions it links to served from
    kubernetes-validate's copy (the chart names yannh's files, keyed "#/definitions/...")."""
    text = DAGSTER_SCHEMA.read_text()
    definitions_file = (
        Path(kubernetes_validate.__file__).parent
        / "kubernetes-json-schema"
        / f"v{KUBERNETES_VERSIONS[0]}-local"
        / "_definitions.json"
    )
    bundled = json.loads(definitions_file.read_text())["$defs"]
    kubernetes = Resource.from_contents(
        {"$defs": bundled, "definitions": bundled}, default_specification=DRAFT202012
    )
    linked = set(re.findall(r'"(https://[^"#]+_definitions\.json)#', text))
    assert linked, "the chart's schema links no Kubernetes definitions: has its layout changed?"
    registry = Registry().with_resources((url, kubernetes) for url in linked)
    return json.loads(text), registry


def _without_required(schema: Any) -> Any:
    """An override file is partial: Helm checks `required` on the merged values at install."""
    if isinstance(schema, dict):
        return {k: _without_required(v) for k, v in schema.items() if k != "required"}
    if isinstance(schema, list):
        return [_without_required(v) for v in schema]
    return schema


def test_dagster_values_match_the_official_chart_schema():
    schema, registry = _dagster_schema_registry()
    validator = jsonschema.Draft202012Validator(_without_required(schema), registry=registry)
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(_load_yaml(DAGSTER_VALUES))
    ]
    assert not errors, "\n".join(errors)


def _unknown_keys(value: Any, schema: Any, resolver, path: str) -> list[str]:
    """Keys of `value` that no branch of `schema` defines, followed through $ref and anyOf into
    the Kubernetes definitions; free-form maps (env, labels, raw k8s config) accept any key."""
    branches = list(_branches(schema, resolver))
    if isinstance(value, dict):
        found: list[str] = []
        for key, item in value.items():
            children = [c for b in branches for c in _children(b, key)]
            if not children:
                found.append(f"{path}{key}")
            else:
                found += _unknown_keys(item, {"anyOf": children}, resolver, f"{path}{key}.")
        return found
    if isinstance(value, list):
        items = [(b["items"], r) for b, r in branches if isinstance(b.get("items"), dict)]
        return [
            key
            for index, item in enumerate(value)
            for key in _unknown_keys(item, {"anyOf": items}, resolver, f"{path}{index}.")
        ]
    return []


def _branches(schema: Any, resolver):
    """(schema, resolver) for `schema` and every schema it stands for via $ref or anyOf/oneOf."""
    if isinstance(schema, tuple):
        schema, resolver = schema
    if schema is True:
        yield {"additionalProperties": True}, resolver
        return
    if not isinstance(schema, dict):
        return
    yield schema, resolver
    if "$ref" in schema:
        resolved = resolver.lookup(schema["$ref"])
        yield from _branches(resolved.contents, resolved.resolver)
    for combinator in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(combinator, []):
            yield from _branches(branch, resolver)


def _children(branch: tuple[dict, Any], key: str) -> list[tuple[Any, Any]]:
    schema, resolver = branch
    properties = schema.get("properties") or {}
    if key in properties:
        return [(properties[key], resolver)]
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        return [(extra, resolver)]
    # A map with no named keys (raw Kubernetes config, additionalInstanceConfig) takes any key;
    # a schema that names keys or defers to a $ref does not.
    if extra is True and not properties and "$ref" not in schema:
        return [(True, resolver)]
    return []


def test_dagster_values_use_only_keys_the_chart_defines():
    schema, registry = _dagster_schema_registry()
    resolver = registry.resolver_with_root(Resource.from_contents(schema, DRAFT202012))
    top_level = set(schema["properties"])
    values = _load_yaml(DAGSTER_VALUES)
    assert not values.keys() - top_level, f"not chart keys: {values.keys() - top_level}"
    unknown = _unknown_keys(values, schema, resolver, "")
    assert not unknown, f"helm/values.yaml sets keys the Dagster chart does not define: {unknown}"


def test_key_check_catches_a_misspelt_key():
    schema, registry = _dagster_schema_registry()
    resolver = registry.resolver_with_root(Resource.from_contents(schema, DRAFT202012))
    values = _load_yaml(DAGSTER_VALUES)
    values["dagster-user-deployments"]["deployments"][0]["securityContext"]["runAsNonroot"] = True
    values["concurrency"]["pools"]["limit"] = 1
    unknown = _unknown_keys(values, schema, resolver, "")
    assert unknown == [
        "dagster-user-deployments.deployments.0.securityContext.runAsNonroot",
        "concurrency.pools.limit",
    ]
