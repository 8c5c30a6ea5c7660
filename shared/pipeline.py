"""The command pipeline every operation of every service goes through (docs/architecture.md):

1. authenticate the token (against the injected clock);
2. refuse an issued account that has not yet replaced its initial password;
3. check the caller's role, before looking at the input;
4. check jurisdiction before the rest of the input, for an operation that declares `locate`;
5. validate every argument at once (each bad field named, in Chinese and English);
6. answer a retry with an idempotency key already used, bound to the same operation and input (also
   when step 4 or the handler would now refuse it: the first attempt itself may have moved the
   record on, or out of the caller's reach); then count the call against the rate limit, if any;
7. run the handler, which checks jurisdiction (shared/access.py) and decides;
8. record its events, read-model rows and the idempotency record in one transaction;
9. answer, with the position of the last event recorded (read-your-writes).

Failures become typed errors here and nowhere else. Nothing here imports nameko: the same pipeline
runs behind nameko (shared/nameko_service.py) and in-process in the tests."""
from __future__ import annotations

import hashlib
import hmac
import inspect
import json
import logging
from datetime import timedelta
from typing import Any, Callable, Generic, Mapping, Sequence

from eventsourcing.persistence import IntegrityError
from marshmallow import Schema, ValidationError, fields, missing, validate
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from shared.definition import Change, Context, Operation, Runtime, S, ServiceDefinition, record
from shared.fields import Pattern
from shared.errors import Conflict, Forbidden, InternalError, InvalidInput, NotFound, RateLimited, ServiceError
from shared.event_log_operations import EVENT_LOG_OPERATIONS
from shared import inputs, sessions
from shared.identity import PasswordWorkBusy, Principal, TokenIssuer
from shared.throttle import RateLimit

log = logging.getLogger(__name__)

IDEMPOTENCY_KEY = "idempotency_key"
KEY_FIELD = fields.String(load_default=None, allow_none=True, validate=Pattern(
    r"^[^\x00-\x1f\x7f-\x9f\ud800-\udfff]{1,128}$",
    error="1–128 characters, no control characters or lone surrogates / 1–128个字符，不得含控制字符"))


def all_operations(definition: ServiceDefinition[Any]) -> list[Operation]:
    """The service's own operations and the event-log operations every service offers."""
    return [*definition.operations, *EVENT_LOG_OPERATIONS]


def password_change_required() -> Forbidden:
    return Forbidden({"reason": "password_change_required"}, zh="请先修改初始密码", en="Change the initial password first")


