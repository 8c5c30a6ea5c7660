"""Checking envelopes against docs/asyncapi.yaml the way a subscriber in another language would:
plain JSON Schema (draft 07) on each message's payload, with formats checked.

asyncapi-2.6.0.schema.json beside this file is the official AsyncAPI 2.6.0 JSON Schema, unchanged
(`schemas/2.6.0-without-$id.json` of the npm package @asyncapi/specs 6.11.1, Apache-2.0): no Python
package ships it, and the tests run offline."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

import yaml
from jsonschema import Draft7Validator, FormatChecker  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "asyncapi.yaml"
SPEC = Path(__file__).with_name("asyncapi-2.6.0.schema.json")


# jsonschema checks `date-time` only with an optional package; this is the form the envelopes promise
# (ISO 8601 with an offset), so it is checked here.
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _instant(value: object) -> bool:
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


def load_document(path: Path = DOCUMENT) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def spec_problems(document: dict[str, Any]) -> list[str]:
    """Where the document breaks the AsyncAPI 2.6.0 schema."""
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in Draft7Validator(spec).iter_errors(document)]


class Payloads:
    """A validator per message of a document: its payload schema, resolving the document's components."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.types = set(document["components"]["messages"])
        self._validators: dict[str, Draft7Validator] = {}

    def validator(self, event_type: str) -> Draft7Validator:
        if event_type in self._validators:
            return self._validators[event_type]
        # The document itself is the root, so `#/components/...` resolves; in draft 07 a `$ref` overrides
        # its siblings, so only the message's payload applies.
        root = {"$ref": f"#/components/messages/{event_type}/payload", "components": self.document["components"]}
        self._validators[event_type] = Draft7Validator(root, format_checker=FORMATS)
        return self._validators[event_type]

    def problems(self, envelope: dict[str, Any]) -> list[str]:
        name = envelope.get("type")
        where = f"{name}@{envelope.get('source')}:{envelope.get('position')}"
        if name not in self.types:
            return [f"{where}: no message {name!r} in docs/asyncapi.yaml"]
        return [f"{where} {'/'.join(map(str, e.absolute_path))}: {e.message}"
                for e in self.validator(str(name)).iter_errors(envelope)]


def envelope_problems(envelopes: Iterable[dict[str, Any]], document: dict[str, Any] | None = None) -> list[str]:
    """Every way the envelopes differ from their messages in docs/asyncapi.yaml (none: all valid)."""
    payloads = Payloads(document or load_document())
    return [problem for envelope in envelopes for problem in payloads.problems(envelope)]
