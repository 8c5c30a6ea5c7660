"""The application service, declared: accounts, campaigns, the supply pool, bans and applications.
It follows the review service (returns for correction, and where each review stands) and the audit
service (bans, pool removals). The kit builds the running service from this (docs/architecture.md)."""
from __future__ import annotations

import os

from marshmallow import fields, validate

from shared.config import Settings
from shared.definition import ACCOUNT_HOLDERS, ANYONE, EVERY_ROLE, ServiceDefinition, operation
from shared.fields import WholeNumber, identifier
from shared.identity import SEES_ALL_APPLICATIONS, Role, TokenIssuer

from services.application import projections as rm
from services.application import schemas as s
from services.application.events import contract
from services.application.handlers import applications, bans, campaigns, directory, identity, pool
from services.application.store import ApplicationStore

PROVINCE = frozenset({Role.PROVINCE})
ENTERPRISE = frozenset({Role.ENTERPRISE})
REVIEWERS = SEES_ALL_APPLICATIONS | {Role.CITY, Role.COUNTY, Role.PROVIDER}
IN_SCOPE = EVERY_ROLE  # jurisdiction decides (shared/access.py): outside it an application does not exist
APP_ID = identifier()
NAME = fields.String(required=True, validate=validate.Length(min=1, max=64))


def make_store(settings: Settings) -> ApplicationStore:
    clock = settings.clock()
    return ApplicationStore(settings.store_url("application"), clock, TokenIssuer(settings.signing_secret(), clock))


