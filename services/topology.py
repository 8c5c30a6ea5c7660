"""The system's topology: the one list of services. The start script, the CLI, the test harness,
the docs generator and the docs and contract tests all read it; a new service is added here and
nowhere else outside its own package (docs/architecture.md, "Adding a service")."""
from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI reads SERVICES on every call: keep this module light
    from shared.definition import ServiceDefinition

SERVICES: tuple[str, ...] = ("application", "review", "scoring", "subsidy", "audit")


def definition(name: str) -> "ServiceDefinition":  # type: ignore[type-arg]
    module = importlib.import_module(f"services.{name}.definition")
    found: ServiceDefinition = module.DEFINITION  # type: ignore[type-arg]
    return found


def definitions() -> "list[ServiceDefinition]":  # type: ignore[type-arg]
    return [definition(name) for name in SERVICES]


def nameko_target(name: str) -> str:
    """What `nameko run` takes for the service."""
    return f"services.{name}.service:Service"


if __name__ == "__main__":  # `python -m services.topology` prints the services, for scripts/start
    print(" ".join(sys.argv[1:] and [nameko_target(n) for n in SERVICES] or SERVICES))
