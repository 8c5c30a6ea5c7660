"""The audit service, declared: the ledger of every service's events (hash-chained, with RFC 6962
checkpoints and proofs), its verification and its reconciliation with each source, the replay of any
application, spot checks and fraud decisions. It follows every service, itself included, so that its
own decisions are in the ledger too. The kit builds the running service from this
(docs/architecture.md)."""
from __future__ import annotations

from marshmallow import fields, validate

from shared.config import Settings
from shared.definition import ServiceDefinition, operation
from shared.fields import WholeNumber, identifier
from shared.identity import Role

from services.audit import projections as rm
from services.audit import schemas as s
from services.audit.events import contract
from services.audit.handlers import decisions, ledger_ops, replays, spot_checks
from services.audit.handlers.following import follows
from services.audit.store import AuditStore
from services.topology import SERVICES

PROVINCE = frozenset({Role.PROVINCE})
OVERSIGHT = frozenset({Role.PROVINCE, Role.AUDITOR})  # every jurisdiction, read only for auditors
PROOF_READERS = OVERSIGHT | {Role.SUBSCRIBER}  # other government systems check what they received
CHECK_READERS = OVERSIGHT | {Role.EXPERT}  # inspectors: the checks they were named on
INSPECTORS = frozenset({Role.PROVINCE, Role.EXPERT})
ONE_CHECK = {"spot_check_id": identifier()}


def make_store(settings: Settings) -> AuditStore:
    return AuditStore(settings.store_url("audit"), settings.clock(), settings.ledger_checkpoint_interval)


DEFINITION = ServiceDefinition(
    name="audit",
    make_store=make_store,
    contract=contract,
    operations=[
        # the ledger
        operation("ledger_head", ledger_ops.ledger_head, PROOF_READERS),
        operation("list_checkpoints", ledger_ops.list_checkpoints, PROOF_READERS,
                  {"after_size": WholeNumber(load_default=0, validate=validate.Range(min=0, max=2**53)),
                   "limit": WholeNumber(load_default=100, validate=validate.Range(min=1, max=1000))}),
        operation("ledger_entries", ledger_ops.ledger_entries, OVERSIGHT, {"query": s.EntryQuerySchema()}),
        operation("inclusion_proof", ledger_ops.inclusion_proof, PROOF_READERS, {"query": s.InclusionSchema()}),
        operation("consistency_proof", ledger_ops.consistency_proof, PROOF_READERS,
                  {"first": WholeNumber(required=True, validate=s.SEQ),
                   "second": WholeNumber(load_default=None, validate=s.SEQ)}),
        operation("verify_ledger", ledger_ops.verify_ledger, OVERSIGHT),
        operation("reconcile", ledger_ops.reconcile, OVERSIGHT,
                  {"source": fields.String(load_default=None, validate=validate.Length(min=1, max=32))}),
        # replay
        operation("replay_application", replays.replay_application, OVERSIGHT,
                  {"application_id": identifier(), "as_of": fields.Nested(s.AsOfSchema, load_default=dict)}),
        # spot checks
        operation("draw_spot_check", spot_checks.draw_spot_check, PROVINCE, {"data": s.DrawSchema()}, idempotent=True),
        operation("record_finding", spot_checks.record_finding, INSPECTORS,
                  {"spot_check_id": identifier(), "application_id": identifier(), "finding": s.FindingSchema()},
                  idempotent=True, locate=spot_checks.locate_check),
        operation("get_spot_check", spot_checks.get_spot_check, CHECK_READERS, ONE_CHECK),
        operation("list_spot_checks", spot_checks.list_spot_checks, CHECK_READERS, {"query": s.ListQuerySchema()}),
        operation("get_finding_evidence", spot_checks.get_evidence, CHECK_READERS, {"document_id": identifier()}),
        # fraud decisions
        operation("decide_fraud", decisions.decide_fraud, PROVINCE, {"data": s.DecisionSchema()}, idempotent=True),
        operation("get_decision", decisions.get_decision, OVERSIGHT, {"decision_id": identifier()}),
        operation("list_decisions", decisions.list_decisions, OVERSIGHT, {"query": s.DecisionQuerySchema()}),
    ],
    follows=follows(SERVICES),
    parks_failures=False,  # the ledger skips nothing: a failing event stalls its source (health: `stalled`)
    follow_batch=100,  # its handlers read the ledger inside the transaction: many events per commit
    projections=[rm.project_checkpoint, rm.project_spot_check, rm.project_decision],
)
