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
    source_ref = fields.String(allow_none=True)  # for `audit`: the audit event's event_id


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


publish = contract.register  # stored event class -> public type and the schema of its data
publish(Account.Registered, "application.account_registered", AccountRegisteredData)
publish(Account.Provisioned, "application.account_provisioned", AccountProvisionedData)
publish(Account.PasswordChanged, "application.account_password_changed", NoData)
publish(Account.PasswordReset, "application.account_password_reset", ReasonData)
publish(Account.Deactivated, "application.account_deactivated", ReasonData)
publish(Account.Reactivated, "application.account_reactivated", ReasonData)
publish(Enterprise.Registered, "application.enterprise_registered", EnterpriseRegisteredData)
publish(Campaign.Opened, "application.campaign_opened", CampaignOpenedData)
publish(SupplyPool.Established, "application.supply_pool_established", NoData)
publish(SupplyPool.ProviderAdded, "application.provider_added_to_pool", ProviderAddedData)
publish(SupplyPool.ProviderRemoved, "application.provider_removed_from_pool", ProviderRemovedData)
publish(Ban.Recorded, "application.ban_recorded", BanRecordedData)
publish(Ban.Lifted, "application.ban_lifted", ReasonData)
A = is_the_application
publish(Application.Started, "application.started", StartedData, application_id=A)
publish(Application.SectionUpdated, "application.section_updated", SectionUpdatedData, application_id=A)
publish(Application.ScenariosSet, "application.scenarios_set", ScenariosSetData, application_id=A)
publish(Application.ContractSaved, "application.contract_saved", ContractSavedData, application_id=A)
publish(Application.ContractRemoved, "application.contract_removed", ContractRemovedData, application_id=A)
publish(Application.DocumentAttached, "application.document_attached", DocumentAttachedData, application_id=A)
publish(Application.DocumentRemoved, "application.document_removed", DocumentRemovedData, application_id=A)
publish(Application.PledgeGiven, "application.pledge_given", PledgeGivenData, application_id=A)
publish(Application.Submitted, "application.submitted", SubmittedData, application_id=A)
publish(Application.Resubmitted, "application.resubmitted", SubmittedData, application_id=A)
publish(Application.Withdrawn, "application.withdrawn", ReasonData, application_id=A)
publish(Application.ReturnedForCorrection, "application.returned_for_correction", ReturnedData, application_id=A)
