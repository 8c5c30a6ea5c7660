"""The contract every service passes, inherited by one small test class per service (as the
eventsourcing library ships recorder tests that every backend subclasses). A subclass names its
`definition` and a `running` fixture: the service in-process after a scenario that recorded events.

What it proves: every domain event is registered, documented with an example and readable by a
consumer; every RPC is documented; `get_notifications` pages the whole log exactly; a replay of the
log rebuilds the read models exactly; the role is checked before the input; bad input of any shape
gets a typed error; a rejected call records nothing."""
from __future__ import annotations

import importlib
import os
import inspect
import json
import re
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.domain import Aggregate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import Schema
from sqlalchemy import select

from shared.contract import read_envelope
from shared.definition import ANYONE, EVERY_ROLE, ServiceDefinition, rebuild_read_models
from shared.errors import Forbidden, InternalError, ServiceError
from shared.identity import Principal, Role
from shared.pipeline import Pipeline, all_operations
from shared.sessions import record_account

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("HBCLOUD_FUZZ_EXAMPLES", "100"))  # per operation, the same every run; raise it for a deeper run
# Values of the wrong shape for any parameter: what a fuzzing portal or a careless one sends.
# Commands that take no idempotency key, each for the reason docs/rpc.md gives beside it.
KEYLESS_COMMANDS = {"change_password"}
ABSURD = [None, True, 10**30, -1, "", "\x00", ["list"], {"nested": {"deeper": [1, 2]}}, 1.5]


def domain_event_classes(domain: Any) -> set[type]:
    """The facts a service's domain records: the event classes nested in its aggregates."""
    found = set()
    for _, aggregate in inspect.getmembers(domain, inspect.isclass):
        if not issubclass(aggregate, Aggregate) or aggregate.__module__ != domain.__name__:
            continue
        for _, member in inspect.getmembers(aggregate, inspect.isclass):
            if (issubclass(member, Aggregate.Event) and member.__qualname__.startswith(aggregate.__qualname__ + ".")
                    and member.__name__ != "Created" and not member.__name__.endswith("Event")):  # bases, not facts
                found.add(member)
    return found


def rpc_section(service: str) -> str:
    text = (ROOT / "docs" / "rpc.md").read_text(encoding="utf-8")
    parts = text.split(f"## `{service}` service", 1)
    assert len(parts) == 2, f"docs/rpc.md has no section for the {service} service"
    return parts[1].split("\n## `", 1)[0]


