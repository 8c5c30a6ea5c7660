"""The audit service's public event contract (docs/events.md). Inspectors' evidence files are named
and digested here, never published; a spot check's population and sample name applications and
their city-level units only."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from shared.contract import Contract

from services.audit.domain import Checkpoint, FraudDecision, SpotCheck

contract = Contract("audit")


class CheckpointData(Schema):
    """The RFC 6962 root over the ledger's first `tree_size` entries, and the chain value of entry
    `tree_size` (docs/audit.md): keep it, and ask for proofs against it."""

    tree_size = fields.Integer()
    root = fields.String()
    chain_head = fields.String()


class SpotCheckDrawnData(Schema):
    """`rules.draw_sample(seed, population, size, stratify_by_city)` gives `sample` again (docs/audit.md)."""

    campaign_code = fields.String()
    rule = fields.String()
    seed = fields.String()
    population = fields.List(fields.Dict())
    size = fields.Integer()
    share = fields.String(allow_none=True)
    stratify_by_city = fields.Boolean()
    allocation = fields.Dict()
    sample = fields.List(fields.Dict())
    inspectors = fields.List(fields.String())


class FindingData(Schema):
    finding_id = fields.String()
    outcome = fields.String()
    summary = fields.String()
    evidence = fields.List(fields.Dict())


class DecisionData(Schema):
    outcome = fields.String()
    subject = fields.String()
    uscc = fields.String(allow_none=True)
    enterprise_name = fields.String(allow_none=True)
    campaign_code = fields.String(allow_none=True)
    provider_id = fields.String(allow_none=True)
    reasons = fields.List(fields.String())
    grounds = fields.Dict()
    findings = fields.List(fields.String())


class BannedData(Schema):
    uscc = fields.String()
    enterprise_name = fields.String()
    reason = fields.String()
    starts_on = fields.String()
    ends_on = fields.String()
    ban_years = fields.Integer()


class DisqualifiedData(Schema):
    provider_id = fields.String()
    reason = fields.String()


def application_of(event: Any) -> str | None:
    return None if event.application_id is None else str(event.application_id)


contract.register(Checkpoint.Recorded, "audit.checkpoint_recorded", CheckpointData)
contract.register(SpotCheck.Drawn, "audit.spot_check_drawn", SpotCheckDrawnData)
for cls, name, schema in (
    (SpotCheck.FindingRecorded, "audit.finding_recorded", FindingData),
    (FraudDecision.FraudFound, "audit.fraud_found", DecisionData),
    (FraudDecision.FraudCleared, "audit.fraud_cleared", DecisionData),
    (FraudDecision.EnterpriseBanned, "audit.enterprise_banned", BannedData),
    (FraudDecision.ProviderDisqualified, "audit.provider_disqualified", DisqualifiedData),
):
    contract.register(cls, name, schema, application_id=application_of)