DEFINITION = ServiceDefinition(
    name="application",
    make_store=make_store,
    contract=contract,
    operations=[
        # public
        operation("register_enterprise", identity.register_enterprise, ANYONE, {"data": s.RegisterEnterpriseSchema()},
                  idempotent=True, rate_limit=int(os.environ.get("HBCLOUD_REGISTRATIONS_PER_MINUTE", "600"))),
        # Not idempotent: each sign-in answers a new token (a secret no record keeps); signing in again is the retry.
        operation("login", identity.login, ANYONE, {"data": s.LoginSchema()}),
        operation("reference_data", campaigns.reference_data, ANYONE, {"name": NAME}),
        operation("get_campaign", campaigns.get_campaign, ANYONE, {"code": NAME}),
        operation("list_campaigns", campaigns.list_campaigns, ANYONE),
        operation("supply_pool", pool.supply_pool, ANYONE, {"query": s.PoolQuerySchema()}),
        # any signed-in account, even one that must still replace its initial password
        operation("whoami", identity.whoami, ACCOUNT_HOLDERS, before_password_change=True),
        # Not idempotent: a change ends every token of the account, the caller's own included, so a
        # retry stops at sign-in; signing in with the new password is how to learn that it took.
        operation("change_password", identity.change_password, ACCOUNT_HOLDERS, {"data": s.ChangePasswordSchema()},
                  before_password_change=True),
        # the province
        operation("provision_account", identity.provision_account, PROVINCE, {"data": s.ProvisionAccountSchema()},
                  idempotent=True, secret_answer=("initial_password",)),
        operation("reset_password", identity.reset_password, PROVINCE, {"data": s.AccountStateSchema()},
                  idempotent=True, secret_answer=("initial_password",)),
        operation("deactivate_account", identity.deactivate_account, PROVINCE, {"data": s.AccountStateSchema()},
                  idempotent=True),
        operation("reactivate_account", identity.reactivate_account, PROVINCE, {"data": s.AccountStateSchema()},
                  idempotent=True),
        operation("list_accounts", directory.list_accounts, PROVINCE,
                  {"role": s.ROLE, "division_code": s.division_field(), "page": s.page_field(),
                   "page_size": s.page_size_field(100)}),
        operation("open_campaign", campaigns.open_campaign, PROVINCE, {"settings": s.CampaignSettingsSchema()},
                  idempotent=True),
        operation("add_provider", pool.add_provider, PROVINCE, {"data": s.ProviderSchema()}, idempotent=True),
        operation("remove_provider", pool.remove_provider, PROVINCE, {"data": s.RemoveProviderSchema()}, idempotent=True),
        operation("record_ban", bans.record_ban, PROVINCE, {"data": s.BanSchema()}, idempotent=True),
        operation("lift_ban", bans.lift_ban, PROVINCE, {"data": s.LiftBanSchema()}, idempotent=True),
        operation("bans_of", bans.bans_of, PROVINCE | {Role.AUDITOR}, {"uscc": NAME}),
        # Not the county and city bureaus: who registered, before submitting, is not theirs (docs/rpc.md).
        operation("find_enterprises", directory.find_enterprises, PROVINCE | {Role.AUDITOR},
                  {"query": s.FindEnterprisesSchema()}),
        operation("list_applications", applications.list_applications, REVIEWERS, {"filters": s.ListApplicationsSchema()}),
        # enterprises
        operation("start_application", applications.start_application, ENTERPRISE, {"campaign_code": NAME},
                  idempotent=True),
        operation("update_section", applications.update_section, ENTERPRISE,
                  {"application_id": APP_ID, "section": fields.String(required=True, validate=validate.OneOf(
                      sorted(s.SECTIONS), error=f"one of {sorted(s.SECTIONS)} / 表单部分名称有误")),
                   "values": fields.Raw(load_default=None)}, idempotent=True, locate=applications.locate_application),
        operation("set_scenarios", applications.set_scenarios, ENTERPRISE,
                  {"application_id": APP_ID, "scenarios": s.scenario_list()}, idempotent=True, locate=applications.locate_application),
        operation("save_contract", applications.save_contract, ENTERPRISE,
                  {"application_id": APP_ID, "contract": s.ContractSchema()}, idempotent=True, locate=applications.locate_application),
        operation("remove_contract", applications.remove_contract, ENTERPRISE,
                  {"application_id": APP_ID, "contract_id": identifier()}, idempotent=True,
                  locate=applications.locate_application),
        operation("attach_document", applications.attach_document, ENTERPRISE,
                  {"application_id": APP_ID, "document": s.DocumentSchema()}, idempotent=True, locate=applications.locate_application),
        operation("remove_document", applications.remove_document, ENTERPRISE,
                  {"application_id": APP_ID, "document_id": identifier()}, idempotent=True,
                  locate=applications.locate_application),
        operation("give_pledge", applications.give_pledge, ENTERPRISE, {"application_id": APP_ID, "pledge": s.PledgeSchema()},
                  idempotent=True, locate=applications.locate_application),
        operation("check_eligibility", applications.check_eligibility, ENTERPRISE, {"application_id": APP_ID}, locate=applications.locate_application),
        operation("submit", applications.submit, ENTERPRISE, {"application_id": APP_ID}, idempotent=True, locate=applications.locate_application),
        operation("withdraw", applications.withdraw, ENTERPRISE, {"application_id": APP_ID, "data": s.WithdrawSchema()},
                  idempotent=True, locate=applications.locate_application),
        operation("my_applications", applications.my_applications, ENTERPRISE),
        # anyone whose jurisdiction covers the application
        operation("get_application", applications.get_application, IN_SCOPE,
                  {"application_id": APP_ID, "version": WholeNumber(load_default=None, validate=validate.Range(
                      min=1, error="a positive integer / 须为正整数"))}),
        operation("application_history", applications.application_history, IN_SCOPE, {"application_id": APP_ID}),
        operation("get_document", applications.get_document, IN_SCOPE,
                  {"application_id": APP_ID, "document_id": identifier()}),
    ],
    follows={
        # Every review event that moves a case records where the application's review stands
        # (application_rm_review_outcomes); a return for correction also reopens the application.
        "review": {**{kind: applications.on_review_event for kind in applications.REVIEW_STEPS},
                   "review.returned_for_correction": applications.on_returned_for_correction},
        "scoring": {"scoring.evaluators_assigned": applications.on_evaluators_assigned,
                    "scoring.assignment_declined": applications.on_assignment_declined},
        "audit": {"audit.enterprise_banned": bans.on_enterprise_banned,
                  "audit.provider_disqualified": pool.on_provider_disqualified},
    },
    accounts_from=None,  # the application service owns accounts and the supply pool
    projections=[rm.project_account, rm.project_application, rm.project_ban, rm.project_campaign,
                 rm.project_enterprise],
)