class Pipeline(Generic[S]):
    def __init__(self, definition: ServiceDefinition[S], runtime: Runtime[S], identity: TokenIssuer,
                 on_recorded: Callable[[], None] | None = None) -> None:
        self.definition = definition
        self.on_recorded = on_recorded  # a command's events were committed (the relay publishes them now)
        self.runtime = runtime
        self.identity = identity
        # The idempotency record keeps a digest of each request's input, which may hold a chosen
        # password (provision_account): keyed, so a copy of the database is no offline guessing aid.
        self._request_key = identity.derived_key("idempotency-request")
        self.operations = {op.name: op for op in all_operations(definition)}
        self.limits = {op.name: RateLimit(op.rate_limit) for op in self.operations.values() if op.rate_limit}

    @property
    def store(self) -> S:
        return self.runtime.store

    def call(self, name: str, token: str | None, args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None) -> Any:
        """Run one operation for the bearer of `token`; raises only typed errors."""
        op = self.operations[name]
        try:
            caller = None if op.public else self._authenticate(op, token)
            if caller is not None:
                self._authorize(op, caller)
            if op.locate is not None and caller is not None:
                try:
                    self._locate(op, caller, args, dict(kwargs or {}))
                except (NotFound, Forbidden):
                    # A declined assignment is out of its evaluator's reach: the decline's retry still answers.
                    done = self._retried(op, caller, args, dict(kwargs or {}))
                    if done is None:
                        raise
                    return done
            arguments, key = self._validate(op, args, dict(kwargs or {}))
            request = _digest(self._request_key, op.name, arguments)
            if key is not None:
                previous = self._previous_answer(caller, key, op.name, request)
                if previous is not None:
                    return previous
            if op.name in self.limits:
                # Counted only for calls that would do the work: refused junk is cheap, and must not
                # use up the allowance of a public operation (an objection) for everyone else.
                self.limits[op.name].take(self.store.clock.now())
            try:
                result = op.handler(Context(self.runtime, caller, self.store.clock.now()), **arguments)
            except ServiceError:
                if key is not None:  # a first attempt still under way when this retry looked may have acted since
                    again = self._previous_answer(caller, key, op.name, request)
                    if again is not None:
                        return again
                raise
            if isinstance(result, Change):
                return self._commit(op, caller, key, request, result)
            return result
        except ServiceError:
            raise
        except PasswordWorkBusy:
            raise RateLimited({"retry_after": (self.store.clock.now() + timedelta(seconds=1)).isoformat()}) from None
        except ValidationError as e:  # a handler's own late validation
            raise InvalidInput.fields(_messages(e)) from None
        except Exception:
            log.exception("unexpected failure in %s.%s", self.definition.name, op.name)
            raise InternalError() from None

    # ------------------------------------------------------------------ the steps
    def _authenticate(self, op: Operation, token: str | None) -> Principal:
        principal = self.identity.verify(token)
        sessions.check(self.store, principal, owns_accounts=self.definition.accounts_from is None)
        if principal.must_change_password and not op.before_password_change:
            raise password_change_required()
        return principal

    @staticmethod
    def _authorize(op: Operation, caller: Principal) -> None:
        assert isinstance(op.access, frozenset)
        if caller.role not in op.access:
            raise Forbidden({"required_roles": sorted(r.value for r in op.access)})

    @staticmethod
    def _bind(op: Operation, args: Sequence[Any], kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The call's arguments by declared parameter name, and what does not bind."""
        names = list(op.params) + ([IDEMPOTENCY_KEY] if op.idempotent else [])
        errors: dict[str, Any] = {}
        if len(args) > len(names):
            errors["arguments"] = [f"at most {len(names)} arguments: {', '.join(names)} / 参数过多"]
        given = dict(zip(names, args))
        for name, value in kwargs.items():
            if name not in names:
                errors[name] = ["unknown argument / 未知参数"]
            elif name in given:
                errors[name] = ["given twice / 参数重复"]
            else:
                given[name] = value
        return given, errors

    def _locate(self, op: Operation, caller: Principal, args: Sequence[Any], kwargs: dict[str, Any]) -> None:
        """Jurisdiction before the rest of the input: the operation's `locate` gets the identifying
        arguments it names (an application id) and refuses what the caller may not act on. When
        those arguments are themselves bad, validation reports them with everything else."""
        assert op.locate is not None
        wanted = [p for p in inspect.signature(op.locate).parameters if p != "ctx"]
        given, _ = self._bind(op, args, kwargs)
        located = {}
        for name in wanted:
            spec = op.params[name]
            value = given.get(name, missing)
            if isinstance(spec, Schema) or value is missing or inputs.problems(value):
                return
            try:
                located[name] = spec.deserialize(value)
            except ValidationError:
                return
        op.locate(Context(self.runtime, caller, self.store.clock.now()), **located)

    def _validate(self, op: Operation, args: Sequence[Any], kwargs: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        """Bind the call's arguments to the declared parameters and validate them all; every bad
        argument and field is reported at once."""
        given, errors = self._bind(op, args, kwargs)
        loaded: dict[str, Any] = {}
        for name, spec in op.params.items():
            value = given.get(name, missing)
            # Text no form should hold is refused whatever the schema says, with every other bad field.
            unfit = inputs.problems(value) if value is not missing else None
            if isinstance(spec, Schema):
                if value is missing or value is None:
                    value = {}
                try:
                    loaded[name] = spec.load(value)
                except ValidationError as e:
                    found = _messages(e)
                    errors.update(found if isinstance(found, dict) else {name: found})
                if unfit:
                    errors.update(unfit if isinstance(unfit, dict) else {name: unfit})
            else:
                try:
                    loaded[name] = spec.deserialize(value)
                except ValidationError as e:
                    errors[name] = _messages(e)
                if unfit:
                    errors[name] = unfit
        key = None
        if op.idempotent:
            try:
                key = KEY_FIELD.deserialize(given.get(IDEMPOTENCY_KEY, missing))
            except ValidationError as e:
                errors[IDEMPOTENCY_KEY] = _messages(e)
        if errors:
            raise InvalidInput.fields(errors)
        return loaded, key

    def _retried(self, op: Operation, caller: Principal, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
        """The first answer, when this call repeats one made with the same key and input; else None
        (and the caller's refusal stands, saying nothing of the input or the key)."""
        if not op.idempotent:
            return None
        try:
            arguments, key = self._validate(op, args, kwargs)
            if key is None:
                return None
            return self._previous_answer(caller, key, op.name, _digest(self._request_key, op.name, arguments))
        except ServiceError:
            return None

    def _previous_answer(self, caller: Principal | None, key: str, op_name: str, request: str) -> Any:
        """The first answer to this key, when the same caller sent the same operation and input;
        a `conflict` when the key was used for something else."""
        table = self.store.books.idempotency
        with self.store.reading() as session:
            row = session.execute(select(table.c.command, table.c.request_sha256, table.c.result)
                                  .where(table.c.key == _stored_key(caller, key, request))).first()
        if row is None:
            return None
        if row.command != op_name or row.request_sha256 != request:
            raise Conflict({IDEMPOTENCY_KEY: key, "used_for": row.command},
                           zh="该幂等键已用于另一项操作或不同的输入", en="This idempotency key was used for another call")
        return json.loads(row.result)

    def _commit(self, op: Operation, caller: Principal | None, key: str | None, request: str, change: Change) -> Any:
        answer: dict[str, Any] = dict(change.answer)

        def write(session: Session, position: int | None) -> None:
            answer["position"] = position
            if key is not None:
                kept = {**answer, **{f: None for f in op.secret_answer if f in answer}}
                if op.secret_answer:
                    kept["withheld"] = [f for f in op.secret_answer if f in answer]
                session.execute(insert(self.store.books.idempotency).values(
                    key=_stored_key(caller, key, request), account_id=caller.account_id if caller else PUBLIC,
                    command=op.name,
                    request_sha256=request, result=json.dumps(kept, ensure_ascii=False),
                    recorded_at=self.store.clock.now().isoformat()))

        try:
            record(self.store, change, then=write)
        except IntegrityError:
            if key is not None:
                again = self._previous_answer(caller, key, op.name, request)
                if again is not None:
                    return again  # a concurrent retry with the same key won
            raise Conflict({"reason": "changed concurrently"}, zh="该记录刚被他人修改，请刷新后重试",
                           en="Someone else changed this record just now; reload and try again") from None
        if answer["position"] is not None and self.on_recorded is not None:
            self.on_recorded()
        return answer


PUBLIC = "public"


def _stored_key(caller: Principal | None, key: str, request: str) -> str:
    """An account's keys are its own. Callers without an account share no namespace: their key is
    bound to the input's digest as well, so a retry of the same call answers the first answer, and
    the same key with other input is simply another call (it neither conflicts nor reveals anything
    of someone else's)."""
    return f"{caller.account_id}:{key}" if caller is not None else f"{PUBLIC}:{request}:{key}"


def _digest(key: bytes, op_name: str, arguments: dict[str, Any]) -> str:
    """The operation and its validated input, canonically, as an HMAC-SHA256 under the installation's
    key: what an idempotency key is bound to."""
    def plain(value: Any) -> Any:
        if isinstance(value, bytes):
            return {"sha256": hashlib.sha256(value).hexdigest()}
        return str(value)

    canonical = json.dumps([op_name, arguments], sort_keys=True, ensure_ascii=False, default=plain)
    return hmac.new(key, canonical.encode("utf-8"), hashlib.sha256).hexdigest()


def _messages(error: ValidationError) -> Any:
    return error.normalized_messages() if isinstance(error.messages, dict) else error.messages


def signature_of(op: Operation) -> inspect.Signature:
    """The operation's RPC signature, for documentation and the docs test."""
    names = list(op.params) + ([IDEMPOTENCY_KEY] if op.idempotent else [])
    return inspect.Signature([inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names])
