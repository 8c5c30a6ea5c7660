"""docs/asyncapi.yaml, the AsyncAPI 2.6.0 document a subscriber in any language generates its client
from: it is what tools/gen_asyncapi.py writes now, it is a valid AsyncAPI 2.6.0 document whose
references all resolve, and every event a whole campaign publishes in all five services (the
scripted run docs/events.md takes its examples from) is a valid message of it."""
from __future__ import annotations

import sys
from typing import Any

import pytest

from services.topology import definitions
from tests.support.asyncapi import DOCUMENT, ROOT, envelope_problems, load_document, spec_problems

sys.path.insert(0, str(ROOT / "tools"))
import gen_asyncapi  # noqa: E402
import gen_event_docs  # noqa: E402

REGENERATE = "run `.venv/bin/python tools/gen_asyncapi.py` (after tools/gen_event_docs.py, if the events changed)"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return load_document()


def test_the_checked_in_document_is_what_the_generator_writes_now():
    assert DOCUMENT.read_text(encoding="utf-8") == gen_asyncapi.render(gen_asyncapi.document()), \
        f"docs/asyncapi.yaml is not what the contracts say now: {REGENERATE}"


def test_the_document_is_asyncapi_2_6_with_a_channel_per_exchange_and_a_message_per_type(document):
    assert spec_problems(document) == []
    contracts = {d.name: {p.name: p.version for p in d.contract.types()} for d in definitions()}
    assert set(document["channels"]) == {f"{source}.events" for source in contracts}
    messages = document["components"]["messages"]
    for source, types in contracts.items():
        channel = document["channels"][f"{source}.events"]
        assert channel["bindings"]["amqp"]["exchange"] | {"name": None} == {
            "name": None, "type": "topic", "durable": True, "autoDelete": False}
        refs = [m["$ref"] for m in channel["subscribe"]["message"]["oneOf"]]
        assert refs == [f"#/components/messages/{name}" for name in sorted(types)]
        for name, version in types.items():
            payload = messages[name]["payload"]["allOf"][1]["properties"]
            assert (payload["type"], payload["schema_version"], payload["source"]) == (
                {"const": name}, {"const": version}, {"const": source})
    assert set(messages) == {name for types in contracts.values() for name in types}
    assert unresolved(document, document) == []


def unresolved(node: Any, document: dict[str, Any]) -> list[str]:
    """Every local `$ref` that names nothing (the AsyncAPI schema does not check them)."""
    if isinstance(node, list):
        return [r for item in node for r in unresolved(item, document)]
    if not isinstance(node, dict):
        return []
    found = [r for value in node.values() for r in unresolved(value, document)]
    ref = node.get("$ref")
    if isinstance(ref, str):
        target: Any = document
        for part in ref.removeprefix("#/").split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        if target is None:
            found.append(ref)
    return found


def test_each_example_is_a_valid_message_and_a_wrong_payload_is_not(document):
    examples = [m["examples"][0]["payload"] for m in document["components"]["messages"].values()]
    assert envelope_problems(examples, document) == []
    fraud = document["components"]["messages"]["audit.fraud_found"]["examples"][0]["payload"]
    broken = fraud | {"schema_version": 9, "occurred_at": "2019-06-01 09:00",
                      "data": fraud["data"] | {"uscc": "9113010200000001xk", "surprise": 1}}
    problems = " ".join(envelope_problems([broken], document))
    for named in ("schema_version", "occurred_at", "data/uscc", "surprise"):
        assert named in problems


def test_every_event_a_whole_campaign_publishes_is_a_valid_message(document):
    """All five services in-process, one campaign from accounts to reclaim (docs/events.md's run):
    each log read as a subscriber reads it, every envelope checked against docs/asyncapi.yaml."""
    _, everything = gen_event_docs.examples()
    problems = envelope_problems(everything, document)
    assert problems == [], "\n".join(problems[:20]) + f"\n{REGENERATE}"
    never = sorted(set(document["components"]["messages"]) - {e["type"] for e in everything})
    assert never == [], f"documented but never published by the run (extend tools/gen_event_docs.py's run): {never}"
