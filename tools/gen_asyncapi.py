"""Regenerate docs/asyncapi.yaml: an AsyncAPI 2.6.0 document of every public event, for generating
a subscriber in any language (AsyncAPI generators, or any JSON Schema tool on the payloads).

    .venv/bin/python tools/gen_asyncapi.py

It says what docs/events.md says, from the same sources: the same enumeration of event types
(`services/topology.definitions()` and each contract's types), the same documented `data` fields
(`gen_event_docs.data_fields`: the event schema, with ENRICHED where the schema leaves a field bare),
the same shapes (`gen_event_docs.SHAPES`, here `components/schemas`) and the same examples (read back
from docs/events.md, so regenerate that page first). Each marshmallow field becomes JSON Schema
(draft 07, as AsyncAPI 2.6 uses): types, formats, enums, bounds, patterns, nesting and `null`.
marshmallow-jsonschema 0.16 runs on marshmallow 4 but misses subclassed validators (`Pattern`), needs
a mapping on every custom field and emits non-standard keys; this walk is shorter than its fixes.
The output is sorted YAML: tests/unit/test_asyncapi.py compares it with what this writes now."""
from __future__ import annotations

import inspect
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml
from marshmallow import Schema, fields, validate
from marshmallow.utils import missing

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

import gen_event_docs as page  # noqa: E402  (its enumeration, shapes and field helpers)

from services.topology import definitions  # noqa: E402
from shared.contract import EnvelopeSchema  # noqa: E402
from shared.fields import CreditCode, IsoDate, Money  # noqa: E402
from shared.relay import events_exchange  # noqa: E402

OUTPUT = ROOT / "docs" / "asyncapi.yaml"
AMQP_BINDINGS = "0.2.0"
# GB 32100: 18 characters of this alphabet (no I, O, S, V, Z); the check digit is verified on input.
CREDIT_CODE = r"^[0-9A-HJ-NP-RTUWXY]{18}$"