class ServiceContract:
    definition: ServiceDefinition[Any]

    @pytest.fixture
    def running(self, tmp_path: Path, clock: Any) -> Pipeline[Any]:
        raise NotImplementedError("a service's contract test provides the service after a scenario")

    # ------------------------------------------------------------------ the event contract
    def test_every_domain_event_has_a_public_type(self) -> None:
        domain = importlib.import_module(f"services.{self.definition.name}.domain")
        classes = domain_event_classes(domain)
        assert classes, "no domain events found"
        missing = classes - self.definition.contract.registered_classes()
        assert not missing, f"not in the public contract: {sorted(c.__qualname__ for c in missing)}"

    def test_every_public_event_is_documented_with_an_example_a_consumer_reads(self) -> None:
        text = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
        for public in self.definition.contract.types():
            section = text.split(f"### `{public.name}`", 1)
            assert len(section) == 2, f"{public.name} is not in docs/events.md (run tools/gen_event_docs.py)"
            found = re.search(r"```json\n(.*?)\n```", section[1], re.S)
            assert found, f"{public.name} has no example"
            example = json.loads(found.group(1))
            assert example["type"] == public.name and example["schema_version"] == public.version
            assert set(example["data"]) == set(public.schema().fields), public.name
            assert read_envelope(example)["data"] == example["data"]  # what a consumer reads: upcast to the newest

    def test_every_rpc_is_documented(self) -> None:
        documented = set(re.findall(r"`(\w+)\(", rpc_section(self.definition.name)))
        missing = {op.name for op in self.definition.operations} - documented
        assert not missing, f"not in docs/rpc.md: {sorted(missing)}"

    def test_every_command_takes_an_idempotency_key_and_its_heading_says_so(self) -> None:
        """A portal retries any command safely: every operation that records something takes a key
        (but those docs/rpc.md says cannot), and each heading shows `idempotency_key` exactly then."""
        commands = {op.name for op in self.definition.operations
                    if "Change" in str(inspect.signature(op.handler).return_annotation)}
        keyless = {op.name for op in self.definition.operations if not op.idempotent} & commands
        assert keyless <= KEYLESS_COMMANDS, f"commands without an idempotency key: {sorted(keyless - KEYLESS_COMMANDS)}"
        section = rpc_section(self.definition.name)
        for op in self.definition.operations:
            headings = re.findall(rf"`{op.name}\(([^)]*)\)`", section)
            assert headings, f"{op.name} has no heading in docs/rpc.md"
            assert all(("idempotency_key=None" in h) == op.idempotent for h in headings), (op.name, headings)

    # ------------------------------------------------------------------ the log
    def test_get_notifications_pages_the_whole_log_exactly(self, running: Pipeline[Any]) -> None:
        token = self.token(running, Role.SUBSCRIBER)
        whole = running.call("get_notifications", token, (0, 1000))
        assert whole["max_position"] == running.store.max_position() >= 5
        positions = [n["position"] for n in whole["notifications"]]
        assert positions == sorted(set(positions)) and positions[-1] == whole["max_position"]
        paged, after = [], 0
        while True:
            page = running.call("get_notifications", token, (), {"after": after, "limit": 3})
            assert len(page["notifications"]) <= 3
            if not page["notifications"]:
                break
            paged += page["notifications"]
            after = page["notifications"][-1]["position"]
        assert paged == whole["notifications"]
        for envelope in whole["notifications"]:
            assert read_envelope(envelope)["source"] == self.definition.name

    def test_replaying_the_log_rebuilds_the_read_models_exactly(self, running: Pipeline[Any]) -> None:
        projections = self.definition.projections
        assert projections, "the service declares no read models of its own aggregates"
        before = self.read_models(running)
        assert any(before.values()), "the scenario wrote no read-model rows"
        rebuild_read_models(running.store, projections)
        assert self.read_models(running) == before

    def read_models(self, running: Pipeline[Any]) -> dict[str, list[tuple[Any, ...]]]:
        with running.store.reading() as session:
            return {p.table.name: sorted(tuple(r) for r in session.execute(select(p.table)))
                    for p in self.definition.projections}

    # ------------------------------------------------------------------ the pipeline
    def test_the_role_is_checked_before_the_input_and_a_refusal_records_nothing(self, running: Pipeline[Any]) -> None:
        before = running.store.max_position()
        checked = 0
        for op in all_operations(self.definition):
            if op.access is ANYONE or op.access == EVERY_ROLE:
                continue
            outsider = next(r for r in Role if r not in op.access)  # type: ignore[operator]
            with pytest.raises(Forbidden):
                running.call(op.name, self.token(running, outsider), [ABSURD[-2]] * len(op.params))
            checked += 1
        assert checked and running.store.max_position() == before

    def test_absurd_input_gets_a_typed_error_and_records_nothing(self, running: Pipeline[Any]) -> None:
        before = running.store.max_position()
        for op in all_operations(self.definition):
            role = Role.PROVINCE if op.access is ANYONE or Role.PROVINCE in op.access else sorted(op.access)[0]  # type: ignore[operator]
            token = self.token(running, role)
            for value in ABSURD:
                args = [value] * len(op.params)
                try:
                    running.call(op.name, token, args)
                except InternalError:
                    pytest.fail(f"{op.name}{tuple(args)!r} failed inside instead of refusing the input")
                except ServiceError:
                    pass
        assert running.store.max_position() == before

    @staticmethod
    def token(running: Pipeline[Any], role: Role) -> str:
        """A signed token of an active account of `role`, with a jurisdiction nobody's data is in."""
        account_id = f"contract-{role.value}"
        with running.store.transaction() as session:
            record_account(session, running.store.books, account_id, 0, True)
        return running.identity.issue(Principal(account_id, role, division_code="139999",
                                                provider_id="nobody", enterprise_id="00000000-0000-0000-0000-000000000000"))


# ------------------------------------------------------------------ property: any input, a typed answer
JSON_SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80)
                | st.floats(allow_nan=True, allow_infinity=True) | st.decimals(allow_nan=False).map(str)
                | st.text(st.characters(exclude_categories=()), max_size=24))  # NUL, controls, lone surrogates
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=6)


def arguments_for(op: Any) -> st.SearchStrategy[list[Any]]:
    """Values for each parameter: for a schema, objects with its own field names (so validation is
    reached, not only refused at the door), else anything JSON can carry."""
    parts = []
    for spec in op.params.values():
        if isinstance(spec, Schema):
            parts.append(st.fixed_dictionaries({}, optional={name: JSON_VALUES for name in spec.fields}) | JSON_VALUES)
        else:
            parts.append(JSON_VALUES)
    return st.tuples(*parts).map(list)


class FuzzedContract(ServiceContract):
    """A few hundred generated calls per operation (seeded: the same every run), as a caller that
    is not us sends them: never `internal_error`, and a refusal records nothing."""

    @pytest.fixture
    def fuzzing(self, running: Pipeline[Any]) -> Pipeline[Any]:
        return running

    def test_generated_input_gets_a_typed_answer_and_a_refusal_records_nothing(self, fuzzing: Pipeline[Any]) -> None:
        for op in all_operations(self.definition):
            role = Role.PROVINCE if op.access is ANYONE or Role.PROVINCE in op.access else sorted(op.access)[0]  # type: ignore[operator]
            token = self.token(fuzzing, role)

            @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(args=arguments_for(op))
            def call(args: list[Any]) -> None:
                before = fuzzing.store.max_position()
                try:
                    fuzzing.call(op.name, token, args)
                except InternalError:
                    pytest.fail(f"{op.name}{tuple(args)!r} failed inside instead of refusing the input")
                except ServiceError:
                    assert fuzzing.store.max_position() == before, f"{op.name} recorded something and refused"

            call()
