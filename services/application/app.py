"""The application service's commands and queries (the service layer). Takes validated input and
the caller's verified identity, checks role and jurisdiction, loads aggregates, records events and
read-model rows in one transaction, and answers plain dicts. No nameko here."""
from __future__ import annotations

import base64
import functools
import hashlib
import json
import secrets
import string
from datetime import date, datetime, timedelta
from typing import Any, Callable, Sequence
from uuid import UUID, uuid4

from eventsourcing.persistence import IntegrityError, Recording
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from shared import refdata
from shared.clock import Clock
from shared.entity import stable_id
from shared.errors import Conflict, Forbidden, Ineligible, InvalidInput, InvalidState, NotAuthenticated, NotFound
from shared.follower import NOTHING, Outcome
from shared.identity import SEES_ALL_APPLICATIONS as SEES_EVERYTHING
from shared.identity import SYSTEM, Principal, Role, TokenIssuer, hash_password, password_matches
from shared.store import ServiceStore

from services.application import projections as rm
from services.application.domain import (
    POOL_ID, Account, Application, Ban, Campaign, Enterprise, Status, SupplyPool, account_id_for,
    application_id_for, campaign_id_for, enterprise_id_for,
)
from services.application.eligibility import RULE_SET_VERSION, Facts, ban_is_active, evaluate
from services.application.events import contract

