"""The application service's public event contract: every domain event class, its public type and
the schema of its `data`. docs/events.md is generated from this table (tools/gen_event_docs.py)."""
from __future__ import annotations

from marshmallow import Schema, fields

from shared.contract import Contract, is_the_application

from services.application.domain import Account, Application, Ban, Campaign, Enterprise, SupplyPool

contract = Contract("application")


class AccountRegisteredData(Schema):
    username = fields.String()
    role = fields.String()
    display_name = fields.String()
    enterprise_id = fields.String()


class AccountProvisionedData(Schema):
    username = fields.String()
    role = fields.String()
    display_name = fields.String()
    division_code = fields.String(allow_none=True)
    provider_id = fields.String(allow_none=True)


class NoData(Schema):
    """The event itself is the fact (a password hash is never published)."""


class ReasonData(Schema):
    reason = fields.String()


class EnterpriseRegisteredData(Schema):
    uscc = fields.String()
    name = fields.String()
    county_code = fields.String()
    account_id = fields.String()


class CampaignOpenedData(Schema):
    code = fields.String()
    settings = fields.Dict()


class ProviderAddedData(Schema):
    provider_id = fields.String()
    name = fields.String()
    uscc = fields.String()
    reason = fields.String()


class ProviderRemovedData(Schema):
    provider_id = fields.String()
    reason = fields.String()
    source = fields.String()


class BanRecordedData(Schema):
    uscc = fields.String()
    reason = fields.String()
    starts_on = fields.String()
    ends_on = fields.String()
    source = fields.String()
    source_ref = fields.String(allow_none=True)


class StartedData(Schema):
    campaign_id = fields.String()
    campaign_code = fields.String()
    enterprise_id = fields.String()
    account_id = fields.String()
    uscc = fields.String()
    enterprise_name = fields.String()
    county_code = fields.String()
    unit_code = fields.String()


class SectionUpdatedData(Schema):
    section = fields.String()
    values = fields.Dict()


class ScenariosSetData(Schema):
    scenarios = fields.List(fields.Dict())


class ContractSavedData(Schema):
    contract = fields.Dict()


class ContractRemovedData(Schema):
    contract_id = fields.String()


class DocumentAttachedData(Schema):
    document = fields.Dict()


class DocumentRemovedData(Schema):
    document_id = fields.String()


class PledgeGivenData(Schema):
    truthful = fields.Boolean()
    no_bad_record = fields.Boolean()
    share_experience = fields.Boolean()


class SubmittedData(Schema):
    round = fields.Integer()
    rule_set_version = fields.String()
    content = fields.Dict()


class ReturnedData(Schema):
    round = fields.Integer()
    stage = fields.String()
    reasons = fields.List(fields.String())
    review_event_id = fields.String()


R = contract.register
R(Account.Registered, "application.account_registered", AccountRegisteredData)
R(Account.Provisioned, "application.account_provisioned", AccountProvisionedData)
R(Account.PasswordChanged, "application.account_password_changed", NoData)
R(Account.Deactivated, "application.account_deactivated", ReasonData)
R(Account.Reactivated, "application.account_reactivated", ReasonData)
R(Enterprise.Registered, "application.enterprise_registered", EnterpriseRegisteredData)
R(Campaign.Opened, "application.campaign_opened", CampaignOpenedData)
R(SupplyPool.Established, "application.supply_pool_established", NoData)
R(SupplyPool.ProviderAdded, "application.provider_added_to_pool", ProviderAddedData)
R(SupplyPool.ProviderRemoved, "application.provider_removed_from_pool", ProviderRemovedData)
R(Ban.Recorded, "application.ban_recorded", BanRecordedData)
R(Ban.Lifted, "application.ban_lifted", ReasonData)
A = is_the_application
R(Application.Started, "application.started", StartedData, application_id=A)
R(Application.SectionUpdated, "application.section_updated", SectionUpdatedData, application_id=A)
R(Application.ScenariosSet, "application.scenarios_set", ScenariosSetData, application_id=A)
R(Application.ContractSaved, "application.contract_saved", ContractSavedData, application_id=A)
R(Application.ContractRemoved, "application.contract_removed", ContractRemovedData, application_id=A)
R(Application.DocumentAttached, "application.document_attached", DocumentAttachedData, application_id=A)
R(Application.DocumentRemoved, "application.document_removed", DocumentRemovedData, application_id=A)
R(Application.PledgeGiven, "application.pledge_given", PledgeGivenData, application_id=A)
R(Application.Submitted, "application.submitted", SubmittedData, application_id=A)
R(Application.Resubmitted, "application.resubmitted", SubmittedData, application_id=A)
R(Application.Withdrawn, "application.withdrawn", ReasonData, application_id=A)
R(Application.ReturnedForCorrection, "application.returned_for_correction", ReturnedData, application_id=A)
