"""The docs stay true: every public event type is documented with an example whose data has the
schema's fields, and every RPC of every service is documented."""
from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import pytest

from services.application import domain as application_domain
from services.application.events import contract as application_contract
from services.review import domain as review_domain
from services.review.events import contract as review_contract
from services.review.service import ReviewRpc
from nameko.rpc import Rpc

from services.application.service import ApplicationRpc

ROOT = Path(__file__).resolve().parents[2]


SERVICES = [(application_domain, application_contract, ApplicationRpc), (review_domain, review_contract, ReviewRpc)]


@pytest.mark.parametrize("domain,contract,_rpc", SERVICES)
def test_every_domain_event_class_has_a_public_type(domain, contract, _rpc):
    event_classes = {
        member for _, aggregate in inspect.getmembers(domain, inspect.isclass) if issubclass(aggregate, domain.Entity)
        for _, member in inspect.getmembers(aggregate, inspect.isclass) if issubclass(member, domain.Aggregate.Event)
        and member.__qualname__.startswith(aggregate.__name__ + ".") and member.__name__ != "Created" and not member.__name__.endswith("Event")  # bases, not facts
    }
    assert event_classes and event_classes <= contract.registered_classes()


@pytest.mark.parametrize("_domain,contract,_rpc", SERVICES)
def test_every_public_event_is_documented_with_an_example_of_its_shape(_domain, contract, _rpc):
    text = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    for public in contract.types():
        section = text.split(f"### `{public.name}`", 1)
        assert len(section) == 2, f"{public.name} is not in docs/events.md (run tools/gen_event_docs.py)"
        example = json.loads(re.search(r"```json\n(.*?)\n```", section[1], re.S).group(1))
        assert example["type"] == public.name
        assert set(example["data"]) == set(public.schema().fields), public.name


@pytest.mark.parametrize("_domain,_contract,service", SERVICES)
def test_every_rpc_is_documented(_domain, _contract, service):
    text = (ROOT / "docs" / "rpc.md").read_text(encoding="utf-8")
    section = text.split(f"## `{service.name}` service", 1)[1].split("\n## `", 1)[0]
    documented = set(re.findall(r"`(\w+)\(", section))
    rpcs = {name for name, fn in inspect.getmembers(service, inspect.isfunction)
            if any(isinstance(e, Rpc) for e in getattr(fn, "nameko_entrypoints", ()))}
    assert rpcs
    assert rpcs - documented == set()
