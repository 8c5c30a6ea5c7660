"""The deployment files point at code that exists and are a valid compose file: every compose service
runs an importable module with a health check and a restart policy, every service database is
created, the image copies what the services import, and compose itself (`docker-compose config`,
offline) accepts the file with its secrets given and refuses it without any one of them."""
from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from services.topology import SERVICES, nameko_target

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
SECRETS = {"HBCLOUD_TOKEN_SECRET": "t" * 48, "HBCLOUD_PROVINCE_PASSWORD": "Province-2018",
           "POSTGRES_PASSWORD": "pg-dummy", "RABBITMQ_PASSWORD": "mq-dummy"}


def ours() -> dict[str, dict]:
    compose = yaml.safe_load(COMPOSE.read_text())
    return {name: s for name, s in compose["services"].items() if s.get("image", "").endswith("hbcloud:latest}")}


def test_every_compose_service_runs_a_module_that_exists():
    services = ours()
    assert {*SERVICES, "bootstrap"} <= set(services)
    for name in SERVICES:
        assert services[name]["command"][-1] == nameko_target(name), name
    for name, service in services.items():
        command = service["command"]
        target = command[-1] if command[0] == "nameko" else command[2]
        module, _, cls = target.partition(":")
        imported = importlib.import_module(module)
        assert not cls or hasattr(imported, cls), target
        assert "HBCLOUD_TOKEN_SECRET" in service["environment"], name


def test_every_service_checks_its_own_health_restarts_and_waits_for_the_bootstrap():
    services = ours()
    for name in SERVICES:
        service = services[name]
        assert "wait-ready" in service["healthcheck"]["test"], name
        assert service["environment"]["HBCLOUD_SERVICES"] == name  # wait-ready asks this service only
        assert service["restart"] == "unless-stopped", name
        assert service["depends_on"]["bootstrap"] == {"condition": "service_completed_successfully"}, name
        assert service["environment"]["HBCLOUD_QUORUM_QUEUES"].startswith("${HBCLOUD_QUORUM_QUEUES:-1"), name
    assert services["bootstrap"]["restart"] == "no"


def test_no_secret_has_a_default():
    text = COMPOSE.read_text()
    for secret in SECRETS:
        uses = re.findall(r"\$\{" + secret + r"(:?[-?]?)", text)
        assert uses and set(uses) == {":?"}, f"{secret} must be required (${{{secret}:?...}}) wherever it is used"


def test_every_service_has_its_database():
    sql = (ROOT / "deploy" / "postgres-init.sql").read_text()
    for service in SERVICES:
        assert f"CREATE DATABASE hbcloud_{service};" in sql


def test_the_image_copies_every_top_level_package_the_services_import():
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in ("shared/", "services/", "cli/", "config/", "campaigns/"):
        assert f"COPY {package} {package}" in dockerfile


def test_every_image_builds_on_a_base_the_operator_chooses():
    for dockerfile in (ROOT / "Dockerfile", ROOT / "deploy" / "rabbitmq" / "Dockerfile", ROOT / "deploy" / "postgres" / "Dockerfile"):
        text = dockerfile.read_text()
        assert "ARG BASE_IMAGE=debian:bookworm-slim" in text and "FROM ${BASE_IMAGE}" in text, dockerfile


def compose_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    if not shutil.which("docker-compose"):
        if os.environ.get("CI") == "true":
            pytest.fail("docker-compose is missing: scripts/test installs Debian's package")
        pytest.skip("docker-compose is not installed (scripts/test installs it)")
    clean = {k: v for k, v in os.environ.items() if k not in SECRETS and not k.startswith(("HBCLOUD_", "DOCKER_"))}
    return subprocess.run(["docker-compose", "-f", str(COMPOSE), "config", "-q"], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=60)


def test_compose_accepts_the_file_with_its_secrets_given():
    done = compose_config(SECRETS)
    assert done.returncode == 0, done.stderr


def test_compose_refuses_to_run_without_its_secrets():
    done = compose_config({})
    assert done.returncode != 0 and re.search(r"set (" + "|".join(SECRETS) + ")", done.stderr), done.stderr
