"""The Helm chart (helm/assetlink): rendered with Helm's own Go SDK (helm-python-sdk, no helm
binary), every manifest checked against the Kubernetes schemas offline (kubernetes-validate),
linted, and its refusals: SQLite with more than one process, values its schema forbids."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

CHART = Path(__file__).resolve().parents[2] / "helm" / "assetlink"
# The oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and the newest schemas here.
KUBE_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
DIGEST = "sha256:" + "ab" * 32
TMP = "/tmp"  # noqa: S108 (the pods' writable folder, an emptyDir)

PRODUCTION: dict[str, Any] = {
    "image": {"repository": "registry.example.org/assetlink", "digest": DIGEST},
    "secrets": {"existingSecret": "assetlink-prod"},
    "config": {
        "ASSETLINK_ENVIRONMENT": "production",
        "ASSETLINK_DATABASE_POOL_SIZE": 5,
        "ASSETLINK_JWT_ISSUER": "https://login.example.org",
        "ASSETLINK_PUBLIC_BASE_URL": "https://assetlink.example.org",
        "ASSETLINK_MATCH_WARMUP": True,
    },
    "autoscaling": {"enabled": True, "minReplicas": 3, "maxReplicas": 10},
    "worker": {"replicas": 2, "concurrency": 16},
    "networkPolicy": {
        "apiFrom": [
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress"}}}
        ],
        "metricsFrom": [
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
        ],
        "egress": [
            {"to": [{"ipBlock": {"cidr": "10.20.0.0/24"}}], "ports": [{"port": 5432}]},
            {"ports": [{"port": 443}]},
        ],
    },
    "metrics": {"serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}}},
    "api": {
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": {"app.kubernetes.io/component": "api"}},
            }
        ]
    },
}
SQLITE: dict[str, Any] = {
    "database": {"engine": "sqlite"},
    "api": {"replicas": 1},
    "autoscaling": {"enabled": False},
    "worker": {"replicas": 0},
}
CASES = {"default": {}, "production": PRODUCTION, "sqlite": SQLITE}


def render(values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The manifests an install with these values would apply (NOTES.txt left out)."""
    with helm.Chart.load(CHART) as chart:
        files = chart.render(values or {}, name="demo", namespace="care", is_install=True)
    return [
        document
        for name, text in sorted(files.items())
        if name.endswith(".yaml")
        for document in yaml.safe_load_all(text)
        if document
    ]