SIGNATURES = {  # content sniffing: the bytes must be what the declared type says
    "application/pdf": (b"%PDF",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}


def idempotent(command: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """A command that takes `key=`: a retry with a key already used by the same account answers the
    first answer without acting again (and before any check that the first call's effects would now
    fail). `_commit` stores the key with the events, so concurrent retries act once too."""

    @functools.wraps(command)
    def run(self: "ApplicationService", principal: Principal, *args: Any, key: str | None = None, **kw: Any) -> dict[str, Any]:
        previous = self._previous_result(principal, key)
        return previous if previous is not None else command(self, principal, *args, key=key, **kw)

    return run


def require(principal: Principal, *roles: Role) -> None:
    if principal.role not in roles:
        raise Forbidden({"required_roles": [r.value for r in roles]})


def generated_password() -> str:
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(14))
        if any(c.isdigit() for c in candidate) and any(c.isalpha() for c in candidate):
            return candidate


class ApplicationService(ServiceStore):
    name = "application"
    read_models = rm.metadata

    def __init__(self, url: str, clock: Clock, issuer: TokenIssuer) -> None:
        super().__init__(url, clock)
        self.issuer = issuer

    # ------------------------------------------------------------------ plumbing
    def _previous_result(self, principal: Principal, key: str | None) -> dict[str, Any] | None:
        if not key:
            return None
        table = self.books.idempotency
        with self.reading() as session:
            row = session.execute(select(table.c.result).where(table.c.key == f"{principal.account_id}:{key}")).scalar()
        return json.loads(row) if row else None

    def _commit(
        self,
        principal: Principal,
        command: str,
        key: str | None,
        *aggregates: Any,
        project: Callable[[Session], None] | None = None,
        result: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Record the aggregates' events, the read-model rows and the idempotency key together;
        answer the result with the position of the last event recorded (read-your-writes)."""
        answer: dict[str, Any] = dict(result or {})

        def write(session: Session, recordings: Sequence[Recording]) -> None:
            if project is not None:
                project(session)
            answer["position"] = max((r.notification.id for r in recordings), default=None)
            if key:
                session.execute(insert(self.books.idempotency).values(
                    key=f"{principal.account_id}:{key}", account_id=principal.account_id, command=command,
                    result=json.dumps(answer, ensure_ascii=False), recorded_at=self.clock.now().isoformat()))

        try:
            self.record(*aggregates, project=write)
        except IntegrityError:
            again = self._previous_result(principal, key)
            if again is not None:
                return again  # a concurrent retry with the same key won
            raise Conflict() from None
        return answer

    # ------------------------------------------------------------------ identity
    def register_enterprise(self, data: dict[str, Any]) -> dict[str, Any]:
        now = self.clock.now()
        account_id = account_id_for(data["username"])
        if self.find(account_id) is not None:
            raise Conflict({"username": "taken"}, zh="用户名已被使用", en="The user name is taken")
        if self.find(enterprise_id_for(data["uscc"])) is not None:
            raise Conflict({"uscc": "registered"}, zh="该统一社会信用代码已注册", en="An account for this credit code exists")
        enterprise = Enterprise.register(now, {"id": str(account_id), "role": "enterprise"}, data["uscc"], data["name"],
                                         data["county_code"], account_id)
        account = Account.register(now, data["username"], data["name"], hash_password(data["password"]), enterprise.id)
        principal = Principal(str(account_id), Role.ENTERPRISE, enterprise_id=str(enterprise.id))
        return self._commit(principal, "register_enterprise", None, enterprise, account,
                            project=lambda s: rm.project_account(s, account),
                            result={"account_id": str(account.id), "enterprise_id": str(enterprise.id)})

    def login(self, data: dict[str, Any]) -> dict[str, Any]:
        username, now = data["username"].strip().lower(), self.clock.now()
        with self.reading() as session:
            failures = rm.failed_logins(session, username)
        locked_until = rm.locked_until(failures, now)
        if locked_until is not None:
            raise NotAuthenticated({"reason": "too_many_attempts", "retry_after": locked_until},
                                   zh="登录失败次数过多，请稍后再试", en="Too many failed sign-ins; try again later")
        account = self.find(account_id_for(username))
        # The same answer for an unknown user and a wrong password: nothing to learn from it. Failures
        # are counted for unknown names too, so the lock-out tells nothing either.
        if account is None or not password_matches(account.password_hash, data["password"]) or not account.active:
            with self.transaction() as session:
                rm.count_failed_login(session, username, now)
            raise NotAuthenticated({"reason": "bad_credentials"}, zh="用户名或密码错误", en="Wrong user name or password")
        if failures is not None:
            with self.transaction() as session:
                rm.clear_failed_logins(session, username)
        principal = self.principal_of(account)
        return {"token": self.issuer.issue(principal), "account": self.describe_account(account)}

    def principal_of(self, account: Account) -> Principal:
        return Principal(account_id=str(account.id), role=Role(account.role), division_code=account.division_code,
                         provider_id=account.provider_id, enterprise_id=account.enterprise_id,
                         must_change_password=account.must_change_password)

    @staticmethod
    def describe_account(account: Account) -> dict[str, Any]:
        return {"account_id": str(account.id), "username": account.username, "role": account.role,
                "display_name": account.display_name, "division_code": account.division_code,
                "provider_id": account.provider_id, "enterprise_id": account.enterprise_id, "active": account.active,
                "must_change_password": account.must_change_password}

    def change_password(self, principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
        account = self.get_existing(UUID(principal.account_id))
        if not password_matches(account.password_hash, data["old_password"]):
            raise NotAuthenticated({"reason": "bad_credentials"}, zh="原密码错误", en="The current password is wrong")
        if password_matches(account.password_hash, data["new_password"]):
            raise InvalidInput.fields({"new_password": ["must differ from the current password / 新密码不能与原密码相同"]})
        account.change_password(self.clock.now(), principal.actor(), hash_password(data["new_password"]))
        return self._commit(principal, "change_password", None, account)

    @idempotent
    def provision_account(self, principal: Principal, data: dict[str, Any], *, key: str | None = None) -> dict[str, Any]:
        require(principal, Role.PROVINCE)
        if self.find(account_id_for(data["username"])) is not None:
            raise Conflict({"username": "taken"}, zh="用户名已被使用", en="The user name is taken")
        password = data.get("password") or generated_password()
        account = Account.provision(self.clock.now(), principal.actor(), data["username"], data["role"],
                                    data["display_name"], hash_password(password), data.get("division_code"),
                                    data.get("provider_id"))
        # The initial password is answered once, to the province, and stored only as a hash.
        return self._commit(principal, "provision_account", key, account,
                            project=lambda s: rm.project_account(s, account),
                            result={"account_id": str(account.id), "username": account.username,
                                    "initial_password": password})

    def set_account_active(self, principal: Principal, data: dict[str, Any], active: bool) -> dict[str, Any]:
        require(principal, Role.PROVINCE)
        account = self.get_existing(account_id_for(data["username"]))
        if str(account.id) == principal.account_id:
            raise InvalidState({"account": "cannot change your own account"}, zh="不能停用自己的账号", en="You cannot deactivate your own account")
        change = account.reactivate if active else account.deactivate
        change(self.clock.now(), principal.actor(), data["reason"])
        return self._commit(principal, "set_account_active", None, account, project=lambda s: rm.project_account(s, account))

    def list_accounts(self, principal: Principal, role: str | None) -> list[dict[str, Any]]:
        require(principal, Role.PROVINCE)
        query = select(rm.accounts).order_by(rm.accounts.c.role, rm.accounts.c.username)
        if role:
            query = query.where(rm.accounts.c.role == role)
        with self.reading() as session:
            return [dict(r) | {"active": bool(r["active"])} for r in session.execute(query).mappings()]

    def bootstrap_province_account(self, username: str, password: str, display_name: str) -> bool:
        """The first province account, made by the operator's start-up command (not an RPC). Does
        nothing if the account exists."""
        if self.find(account_id_for(username)) is not None:
            return False
        account = Account.provision(self.clock.now(), SYSTEM.actor(), username, Role.PROVINCE.value, display_name,
                                    hash_password(password), None, None)
        self.record(account, project=lambda s, _r: rm.project_account(s, account))
        return True

    # ------------------------------------------------------------------ campaigns
    def open_campaign(self, principal: Principal, settings: dict[str, Any]) -> dict[str, Any]:
        require(principal, Role.PROVINCE)
        if self.find(campaign_id_for(settings["code"])) is not None:
            raise Conflict({"code": settings["code"]}, zh="该评选活动已开启", en="This campaign is already open")
        campaign = Campaign.open(self.clock.now(), principal.actor(), settings)
        return self._commit(principal, "open_campaign", None, campaign, result={"campaign_id": str(campaign.id), "code": campaign.code})

    def campaign(self, code: str) -> Campaign:
        return self.get_existing(campaign_id_for(code))

    def get_campaign(self, code: str) -> dict[str, Any]:
        campaign = self.campaign(code)
        return {"campaign_id": str(campaign.id), "code": campaign.code, "settings": campaign.settings,
                "opened_at": campaign.created_on.isoformat()}

    # ------------------------------------------------------------------ the supply pool
    def _pool(self) -> SupplyPool | None:
        return self.find(POOL_ID)

    def add_provider(self, principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
        require(principal, Role.PROVINCE)
        now = self.clock.now()
        pool = self._pool() or SupplyPool.establish(now, principal.actor())
        pool.add(now, principal.actor(), data["provider_id"], data["name"], data["uscc"], data.get("reason", ""))
        return self._commit(principal, "add_provider", None, pool)

    def remove_provider(self, principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
        require(principal, Role.PROVINCE)
        pool = self._pool()
        if pool is None:
            raise NotFound({"provider_id": data["provider_id"]})
        pool.remove(self.clock.now(), principal.actor(), data["provider_id"], data["reason"], "province")
        return self._commit(principal, "remove_provider", None, pool)

    def pool(self, as_of: datetime | None) -> dict[str, Any]:
        """Anyone may see the pool (the notice publishes it); `as_of` answers who was in it then."""
        pool = self._pool()
        at = as_of or self.clock.now()
        if pool is None:
            return {"as_of": at.isoformat(), "members": [], "history": []}
        return {"as_of": at.isoformat(), "members": pool.members_at(at), "history": pool.periods}

    # ------------------------------------------------------------------ bans
    def record_ban(self, principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
        require(principal, Role.PROVINCE)
        starts: date = data["starts_on"]
        ends: date = data.get("ends_on") or self._ban_end(starts)
        ban = Ban.record(uuid4(), self.clock.now(), principal.actor(), data["uscc"], data["reason"], starts, ends,
                         "province", data.get("source_ref"))
        return self._commit(principal, "record_ban", None, ban, project=lambda s: rm.project_ban(s, ban),
                            result={"ban_id": str(ban.id), "ends_on": ban.ends_on})

    @staticmethod
    def _ban_end(starts: date, years: int = 3) -> date:
        """三年内: three years from the start, the last day included."""
        try:
            return starts.replace(year=starts.year + years) - timedelta(days=1)
        except ValueError:  # 29 February
            return starts.replace(year=starts.year + years, day=28)

    def lift_ban(self, principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
        require(principal, Role.PROVINCE)
        ban = self.get_existing(data["ban_id"])
        ban.lift(self.clock.now(), principal.actor(), data["reason"])
        return self._commit(principal, "lift_ban", None, ban, project=lambda s: rm.project_ban(s, ban))

    def bans_of(self, principal: Principal, uscc: str) -> list[dict[str, Any]]:
        require(principal, Role.PROVINCE, Role.AUDITOR)
        with self.reading() as session:
            return rm.bans_of(session, uscc.upper())

    # ------------------------------------------------------------------ applications: access
    def _visible(self, principal: Principal, app: Application) -> bool:
        if principal.role in SEES_EVERYTHING:
            return True
        if principal.role is Role.ENTERPRISE:
            return app.enterprise_id == principal.enterprise_id
        if app.status == Status.DRAFT:
            return False  # reviewers see an application once it was submitted
        if principal.role is Role.COUNTY:
            return app.county_code == principal.division_code
        if principal.role is Role.CITY:
            return app.unit_code == principal.division_code
        if principal.role is Role.PROVIDER:
            return app.sections.get("cloud", {}).get("provider_id") == principal.provider_id
        return False

    def _application_for(self, principal: Principal, application_id: str, version: int | None = None) -> Application:
        try:
            app_id = UUID(application_id)
        except (ValueError, TypeError):
            raise NotFound() from None
        app = self.get_existing(app_id)
        if not isinstance(app, Application) or not self._visible(principal, app):
            raise NotFound()  # outside the caller's jurisdiction it does not exist
        return app if version is None else self.get_existing(app_id, version)

    def _own_application(self, principal: Principal, application_id: str) -> Application:
        require(principal, Role.ENTERPRISE)
        app = self._application_for(principal, application_id)
        self.campaign(app.campaign_code).terms.check_open(self.clock.now())
        return app

    def _save_application(self, principal: Principal, command: str, key: str | None, app: Application,
                          extra: Callable[[Session], None] | None = None, result: dict[str, Any] | None = None) -> dict[str, Any]:
        def project(session: Session) -> None:
            if extra is not None:
                extra(session)
            rm.project_application(session, app)

        return self._commit(principal, command, key, app, project=project,
                            result={"application_id": str(app.id), **(result or {})})

    # ------------------------------------------------------------------ applications: commands
    @idempotent
    def start_application(self, principal: Principal, campaign_code: str, *, key: str | None = None) -> dict[str, Any]:
        require(principal, Role.ENTERPRISE)
        campaign = self.campaign(campaign_code)
        campaign.terms.check_can_submit(self.clock.now())
        enterprise: Enterprise = self.get_existing(UUID(principal.enterprise_id or ""))
        existing = self.find(application_id_for(campaign.id, enterprise.id))
        if existing is not None:
            # One application per enterprise per campaign: starting again answers the same one.
            return {"application_id": str(existing.id), "position": None, "existing": True}
        unit = refdata.divisions().unit_of(enterprise.county_code)
        app = Application.start(self.clock.now(), principal.actor(), campaign, enterprise, unit)
        return self._save_application(principal, "start_application", key, app, result={"existing": False})

    @idempotent
    def update_section(self, principal: Principal, application_id: str, section: str, values: dict[str, Any],
                       *, key: str | None = None) -> dict[str, Any]:
        app = self._own_application(principal, application_id)
        if not values:
            raise InvalidInput.fields({"values": ["nothing to change / 无修改内容"]})
        app.update_section(self.clock.now(), principal.actor(), section, values)
        return self._save_application(principal, f"update_{section}", key, app)

    @idempotent
    def set_scenarios(self, principal: Principal, application_id: str, scenarios: list[dict[str, Any]],
                      *, key: str | None = None) -> dict[str, Any]:
        app = self._own_application(principal, application_id)
        app.set_scenarios(self.clock.now(), principal.actor(), scenarios)
        return self._save_application(principal, "set_scenarios", key, app)

    @idempotent
    def save_contract(self, principal: Principal, application_id: str, contract: dict[str, Any],
                      *, key: str | None = None) -> dict[str, Any]:
        app = self._own_application(principal, application_id)
        contract = dict(contract)
        contract["contract_id"] = contract.get("contract_id") or f"c{len(app.contracts) + 1}-{secrets.token_hex(3)}"
        app.save_contract(self.clock.now(), principal.actor(), contract)
        return self._save_application(principal, "save_contract", key, app, result={"contract_id": contract["contract_id"]})

    def remove_contract(self, principal: Principal, application_id: str, contract_id: str) -> dict[str, Any]:
        app = self._own_application(principal, application_id)
        app.remove_contract(self.clock.now(), principal.actor(), contract_id)
        return self._save_application(principal, "remove_contract", None, app)

    @idempotent
    def attach_document(self, principal: Principal, application_id: str, document: dict[str, Any],
                        *, key: str | None = None) -> dict[str, Any]:
        app = self._own_application(principal, application_id)
        terms = self.campaign(app.campaign_code).terms
        content: bytes = document["content"]
        errors: dict[str, list[str]] = {}
        if document["content_type"] not in terms.evidence_content_types:
            errors["content_type"] = [f"allowed: {', '.join(terms.evidence_content_types)} / 仅允许这些文件类型"]
        elif not content.startswith(SIGNATURES.get(document["content_type"], (b"",))):
            errors["content_base64"] = ["the content is not of the declared type / 文件内容与类型不符"]
        if len(content) > terms.evidence_max_bytes:
            errors["content_base64"] = [f"larger than {terms.evidence_max_bytes} bytes / 文件过大"]
        if errors:
            raise InvalidInput.fields(errors)
        sha256 = hashlib.sha256(content).hexdigest()
        meta = {"document_id": f"d-{sha256[:12]}-{secrets.token_hex(2)}", "kind": document["kind"],
                "filename": document["filename"], "content_type": document["content_type"], "size": len(content),
                "sha256": sha256, "contract_id": document.get("contract_id")}
        app.attach_document(self.clock.now(), principal.actor(), meta)
        return self._save_application(principal, "attach_document", key, app,
                                      extra=lambda s: rm.store_content(s, sha256, content),
                                      result={"document_id": meta["document_id"], "sha256": sha256})

    def remove_document(self, principal: Principal, application_id: str, document_id: str) -> dict[str, Any]:
        app = self._own_application(principal, application_id)
        app.remove_document(self.clock.now(), principal.actor(), document_id)
        return self._save_application(principal, "remove_document", None, app)

    def give_pledge(self, principal: Principal, application_id: str, pledge: dict[str, Any]) -> dict[str, Any]:
        app = self._own_application(principal, application_id)
        app.give_pledge(self.clock.now(), principal.actor(), **pledge)
        return self._save_application(principal, "give_pledge", None, app)

    def eligibility_of(self, principal: Principal, application_id: str) -> dict[str, Any]:
        """What `submit` would say now, without submitting."""
        return {"failures": self.check_eligibility(self._own_application(principal, application_id))}

    def check_eligibility(self, app: Application) -> list[dict[str, Any]]:
        now = self.clock.now()
        with self.reading() as session:
            bans = [b for b in rm.bans_of(session, app.uscc) if ban_is_active(b, now)]
        facts = Facts(application=app, terms=self.campaign(app.campaign_code).terms, pool=self._pool(),
                      active_bans=bans, now=now)
        return [f.to_dict() for f in evaluate(facts)]

    @idempotent
    def submit(self, principal: Principal, application_id: str, *, key: str | None = None) -> dict[str, Any]:
        app = self._own_application(principal, application_id)
        if app.status == Status.DRAFT:
            self.campaign(app.campaign_code).terms.check_can_submit(self.clock.now())
        failures = self.check_eligibility(app)
        if failures:
            raise Ineligible({"rules": failures, "rule_set_version": RULE_SET_VERSION})
        app.submit(self.clock.now(), principal.actor(), RULE_SET_VERSION)
        return self._save_application(principal, "submit", key, app, result={"round": app.round, "status": app.status})

    @idempotent
    def withdraw(self, principal: Principal, application_id: str, reason: str, *, key: str | None = None) -> dict[str, Any]:
        app = self._own_application(principal, application_id)
        app.withdraw(self.clock.now(), principal.actor(), reason)
        return self._save_application(principal, "withdraw", key, app, result={"status": app.status})

    # ------------------------------------------------------------------ applications: queries
    def get_application(self, principal: Principal, application_id: str, version: int | None = None) -> dict[str, Any]:
        app = self._application_for(principal, application_id, version)
        return self.describe(app)

    @staticmethod
    def describe(app: Application) -> dict[str, Any]:
        return {"application_id": str(app.id), "version": app.version, "status": app.status, "round": app.round,
                "campaign_id": app.campaign_id, "enterprise_id": app.enterprise_id,
                "submitted_at": app.submitted_at, "last_submitted_at": app.last_submitted_at,
                "updated_at": app.modified_on.isoformat(), "returns": app.returns, **app.content()}

    def history(self, principal: Principal, application_id: str) -> list[dict[str, Any]]:
        """Every event of the application, oldest first, as its public envelope."""
        app = self._application_for(principal, application_id)
        return contract.history(self.events.get(app.id))

    def my_applications(self, principal: Principal) -> list[dict[str, Any]]:
        require(principal, Role.ENTERPRISE)
        with self.reading() as session:
            return rm.page_of_applications(session, {"account_id": principal.account_id}, 1, 200)["items"]

    def list_applications(self, principal: Principal, filters: dict[str, Any]) -> dict[str, Any]:
        """Province and auditors see all; a city its unit, a county its county, a provider the
        applications naming it (never drafts)."""
        query = {k: filters.get(k) for k in ("campaign_code", "status", "unit_code", "county_code", "category")}
        if principal.role in SEES_EVERYTHING:
            pass
        elif principal.role is Role.CITY:
            query["unit_code"], query["exclude_drafts"] = principal.division_code, True
        elif principal.role is Role.COUNTY:
            query["county_code"], query["exclude_drafts"] = principal.division_code, True
        elif principal.role is Role.PROVIDER:
            query["provider_id"], query["exclude_drafts"] = principal.provider_id, True
        else:
            raise Forbidden()
        with self.reading() as session:
            return rm.page_of_applications(session, query, filters["page"], filters["page_size"])

    def get_document(self, principal: Principal, application_id: str, document_id: str) -> dict[str, Any]:
        app = self._application_for(principal, application_id)
        meta = app.documents.get(document_id)
        if meta is None:
            raise NotFound({"document_id": document_id})
        with self.reading() as session:
            content = rm.load_content(session, meta["sha256"])
        intact = content is not None and hashlib.sha256(content).hexdigest() == meta["sha256"]
        return {**meta, "intact": intact, "content_base64": base64.b64encode(content or b"").decode()}

    # ------------------------------------------------------------------ following other services
    def on_review_event(self, envelope: dict[str, Any]) -> Outcome:
        """review.returned_for_correction reopens the application for editing."""
        if envelope["type"] != "review.returned_for_correction" or not envelope.get("application_id"):
            return NOTHING
        app = self.find(UUID(envelope["application_id"]))
        if app is None:
            return NOTHING
        data = envelope["data"]
        when = datetime.fromisoformat(envelope["occurred_at"])
        if not app.return_for_correction(when, envelope["actor"], int(data["round"]), data["stage"],
                                         list(data.get("reasons", [])), envelope["event_id"]):
            return NOTHING
        return Outcome([app], lambda s, _r: rm.project_application(s, app))

    def on_audit_event(self, envelope: dict[str, Any]) -> Outcome:
        """Fraud decisions: the enterprise is banned (三年内不得申报), the provider leaves the pool."""
        data, when = envelope["data"], datetime.fromisoformat(envelope["occurred_at"])
        if envelope["type"] == "audit.enterprise_banned":
            ban_id = stable_id("ban", envelope["event_id"])  # the same audit event bans once
            if self.find(ban_id) is not None:
                return NOTHING
            starts = date.fromisoformat(data["starts_on"])
            ends = date.fromisoformat(data["ends_on"]) if data.get("ends_on") else self._ban_end(starts)
            ban = Ban.record(ban_id, when, envelope["actor"], data["uscc"], data["reason"], starts, ends, "audit", envelope["event_id"])
            return Outcome([ban], lambda s, _r: rm.project_ban(s, ban))
        if envelope["type"] == "audit.provider_disqualified":
            pool = self._pool()
            if pool is None or data["provider_id"] not in pool.members:
                return NOTHING
            pool.remove(when, envelope["actor"], data["provider_id"], data["reason"], "audit")
            return Outcome([pool])
        return NOTHING

