"""nameko entrypoints of the application service: validate, authorize, call the app, answer.
Run with `nameko run services.application.service` (scripts/start does)."""
from __future__ import annotations

from typing import Any

from nameko.rpc import rpc

from shared import refdata
from shared.config import Settings
from shared.identity import Role, TokenIssuer
from shared.rpc import Auth, Caller, EventLogRpc, Follow, Relay, Store, guarded, load, prompt_entrypoint
from shared.errors import InvalidInput, NotFound

from services.application import schemas as s
from services.application.app import ApplicationService, require
from services.application.events import contract


def make_store(settings: Settings) -> ApplicationService:
    clock = settings.clock()
    return ApplicationService(settings.store_url("application"), clock, TokenIssuer(settings.token_secret, clock))


SECTIONS = {"enterprise": s.EnterpriseSectionSchema(), "cloud": s.CloudSectionSchema()}
REFERENCE = ("divisions", "industries", "taxonomy", "contacts")


class ApplicationRpc(EventLogRpc):
    name = "application"
    contract = contract
    followed = ("review", "audit")

    store: ApplicationService = Store(make_store)  # type: ignore[assignment]
    relay = Relay("store", contract)
    caller: Caller = Auth()  # type: ignore[assignment]
    # Returns for correction come from the review service; bans and pool removals from audit.
    review = Follow("store", "review", lambda app: app.on_review_event)
    audit = Follow("store", "audit", lambda app: app.on_audit_event)
    on_review_event = prompt_entrypoint("review", "review")
    on_audit_event = prompt_entrypoint("audit", "audit")

    def _me(self) -> Any:
        return self.caller.principal()

    # ---------------------------------------------------------------- public
    @rpc
    @guarded
    def register_enterprise(self, data: dict[str, Any]) -> dict[str, Any]:
        return self.store.register_enterprise(load(s.RegisterEnterpriseSchema(), data))

    @rpc
    @guarded
    def login(self, data: dict[str, Any]) -> dict[str, Any]:
        return self.store.login(load(s.LoginSchema(), data))

    @rpc
    @guarded
    def reference_data(self, name: str) -> dict[str, Any]:
        if name not in REFERENCE:
            raise NotFound({"name": name, "available": list(REFERENCE)})
        return refdata.raw(name)

    @rpc
    @guarded
    def get_campaign(self, code: str) -> dict[str, Any]:
        return self.store.get_campaign(str(code))

    @rpc
    @guarded
    def supply_pool(self, query: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.store.pool(load(s.PoolQuerySchema(), query)["as_of"])

    # ---------------------------------------------------------------- any signed-in account
    @rpc
    @guarded
    def whoami(self) -> dict[str, Any]:
        me = self.caller.signed_in()
        return {"account_id": me.account_id, "role": me.role.value, "division_code": me.division_code,
                "provider_id": me.provider_id, "enterprise_id": me.enterprise_id,
                "must_change_password": me.must_change_password}

    @rpc
    @guarded
    def change_password(self, data: dict[str, Any]) -> dict[str, Any]:
        # The one call an issued account may make before it has set its own password.
        return self.store.change_password(self.caller.signed_in(), load(s.ChangePasswordSchema(), data))

    # ---------------------------------------------------------------- province
    @rpc
    @guarded
    def provision_account(self, data: dict[str, Any], idempotency_key: str | None = None) -> dict[str, Any]:
        me = self._me()
        require(me, Role.PROVINCE)
        return self.store.provision_account(me, load(s.ProvisionAccountSchema(), data), key=idempotency_key)

    @rpc
    @guarded
    def deactivate_account(self, data: dict[str, Any]) -> dict[str, Any]:
        return self.store.set_account_active(self._me(), load(s.AccountStateSchema(), data), active=False)

    @rpc
    @guarded
    def reactivate_account(self, data: dict[str, Any]) -> dict[str, Any]:
        return self.store.set_account_active(self._me(), load(s.AccountStateSchema(), data), active=True)

    @rpc
    @guarded
    def list_accounts(self, role: str | None = None) -> list[dict[str, Any]]:
        return self.store.list_accounts(self._me(), role)

    @rpc
    @guarded
    def open_campaign(self, settings: dict[str, Any]) -> dict[str, Any]:
        me = self._me()
        require(me, Role.PROVINCE)
        return self.store.open_campaign(me, load(s.CampaignSettingsSchema(), settings))

    @rpc
    @guarded
    def add_provider(self, data: dict[str, Any]) -> dict[str, Any]:
        me = self._me()
        require(me, Role.PROVINCE)
        return self.store.add_provider(me, load(s.ProviderSchema(), data))

    @rpc
    @guarded
    def remove_provider(self, data: dict[str, Any]) -> dict[str, Any]:
        me = self._me()
        require(me, Role.PROVINCE)
        return self.store.remove_provider(me, load(s.RemoveProviderSchema(), data))

    @rpc
    @guarded
    def record_ban(self, data: dict[str, Any]) -> dict[str, Any]:
        me = self._me()
        require(me, Role.PROVINCE)
        return self.store.record_ban(me, load(s.BanSchema(), data))

    @rpc
    @guarded
    def lift_ban(self, data: dict[str, Any]) -> dict[str, Any]:
        me = self._me()
        require(me, Role.PROVINCE)
        return self.store.lift_ban(me, load(s.LiftBanSchema(), data))

    @rpc
    @guarded
    def bans_of(self, uscc: str) -> list[dict[str, Any]]:
        return self.store.bans_of(self._me(), str(uscc))

    @rpc
    @guarded
    def list_applications(self, filters: dict[str, Any] | None = None) -> dict[str, Any]:
        me = self._me()
        return self.store.list_applications(me, load(s.ListApplicationsSchema(), filters))


    # ---------------------------------------------------------------- enterprises
    @rpc
    @guarded
    def start_application(self, campaign_code: str, idempotency_key: str | None = None) -> dict[str, Any]:
        return self.store.start_application(self._me(), str(campaign_code), key=idempotency_key)

    @rpc
    @guarded
    def update_section(self, application_id: str, section: str, values: dict[str, Any],
                       idempotency_key: str | None = None) -> dict[str, Any]:
        me = self._me()
        require(me, Role.ENTERPRISE)
        if section not in SECTIONS:
            raise InvalidInput.fields({"section": [f"one of {sorted(SECTIONS)} / 表单部分名称有误"]})
        values = load(SECTIONS[section], values)
        return self.store.update_section(me, application_id, section, values, key=idempotency_key)

    @rpc
    @guarded
    def set_scenarios(self, application_id: str, scenarios: list[dict[str, Any]],
                      idempotency_key: str | None = None) -> dict[str, Any]:
        me = self._me()
        require(me, Role.ENTERPRISE)
        data = load(s.ScenariosSchema(), {"scenarios": scenarios})
        return self.store.set_scenarios(me, application_id, data["scenarios"], key=idempotency_key)

    @rpc
    @guarded
    def save_contract(self, application_id: str, contract: dict[str, Any],
                      idempotency_key: str | None = None) -> dict[str, Any]:
        me = self._me()
        require(me, Role.ENTERPRISE)
        return self.store.save_contract(me, application_id, load(s.ContractSchema(), contract), key=idempotency_key)

    @rpc
    @guarded
    def remove_contract(self, application_id: str, contract_id: str) -> dict[str, Any]:
        return self.store.remove_contract(self._me(), application_id, str(contract_id))

    @rpc
    @guarded
    def attach_document(self, application_id: str, document: dict[str, Any],
                        idempotency_key: str | None = None) -> dict[str, Any]:
        me = self._me()
        require(me, Role.ENTERPRISE)
        return self.store.attach_document(me, application_id, load(s.DocumentSchema(), document), key=idempotency_key)

    @rpc
    @guarded
    def remove_document(self, application_id: str, document_id: str) -> dict[str, Any]:
        return self.store.remove_document(self._me(), application_id, str(document_id))

    @rpc
    @guarded
    def give_pledge(self, application_id: str, pledge: dict[str, Any]) -> dict[str, Any]:
        me = self._me()
        require(me, Role.ENTERPRISE)
        return self.store.give_pledge(me, application_id, load(s.PledgeSchema(), pledge))

    @rpc
    @guarded
    def check_eligibility(self, application_id: str) -> dict[str, Any]:
        return self.store.eligibility_of(self._me(), application_id)

    @rpc
    @guarded
    def submit(self, application_id: str, idempotency_key: str | None = None) -> dict[str, Any]:
        return self.store.submit(self._me(), application_id, key=idempotency_key)

    @rpc
    @guarded
    def withdraw(self, application_id: str, data: dict[str, Any] | None = None,
                 idempotency_key: str | None = None) -> dict[str, Any]:
        me = self._me()
        return self.store.withdraw(me, application_id, load(s.WithdrawSchema(), data)["reason"], key=idempotency_key)

    @rpc
    @guarded
    def my_applications(self) -> list[dict[str, Any]]:
        return self.store.my_applications(self._me())

    # ---------------------------------------------------------------- anyone in scope
    @rpc
    @guarded
    def get_application(self, application_id: str, version: int | None = None) -> dict[str, Any]:
        if version is not None and (not isinstance(version, int) or version < 1):
            raise InvalidInput.fields({"version": ["a positive integer / 须为正整数"]})
        return self.store.get_application(self._me(), application_id, version)

    @rpc
    @guarded
    def application_history(self, application_id: str) -> list[dict[str, Any]]:
        return self.store.history(self._me(), application_id)

    @rpc
    @guarded
    def get_document(self, application_id: str, document_id: str) -> dict[str, Any]:
        return self.store.get_document(self._me(), application_id, str(document_id))