# ====================================================================== marshmallow -> JSON Schema
class Converter:
    """Turns marshmallow fields into JSON Schema; a nested schema becomes a component, once."""

    def __init__(self) -> None:
        self.components: dict[str, dict[str, Any]] = {}
        self._names: dict[type[Schema], str] = {}
        self.texts = {schema: text for _, schema, text in page.SHAPES}

    def component_name(self, schema: type[Schema]) -> str:
        name = page.SHAPE_NAMES.get(schema)
        return re.sub(r"[^a-z0-9]+", "_", name) if name else schema.__name__

    def ref(self, schema: type[Schema]) -> dict[str, Any]:
        name = self.component_name(schema)
        if schema not in self._names:
            if name in self.components:
                raise SystemExit(f"two shapes would be the component {name}: rename one")
            self._names[schema] = name
            self.components[name] = {}  # claimed before walking, so a recursive shape ends
            self.components[name] = self.object_of(
                {n: f for n, f in schema._declared_fields.items()}, self.texts.get(schema) or doc_of(schema))
        return {"$ref": f"#/components/schemas/{name}"}

    def object_of(self, declared: dict[str, fields.Field], description: str = "") -> dict[str, Any]:
        """An object of exactly these fields; those always present are required."""
        out: dict[str, Any] = {"type": "object", "additionalProperties": False}
        if description:
            out["description"] = description
        properties, required, conditions = {}, [], []
        for name, field in declared.items():
            if field.load_only:
                continue  # an input never stored (a password, a file's content)
            properties[name] = self.field(field)
            if field.required or field.load_default is not missing:
                required.append(name)
            if isinstance(field, page.Variant):
                # The value's shape depends on a sibling: one condition per value of the sibling.
                for value, shape in sorted(field.shapes.items()):
                    conditions.append({"if": {"properties": {field.key: {"const": value}}, "required": [field.key]},
                                       "then": {"properties": {name: self.ref(shape)}}})
        out["properties"] = properties
        if required:
            out["required"] = sorted(required)
        if conditions:
            out["allOf"] = conditions
        return out

    def field(self, field: fields.Field) -> dict[str, Any]:
        out = self.base(field)
        for v in field.validators:
            self.constrain(out, field, v)
        notes = [field.metadata.get("note", "")]
        if field.metadata.get("null"):
            notes.append(f"null: {field.metadata['null']}")
        notes += out.pop("_notes", [])
        if any(notes):
            out["description"] = "; ".join(n for n in notes if n)
        return nullable(out) if field.allow_none else out

    def base(self, field: fields.Field) -> dict[str, Any]:
        if isinstance(field, page.Variant):
            return {"anyOf": [self.ref(s) for _, s in sorted(field.shapes.items())],
                    "_notes": [f"the shape named by `{field.key}`"]}
        if isinstance(field, page.EmptyOr):
            return {"anyOf": [self.ref(page.nested_schema(field)), {"type": "object", "maxProperties": 0}]}
        if isinstance(field, Money):
            return {"type": "string", "pattern": r"^[0-9]{1,12}\.[0-9]{2}$", "_notes": ["yuan, two decimals"]}
        if isinstance(field, IsoDate) or (isinstance(field, fields.Date) and not isinstance(field, fields.DateTime)):
            return {"type": "string", "format": "date", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
        if isinstance(field, fields.DateTime):
            return {"type": "string", "format": "date-time"}
        if isinstance(field, CreditCode):
            return {"type": "string", "pattern": CREDIT_CODE, "_notes": ["unified social credit code (GB 32100)"]}
        if isinstance(field, fields.UUID):
            return {"type": "string", "format": "uuid"}
        if isinstance(field, fields.Email):
            return {"type": "string", "format": "email"}
        if isinstance(field, fields.Decimal):
            return {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"} if field.as_string else {"type": "number"}
        if isinstance(field, fields.Boolean):
            return {"type": "boolean"}
        if isinstance(field, fields.Integer):
            return {"type": "integer"}
        if isinstance(field, fields.Number):
            return {"type": "number"}
        if isinstance(field, fields.String):
            return {"type": "string"}
        if isinstance(field, fields.List):
            return {"type": "array", "items": self.field(field.inner)}
        if isinstance(field, fields.Nested):
            one = self.ref(page.nested_schema(field))
            return {"type": "array", "items": one} if field.many else one
        if isinstance(field, fields.Dict):
            out: dict[str, Any] = {"type": "object"}
            if field.key_field is not None and field.key_field.validators:
                out["propertyNames"] = self.field(field.key_field)
            if field.value_field is not None:
                out["additionalProperties"] = self.field(field.value_field)
            if field.metadata.get("key"):
                out["_notes"] = [f"keys: {field.metadata['key']}"]
            return out
        return {}  # any JSON value

    def constrain(self, out: dict[str, Any], field: fields.Field, v: Any) -> None:
        items = isinstance(field, (fields.List, fields.Nested)) and out.get("type") == "array"
        if isinstance(v, validate.OneOf):
            out["enum"] = list(v.choices)
        elif isinstance(v, validate.Equal):
            out["const"] = v.comparable
        elif isinstance(v, validate.Range):
            if v.min is not None:
                out["minimum" if v.min_inclusive else "exclusiveMinimum"] = v.min
            if v.max is not None:
                out["maximum" if v.max_inclusive else "exclusiveMaximum"] = v.max
        elif isinstance(v, validate.Length):
            low, high = ("minItems", "maxItems") if items else (
                ("minProperties", "maxProperties") if isinstance(field, fields.Dict) else ("minLength", "maxLength"))
            if v.equal is not None:
                out[low] = out[high] = v.equal
            if v.min is not None:
                out[low] = v.min
            if v.max is not None:
                out[high] = v.max
        elif isinstance(v, validate.Regexp):
            pattern = v.regex.pattern
            add_pattern(out, pattern if isinstance(pattern, str) else pattern.decode())
        elif isinstance(v, validate.Email):
            out["format"] = "email"
        elif getattr(v, "__name__", "") == "not_blank":
            add_pattern(out, r"\S")  # not only spaces
        else:  # a check written as a function: in words, as docs/events.md gives it
            out.setdefault("_notes", []).append(page.bounds(v, "items" if items else "text"))


def add_pattern(out: dict[str, Any], pattern: str) -> None:
    if "pattern" not in out:
        out["pattern"] = pattern
    elif out["pattern"] != pattern:
        out.setdefault("allOf", []).append({"pattern": pattern})


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if isinstance(schema.get("type"), str) and "$ref" not in schema and "anyOf" not in schema:
        schema = {**schema, "type": [schema["type"], "null"]}
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
        if "const" in schema:
            schema["enum"] = [schema.pop("const"), None]
        return schema
    description = schema.pop("description", None)
    out: dict[str, Any] = {"anyOf": [schema, {"type": "null"}]}
    return out | ({"description": description} if description else {})


def doc_of(schema: type[Schema]) -> str:
    return inspect.cleandoc(schema.__doc__ or "")


# ====================================================================== the document
def examples() -> dict[str, dict[str, Any]]:
    """The example of each type as docs/events.md shows it."""
    text = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    found = {}
    for section in re.split(r"^(?=### `)", text, flags=re.M)[1:]:
        name = re.match(r"### `([a-z_]+\.[a-z_.]+)` \(schema_version \d+\)", section)
        block = re.search(r"^```json\n(.*?)\n```$", section, flags=re.M | re.S)
        if name and block:
            found[name.group(1)] = json.loads(block.group(1))
    return found


def envelope(convert: Converter) -> dict[str, Any]:
    declared = dict(EnvelopeSchema._declared_fields)
    declared["actor"] = page.always(fields.Nested(page.ActorShape))
    declared["occurred_at"] = page.always(fields.AwareDateTime())
    declared["event_id"] = page.always(fields.UUID())
    declared["application_id"] = page.always(fields.String(allow_none=True))
    declared["data"] = page.always(fields.Dict())
    schema = convert.object_of(declared, "What every published message and every get_notifications item looks like.")
    meanings = page.ENVELOPE_MEANING | {  # the page's words, where they point elsewhere on the page
        "event_id": "the event's id, a UUID (version 5) from the installation, source, aggregate_id and aggregate_version: "
                    "the same on every republish; also the AMQP message_id",
        "data": "the event's own fields: the message's schema"}
    for name, meaning in meanings.items():
        schema["properties"][name]["description"] = meaning.replace("`", "")
    return schema


def message(convert: Converter, source: str, public: Any, example: dict[str, Any]) -> dict[str, Any]:
    text = doc_of(public.schema)
    data = convert.object_of(page.data_fields(public))
    payload = {"allOf": [{"$ref": "#/components/schemas/envelope"},
                         {"type": "object", "properties": {
                             "type": {"const": public.name}, "schema_version": {"const": public.version},
                             "source": {"const": source}, "data": data}}]}
    out: dict[str, Any] = {
        "name": public.name, "title": f"{public.name} (schema_version {public.version})",
        "contentType": "application/json", "payload": payload,
        "bindings": {"amqp": {"contentEncoding": "utf-8", "messageType": public.name, "bindingVersion": AMQP_BINDINGS}},
        "examples": [{"name": "docs/events.md", "payload": example}],
        "x-schema-version": public.version,
    }
    if text:
        out["summary"] = text.split("\n\n")[0].replace("\n", " ")
        out["description"] = text
    return out


def document() -> dict[str, Any]:
    convert = Converter()
    convert.components["envelope"] = envelope(convert)
    shown = examples()
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for definition in definitions():
        source, types = definition.name, definition.contract.types()
        exchange = events_exchange(source)
        for public in types:
            if public.name not in shown:
                raise SystemExit(f"docs/events.md has no example of {public.name}: run tools/gen_event_docs.py first")
            messages[public.name] = message(convert, source, public, shown[public.name])
        names = sorted(p.name for p in types)
        channels[exchange.name] = {
            "description": f"The `{source}` service's events: a topic exchange, routing key = the event's `type`. "
                           "Bind your own durable queue with `#` or with the types you want.",
            "bindings": {"amqp": {"is": "routingKey", "bindingVersion": AMQP_BINDINGS,
                                  "exchange": {"name": exchange.name, "type": exchange.type,
                                               "durable": exchange.durable, "autoDelete": exchange.auto_delete}}},
            "subscribe": {
                "operationId": f"{source}_events", "summary": f"Every public event of the {source} service.",
                "bindings": {"amqp": {"deliveryMode": exchange.delivery_mode, "cc": names, "ack": True,
                                      "bindingVersion": AMQP_BINDINGS}},
                "message": {"oneOf": [{"$ref": f"#/components/messages/{n}"} for n in names]},
            },
        }
    return {
        "asyncapi": "2.6.0",
        "id": "urn:hbcloud:events",
        "info": {
            "title": "Hebei enterprise cloud-adoption benchmark: public events",
            "version": "1.0.0",
            "description": "Generated by tools/gen_asyncapi.py from the services' contracts (services/*/events.py); "
                           "do not edit by hand. docs/events.md explains delivery, the envelope and how to catch up "
                           "with get_notifications; the AMQP message_id of each message is the envelope's event_id, "
                           "and the same message may arrive twice. Anyone who may publish to the exchange can send a "
                           "body that validates against this document: take a message only as a prompt, and record "
                           "what get_notifications answers for that position (deduplicating a message body by position "
                           "would let a forged one that arrives first shadow the real event).",
        },
        "defaultContentType": "application/json",
        "servers": {"broker": {
            "url": "{host}:{port}", "protocol": "amqp", "protocolVersion": "0.9.1",
            "description": "The RabbitMQ broker of the installation (its AMQP_URI, with the virtual host configured there).",
            "variables": {"host": {"default": "127.0.0.1"}, "port": {"default": "5672"}},
            "security": [{"amqp_credentials": []}],
        }},
        "channels": channels,
        "components": {
            "schemas": convert.components,
            "messages": messages,
            "securitySchemes": {"amqp_credentials": {
                "type": "userPassword", "description": "A broker account allowed to bind queues to the exchanges."}},
        },
    }


def render(doc: dict[str, Any]) -> str:
    return ("# Generated by tools/gen_asyncapi.py from services/*/events.py and docs/events.md: do not edit.\n"
            + yaml.safe_dump(doc, sort_keys=True, allow_unicode=True, width=120, default_flow_style=False))


def main() -> None:
    doc = document()
    OUTPUT.write_text(render(doc), encoding="utf-8")
    print(f"docs/asyncapi.yaml: {len(doc['components']['messages'])} messages on {len(doc['channels'])} channels")


if __name__ == "__main__":
    main()
