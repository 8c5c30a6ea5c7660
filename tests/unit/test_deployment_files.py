"""The deployment files point at code that exists: every compose service runs an importable
module, every service database is created, the image copies what the services import."""
from __future__ import annotations

import importlib
from pathlib import Path

import yaml

from services.topology import SERVICES, nameko_target

ROOT = Path(__file__).resolve().parents[2]


def test_every_compose_service_runs_a_module_that_exists():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    ours = {name: s for name, s in compose["services"].items() if s.get("image") == "hbcloud:latest"}
    assert {*SERVICES, "bootstrap"} <= set(ours)
    for name in SERVICES:
        assert ours[name]["command"][-1] == nameko_target(name), name
    for name, service in ours.items():
        command = service["command"]
        target = command[-1] if command[0] == "nameko" else command[2]
        module, _, cls = target.partition(":")
        imported = importlib.import_module(module)
        assert not cls or hasattr(imported, cls), target
        assert "HBCLOUD_TOKEN_SECRET" in service["environment"], name


def test_every_service_has_its_database():
    sql = (ROOT / "deploy" / "postgres-init.sql").read_text()
    for service in ("application", "review", "scoring", "subsidy", "audit"):
        assert f"CREATE DATABASE hbcloud_{service};" in sql


def test_the_image_copies_every_top_level_package_the_services_import():
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in ("shared/", "services/", "cli/", "config/", "campaigns/"):
        assert f"COPY {package} {package}" in dockerfile