def by_kind(manifests: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [m for m in manifests if m["kind"] == kind]


def one(manifests: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    [found] = [m for m in by_kind(manifests, kind) if m["metadata"]["name"] == name]
    return found


def pod_specs(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["spec"]["template"]["spec"] for m in manifests if m["kind"] in ("Deployment", "Job")]


def merged(*layers: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for layer in layers:
        result = _merge(result, layer)
    return result


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


@pytest.mark.parametrize("values", [{}, PRODUCTION, SQLITE], ids=list(CASES))
def test_the_chart_lints_clean(values: dict[str, Any]) -> None:
    report = helm.lint(CHART, values, strict=True)

    assert report["errors"] == []
    # Only the informational "icon is recommended": no warning, no error.
    assert [m for m in report["messages"] if m["severity"] > 1] == []


@pytest.mark.parametrize("case", list(CASES))
def test_every_manifest_matches_the_kubernetes_schemas(case: str) -> None:
    manifests = render(CASES[case])
    checked = []
    for manifest in manifests:
        if manifest["apiVersion"].startswith("monitoring.coreos.com/"):
            continue  # a CRD: no schema of it here (test_the_service_monitor_scrapes_both)
        for version in KUBE_VERSIONS:
            kubernetes_validate.validate(manifest, version, strict=True)
        checked.append(manifest["kind"])

    assert {"ConfigMap", "Deployment", "Service", "NetworkPolicy"} <= set(checked)


def test_the_default_release_runs_the_api_the_worker_and_the_migrations() -> None:
    manifests = render()

    assert sorted((m["kind"], m["metadata"]["name"]) for m in manifests) == [
        ("ConfigMap", "demo-assetlink"),
        ("Deployment", "demo-assetlink-api"),
        ("Deployment", "demo-assetlink-worker"),
        ("HorizontalPodAutoscaler", "demo-assetlink-api"),
        ("Job", "demo-assetlink-migrate"),
        ("NetworkPolicy", "demo-assetlink-api"),
        ("NetworkPolicy", "demo-assetlink-worker"),
        ("PodDisruptionBudget", "demo-assetlink-api"),
        ("Service", "demo-assetlink"),
    ]


@pytest.mark.parametrize("case", list(CASES))
def test_every_pod_is_locked_down(case: str) -> None:
    specs = pod_specs(render(CASES[case]))

    assert specs
    for spec in specs:
        assert spec["automountServiceAccountToken"] is False
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert volumes["tmp"] == {"name": "tmp", "emptyDir": {}}
        for container in spec["containers"] + spec.get("initContainers", []):
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True
            assert security["allowPrivilegeEscalation"] is False
            assert security["capabilities"] == {"drop": ["ALL"]}
            assert {"name": "tmp", "mountPath": TMP} in container["volumeMounts"]
            assert set(container["resources"]) == {"requests", "limits"}
            assert container["args"][0] == "assetlink"


def test_the_api_is_probed_on_livez_and_readyz() -> None:
    [api] = one(render(), "Deployment", "demo-assetlink-api")["spec"]["template"]["spec"][
        "containers"
    ]

    listen = ["--host", "0.0.0.0", "--port", "8000"]  # noqa: S104 (the pod's own interfaces)
    assert api["args"] == ["assetlink", "serve", *listen]
    assert api["startupProbe"]["httpGet"] == {"path": "/livez", "port": "http"}
    assert api["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "http"}
    assert api["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    # /readyz waits up to ASSETLINK_DATABASE_TIMEOUT_S (5 s) for the database before its 503.
    assert api["readinessProbe"]["timeoutSeconds"] > 5
    assert api["lifecycle"]["preStop"] == {"sleep": {"seconds": 5}}


def test_the_workers_liveness_is_its_metrics_endpoint() -> None:
    worker = one(render(PRODUCTION), "Deployment", "demo-assetlink-worker")
    [container] = worker["spec"]["template"]["spec"]["containers"]

    assert worker["spec"]["replicas"] == 2
    assert container["args"] == [
        "assetlink",
        "worker",
        "--concurrency",
        "16",
        "--metrics-port",
        "9102",
    ]
    assert container["ports"] == [{"name": "metrics", "containerPort": 9102, "protocol": "TCP"}]
    assert container["livenessProbe"]["httpGet"] == {"path": "/metrics", "port": "metrics"}


def test_secrets_come_only_from_the_existing_secret() -> None:
    manifests = render(PRODUCTION)

    assert by_kind(manifests, "Secret") == []
    [config] = by_kind(manifests, "ConfigMap")
    secret = {"ASSETLINK_DATABASE_URL", "ASSETLINK_JWT_SECRET", "ASSETLINK_NOTIFY_API_KEY"}
    assert not secret & set(config["data"])
    assert config["data"]["ASSETLINK_MATCH_WARMUP"] == "true"
    for spec in pod_specs(manifests):
        [container] = spec["containers"]
        env = {e["name"]: e for e in container["env"]}
        for name in secret:
            assert env[name]["valueFrom"]["secretKeyRef"]["name"] == "assetlink-prod"
            assert "value" not in env[name]


def test_the_migrations_run_as_a_pre_install_and_pre_upgrade_hook() -> None:
    job = one(render(PRODUCTION), "Job", "demo-assetlink-migrate")
    [container] = job["spec"]["template"]["spec"]["containers"]

    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert container["args"] == ["assetlink", "migrate"]
    assert container["image"] == f"registry.example.org/assetlink@{DIGEST}"
    # A hook runs before the chart's ConfigMap exists: its settings are written into it.
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["ASSETLINK_JWT_ISSUER"] == "https://login.example.org"
    assert "envFrom" not in container

    switched_off = render(merged(PRODUCTION, {"migrations": {"enabled": False}}))
    assert by_kind(switched_off, "Job") == []


def test_the_hpa_owns_the_replica_count() -> None:
    manifests = render(PRODUCTION)
    api = one(manifests, "Deployment", "demo-assetlink-api")
    [hpa] = by_kind(manifests, "HorizontalPodAutoscaler")

    assert "replicas" not in api["spec"]
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 10)
    assert hpa["spec"]["scaleTargetRef"]["name"] == "demo-assetlink-api"

    fixed = render({"autoscaling": {"enabled": False}, "api": {"replicas": 4}})
    assert one(fixed, "Deployment", "demo-assetlink-api")["spec"]["replicas"] == 4
    assert by_kind(fixed, "HorizontalPodAutoscaler") == []
    assert len(by_kind(fixed, "PodDisruptionBudget")) == 1


def test_the_service_monitor_scrapes_both() -> None:
    manifests = render(PRODUCTION)
    [monitor] = by_kind(manifests, "ServiceMonitor")
    ports = {port["name"] for s in by_kind(manifests, "Service") for port in s["spec"]["ports"]}

    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert {e["port"] for e in monitor["spec"]["endpoints"]} == ports == {"http", "metrics"}
    assert by_kind(render(), "ServiceMonitor") == []


def test_network_policies_admit_the_listed_peers_and_restrict_egress_when_asked() -> None:
    manifests = render(PRODUCTION)
    api = one(manifests, "NetworkPolicy", "demo-assetlink-api")

    assert api["spec"]["ingress"] == [
        {
            "ports": [{"port": "http", "protocol": "TCP"}],
            "from": PRODUCTION["networkPolicy"]["apiFrom"],
        }
    ]
    assert api["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert api["spec"]["egress"][1:] == PRODUCTION["networkPolicy"]["egress"]

    default = one(render(), "NetworkPolicy", "demo-assetlink-api")
    assert default["spec"]["policyTypes"] == ["Ingress"]


def test_sqlite_runs_as_one_pod_that_migrates_itself() -> None:
    manifests = render(SQLITE)
    spec = one(manifests, "Deployment", "demo-assetlink-api")["spec"]

    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}
    [init] = spec["template"]["spec"]["initContainers"]
    assert init["args"] == ["assetlink", "migrate"]
    assert {m["mountPath"] for m in init["volumeMounts"]} == {TMP, "/var/lib/assetlink/var"}
    assert [m["kind"] for m in manifests if m["kind"] in ("Job", "PodDisruptionBudget")] == []
    claimed = render(merged(SQLITE, {"database": {"sqlite": {"existingClaim": "assetlink-db"}}}))
    volumes = one(claimed, "Deployment", "demo-assetlink-api")["spec"]["template"]["spec"][
        "volumes"
    ]
    assert {"name": "data", "persistentVolumeClaim": {"claimName": "assetlink-db"}} in volumes


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"database": {"engine": "sqlite"}}, "SQLite serves one process"),
        (merged(SQLITE, {"api": {"replicas": 2}}), "SQLite serves one process"),
        (
            merged(SQLITE, {"autoscaling": {"enabled": True, "minReplicas": 1}}),
            "SQLite serves one process",
        ),
        (merged(SQLITE, {"worker": {"replicas": 1}}), "set worker.replicas=0"),
        (
            {"autoscaling": {"minReplicas": 5, "maxReplicas": 3}},
            "autoscaling.minReplicas is above autoscaling.maxReplicas",
        ),
    ],
    ids=["defaults", "two-replicas", "hpa", "worker", "hpa-bounds"],
)
def test_the_chart_refuses_what_cannot_work(values: dict[str, Any], message: str) -> None:
    with pytest.raises(helm.HelmRenderError, match=message):
        render(values)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"database": {"engine": "mysql"}}, "/database/engine"),
        ({"config": {"ASSETLINK_DATABASE_URL": "postgresql://u:p@db/a"}}, "propertyName"),
        ({"config": {"ASSETLINK_JWT_SECRET": "x" * 40}}, "propertyName"),
        ({"config": {"ASSETLINK_NOTIFY_API_KEY": "k-" + "x" * 73}}, "propertyName"),
        ({"config": {"DATABASE_URL": "x"}}, "propertyName"),
        ({"config": {"ASSETLINK_CORS_ORIGINS": ["a"]}}, "/config/ASSETLINK_CORS_ORIGINS"),
        ({"api": {"replicas": 0}}, "/api/replicas"),
        ({"worker": {"replicas": -1}}, "/worker/replicas"),
        ({"image": {"digest": "latest"}}, "/image/digest"),
        ({"secrets": {"existingSecret": "Not_A_Name"}}, "/secrets/existingSecret"),
        ({"podSecurityContext": {"runAsNonRoot": False}}, "/podSecurityContext/runAsNonRoot"),
        (
            {"securityContext": {"allowPrivilegeEscalation": True}},
            "/securityContext/allowPrivilegeEscalation",
        ),
        ({"replicaCount": 3}, "replicaCount"),
    ],
)
def test_the_schema_refuses_bad_values(values: dict[str, Any], message: str) -> None:
    with helm.Chart.load(CHART) as chart, pytest.raises(helm.HelmValuesError, match=message):
        chart.validate_schema(values)
    with pytest.raises(helm.HelmValuesError):
        render(values)
