"""Regenerate docs/events.md from the services' public contracts, with a real example of every
event type taken from a scripted run of both services (in-process, SQLite in a temp dir).

    .venv/bin/python tools/gen_event_docs.py

What the page states is read from the code where the code holds it: the exchange from
`shared.relay.events_exchange`, the paging limits from the declared `get_notifications` parameters,
the envelope's types from `shared.contract.EnvelopeSchema`, each `data` field's type and allowed values
from the event's marshmallow schema (field class -> JSON type; OneOf/Range/Length/Regexp -> allowed
values and bounds; nested schemas and lists described). Where an event schema declares a field only
as a bare string or object, ENRICHED below gives the shape the code writes there, built from the
code's own input schemas and constants; every event of the scripted run is then loaded with those
documented shapes (unknown keys refused), so a shape that is no longer true stops the generator.
tests/unit/test_docs.py and tests/contract fail when a public type is missing from the page."""
from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import copy  # noqa: E402
import inspect  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from datetime import datetime  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable, Iterable  # noqa: E402

from marshmallow import Schema, ValidationError, fields, validate  # noqa: E402
from marshmallow.utils import missing  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.application import schemas as app_in  # noqa: E402
from services.review import schemas as review_in  # noqa: E402
from services.scoring import schemas as scoring_in  # noqa: E402
from services.subsidy import schemas as subsidy_in  # noqa: E402
from services.audit import schemas as audit_in  # noqa: E402
from services.audit.domain import FINDING_OUTCOMES  # noqa: E402
from tests.support.audit_inprocess import Five  # noqa: E402
from services.review.domain import FINAL, Stage, Status  # noqa: E402
from services.review.handlers.deadlines import check_deadlines  # noqa: E402
from services.topology import definitions  # noqa: E402
from shared.clock import SHANGHAI, FixedClock  # noqa: E402
from shared.contract import ActorSchema, EnvelopeSchema, event_id, log_page  # noqa: E402
from shared.event_log_operations import EVENT_LOG_OPERATIONS  # noqa: E402
from shared.fields import CreditCode, IsoDate, Money  # noqa: E402
from shared.identity import READS_EVENT_LOGS, Role  # noqa: E402
from shared.relay import OutboxRelay, events_exchange  # noqa: E402
from tests.support import builders as b  # noqa: E402
from tests.support.builders import fill_complete  # noqa: E402
from tests.support.review_inprocess import Both, all_confirmed, checklist_all_match  # noqa: E402
from tests.support.scoring_inprocess import Three, sheet  # noqa: E402
from tests.support.subsidy_inprocess import PAYEE, Four, invoices_for  # noqa: E402


# ====================================================================== describing marshmallow fields
def type_of(field: fields.Field) -> str:
    """The JSON type of a field's value, in the words of the page's "Types" table."""
    if isinstance(field, Variant):
        return "object, by `" + field.key + "`"
    if isinstance(field, Money):
        return "money"
    if isinstance(field, (IsoDate, fields.Date)) and not isinstance(field, fields.DateTime):
        return "date"
    if isinstance(field, fields.DateTime):
        return "instant"
    if isinstance(field, CreditCode):
        return "credit code"
    if isinstance(field, fields.UUID):
        return "UUID"
    if isinstance(field, fields.Email):
        return "e-mail"
    if isinstance(field, fields.Decimal):
        return "decimal" if field.as_string else "number"
    if isinstance(field, fields.Boolean):
        return "boolean"
    if isinstance(field, fields.Integer):
        return "integer"
    if isinstance(field, fields.Number):
        return "number"
    if isinstance(field, fields.String):
        return "string"
    if isinstance(field, fields.List):
        return "array of " + type_of(field.inner)
    if isinstance(field, fields.Nested):
        return ("array of " if field.many else "") + shape_ref(nested_schema(field))
    if isinstance(field, fields.Dict):
        key = field.metadata.get("key", "key")
        if field.value_field is None:
            return "object"
        return f"object {{`<{key}>`: {type_of(field.value_field)}}}"
    return "any JSON value"


def nested_schema(field: fields.Nested) -> type[Schema]:
    nested = field.nested() if callable(field.nested) and not isinstance(field.nested, type) else field.nested
    return nested if isinstance(nested, type) else type(nested)


# Checks written as plain functions in the input schemas, in words.
FUNCTION_CHECKS = {
    "strong_password": "at least 10 characters, with letters and digits",
    "known_industry": "a GB/T 4754-2017 division or class code (2–4 digits)",
    "hebei_county": "a Hebei county-level GB/T 2260 code (docs/reference-data.md)",
    "plain_text": "no control characters",
    "each_scenario_once": "each (category, scenario) once",
}


def bounds(v: validate.Validator | Callable[..., Any], what: str) -> str:
    if isinstance(v, validate.OneOf):
        choices = [f"`{c}`" for c in v.choices]
        return choices[0] if len(choices) == 1 else "one of " + ", ".join(choices)
    if isinstance(v, validate.Range):
        low = None if v.min is None else ("≥ " if v.min_inclusive else "> ") + str(v.min)
        high = None if v.max is None else ("≤ " if v.max_inclusive else "< ") + str(v.max)
        return ", ".join(x for x in (low, high) if x)
    if isinstance(v, validate.Length):
        unit = "items" if what == "items" else "characters"
        if v.equal is not None:
            return f"exactly {v.equal} {unit}"
        if v.min is not None and v.max is not None:
            return f"{v.min}–{v.max} {unit}"
        if v.min is not None:
            if v.min == 1:
                return "not empty" if unit == "characters" else "at least one item"
            return f"at least {v.min} {unit}"
        return f"at most {v.max} {unit}"
    if isinstance(v, validate.Regexp):
        pattern = v.regex.pattern
        return f"matches `{pattern if isinstance(pattern, str) else pattern.decode()}`"
    if isinstance(v, validate.Equal):
        return f"`{json.dumps(v.comparable)}`"
    if isinstance(v, validate.Email):
        return ""  # the type says it
    names = [getattr(v, "__name__", ""), *getattr(getattr(v, "__code__", None), "co_names", ())]
    known = [FUNCTION_CHECKS[n] for n in names if n in FUNCTION_CHECKS]
    return known[0] if known else "further checked on input (docs/rpc.md)"


def allowed(field: fields.Field) -> str:
    """The allowed values and bounds of a field, from its validators (and those of its items)."""
    notes: list[str] = []
    what = "items" if isinstance(field, (fields.List, fields.Dict)) else "text"
    notes += [bounds(v, what) for v in field.validators]
    if isinstance(field, fields.List):
        inner = allowed(field.inner)
        if inner:
            notes.append("each: " + inner)
    if isinstance(field, fields.Dict):
        if field.key_field is not None and allowed(field.key_field):
            notes.append("keys: " + allowed(field.key_field))
        if field.value_field is not None and allowed(field.value_field):
            notes.append("values: " + allowed(field.value_field))
    if isinstance(field, Variant):
        notes.append("; ".join(f"`{k}`: {shape_ref(s)}" for k, s in field.shapes.items()))
    if field.allow_none:
        notes.append("or `null`" + (f" ({field.metadata['null']})" if field.metadata.get("null") else ""))
    if field.metadata.get("note"):
        notes.append(field.metadata["note"])
    return "; ".join(n for n in notes if n)


def present(field: fields.Field) -> str:
    return "always" if field.required or field.load_default is not missing else "when given"


class Variant(fields.Field):
    """Documentation only: an object whose shape depends on a sibling field (e.g. a return's `details`
    on its `stage`). Loading checks the value against the shape the sibling names."""

    def __init__(self, key: str, shapes: dict[str, type[Schema]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.key, self.shapes = key, shapes

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        shape = self.shapes.get(str((data or {}).get(self.key)))
        if shape is None:
            raise ValidationError(f"no documented shape for {self.key} = {(data or {}).get(self.key)!r}")
        return shape().load(value)


# ====================================================================== shapes the code writes as plain objects
# Each is a marshmallow schema so that it is described and checked like any other. Built from the
# code's input schemas and constants; a shape named here is documented once under "Shapes".
def doc(field: fields.Field, **metadata: Any) -> fields.Field:
    """A copy of the field with notes for the page (`note`, and `null`: when the value is null)."""
    field = copy.deepcopy(field)
    field.metadata = {**field.metadata, **metadata}
    return field


def always(field: fields.Field) -> fields.Field:
    field = copy.deepcopy(field)
    field.required = True
    return field


STAGES = [s.value for s in Stage]
SIX_DIGITS = validate.Regexp(r"^\d{6}$")
ISSUED_ROLES = [r.value for r in app_in.ISSUED_ROLES]


class ActorShape(Schema):
    id = always(doc(fields.String(), note="the account's id (a UUID), `system` for the system itself, or `public`"))
    # `public`: someone without an account (an objection lodged by the public, services/scoring).
    role = always(fields.String(validate=validate.OneOf([r.value for r in Role] + ["public"])))


class DocumentShape(Schema):
    document_id = always(doc(fields.String(), note="`d-` and the first 12 hex digits of `sha256`, `-` and 4 hex digits"))
    kind = always(fields.String(validate=validate.OneOf(app_in.DOCUMENT_KINDS)))
    filename = always(fields.String(validate=validate.Length(min=1, max=255)))
    content_type = always(doc(fields.String(), note="one of the campaign's `evidence.content_types`"))
    size = always(doc(fields.Integer(validate=validate.Range(min=1)), note="bytes"))
    sha256 = always(fields.String(validate=validate.Regexp(r"^[0-9a-f]{64}$")))
    contract_id = always(fields.String(allow_none=True))


class ContractShape(app_in.ContractSchema):
    contract_id = always(doc(fields.String(validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,64}$")),  # type: ignore[assignment]
                             note="given, or generated on saving"))


class PledgeShape(app_in.PledgeSchema):
    given_at = always(fields.AwareDateTime())


class EmptyOr(fields.Nested):
    """Documentation only: a nested object, or `{}`."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, partial: Any = None, **kwargs: Any) -> Any:
        return {} if value == {} else super()._deserialize(value, attr, data, partial, **kwargs)


class ApplicationContent(Schema):
    """The application as submitted (also in review.recommended)."""

    campaign_code = always(fields.String())
    uscc = always(CreditCode())
    enterprise_name = always(fields.String())
    county_code = always(fields.String(validate=SIX_DIGITS))
    unit_code = always(doc(fields.String(validate=SIX_DIGITS), note="the county's city-level unit"))
    enterprise = always(doc(fields.Nested(app_in.EnterpriseSectionSchema), note="the fields given so far"))
    cloud = always(doc(fields.Nested(app_in.CloudSectionSchema), note="the fields given so far"))
    scenarios = always(fields.List(fields.Nested(app_in.ScenarioSchema)))
    contracts = always(doc(fields.List(fields.Nested(ContractShape)), note="ordered by `signed_on`, then `contract_id`"))
    documents = always(doc(fields.List(fields.Nested(DocumentShape)), note="ordered by `document_id`"))
    pledge = always(doc(EmptyOr(PledgeShape), note="`{}` before the pledge was given"))


class DeadlinesShape(Schema):
    provider = always(IsoDate())
    county = always(IsoDate())
    city = always(IsoDate())
    system_close = always(IsoDate())


class ProviderConfirmationShape(Schema):
    items = always(fields.Nested(review_in.ProviderItemsSchema))
    remarks = always(fields.String(validate=review_in.REMARK))
    by = always(fields.Nested(ActorShape))


class CountyChecklistShape(Schema):
    checklist = always(doc(fields.Dict(keys=fields.String(), values=fields.Nested(review_in.ChecklistEntrySchema)),
                           key="document_id", note="one entry per document of the application"))
    remarks = always(fields.String(validate=review_in.REMARK))
    local_industrial_enterprise = always(fields.Boolean(allow_none=True))
    by = always(fields.Nested(ActorShape))


class ConfirmedContractShape(Schema):
    contract_id = always(fields.String())
    provider_id = always(doc(fields.String(), note="the provider named on the application, which confirmed it"))


class ProviderReturnDetails(Schema):
    disputed = always(doc(fields.Dict(keys=fields.String(), values=fields.String()), key="item",
                          note="each item the provider did not confirm: `first_cloud_date`, `content`, `results` or "
                               "`contract:<contract_id>`, with the provider's remark (may be empty)"))


class CountyReturnDetails(Schema):
    checklist = always(doc(fields.Dict(keys=fields.String(), values=fields.Nested(review_in.ChecklistEntrySchema)),
                           key="document_id"))
    complete = always(fields.Boolean())
    local_industrial_enterprise = always(fields.Boolean())


class CityReturnDetails(Schema):
    opinion = always(fields.String(validate=review_in.CityReviewSchema._declared_fields["opinion"].validators[0]))


class PayeeShape(Schema):
    name = fields.String(validate=validate.Length(min=2, max=200))
    bank = fields.String(validate=validate.Length(min=2, max=200))
    account = doc(fields.String(validate=validate.Regexp(r"^\*{4,28}[0-9]{4}$")),
                  note="masked: `*` for every digit but the last four")


class AttachmentShape(Schema):
    content_type = fields.String(validate=validate.OneOf(scoring_in.ATTACHMENT_TYPES))
    size = fields.Integer(validate=validate.Range(min=1, max=scoring_in.ATTACHMENT_MAX_BYTES))
    sha256 = fields.String(validate=validate.Regexp(r"^[0-9a-f]{64}$"))


class DrawnMemberShape(Schema):
    application_id = always(fields.UUID())
    unit_code = always(doc(fields.String(validate=SIX_DIGITS), note="the city-level unit (the stratum)"))


class SampledShape(DrawnMemberShape):
    uscc = always(CreditCode())
    enterprise_name = always(fields.String())


class EvidenceFileShape(Schema):
    document_id = always(fields.UUID())
    filename = always(fields.String(validate=validate.Length(min=1, max=200)))
    content_type = always(fields.String(validate=validate.OneOf(audit_in.EVIDENCE_TYPES)))
    sha256 = always(fields.String(validate=validate.Regexp(r"^[0-9a-f]{64}$")))
    size = always(doc(fields.Integer(validate=validate.Range(min=1)), note="bytes"))


SHAPES: list[tuple[str, type[Schema], str]] = [
    ("actor", ActorShape, "Who acted, as in the envelope's `actor`."),
    ("application content", ApplicationContent,
     "The whole application at its submission: `application.submitted`/`resubmitted` `content` and "
     "`review.recommended` `content`."),
    ("enterprise section", app_in.EnterpriseSectionSchema,
     "附件2 申报表, 申报企业基本信息: the fields `update_section` accepts for `enterprise`; any subset."),
    ("cloud section", app_in.CloudSectionSchema,
     "附件2 上云基本情况: the fields `update_section` accepts for `cloud`; any subset."),
    ("planning", app_in.PlanningSchema, "The cloud section's `planning`."),
    ("scenario", app_in.ScenarioSchema,
     "附表: one category and scenario of `reference_data(\"taxonomy\")`, its products and results; `metrics` "
     "as the taxonomy defines them for that scenario."),
    ("before/after", app_in.BeforeAfterSchema, "One indicator before and after adopting the cloud."),
    ("contract", ContractShape, "A cloud service contract (近三年企业上云服务合同)."),
    ("document", DocumentShape, "An evidence document's metadata (its content is never published)."),
    ("pledge", PledgeShape, "The enterprise's pledge (真实性承诺)."),
    ("campaign settings", app_in.CampaignSettingsSchema, "A campaign's settings as `open_campaign` accepted them."),
    ("rubric item", app_in.RubricItemSchema, "One scoring criterion; the maxima add up to 100."),
    ("evidence limits", app_in.EvidenceLimitsSchema, "What evidence files a campaign accepts."),
    ("deadlines", DeadlinesShape, "A case's stage target dates and the system close (from the campaign)."),
    ("provider items", review_in.ProviderItemsSchema,
     "The provider's answer on each item the notice asks it to confirm "
     "(上云时间、上云内容、上云成效、相关合同及金额)."),
    ("item answer", review_in.ItemSchema, "One confirmed or disputed item."),
    ("checklist entry", review_in.ChecklistEntrySchema, "The county's check of one document against its original."),
    ("provider confirmation", ProviderConfirmationShape, "The provider step's result."),
    ("county checklist", CountyChecklistShape, "The county step's result."),
    ("confirmed contract", ConfirmedContractShape, "A contract the provider confirmed, and by whom."),
    ("provider return details", ProviderReturnDetails, "`details` of a return at the `provider` step (a dispute)."),
    ("county return details", CountyReturnDetails, "`details` of a return at the `county` step: the answers given."),
    ("city return details", CityReturnDetails, "`details` of a return at the `city` step."),
    ("payee", PayeeShape, "Who the subsidy is paid to, as the public events show it (finance and the enterprise read the account whole)."),
    ("invoice", subsidy_in.InvoiceSchema, "An invoice or payment voucher of a contract, as the enterprise gave it for the filing."),
    ("objection attachment", AttachmentShape, "A file lodged with an objection: its type, size and digest, never its name or content."),
    ("drawn member", DrawnMemberShape, "A benchmark enterprise in a spot check's population."),
    ("sampled enterprise", SampledShape, "A benchmark enterprise a spot check drew."),
    ("evidence file", EvidenceFileShape, "An inspector's evidence file: its name, type, digest and size (its content is never published)."),
    ("grounds", audit_in.GroundsSchema, "Where a suspicion of fraud came from."),
]
SHAPE_NAMES = {schema: name for name, schema, _ in SHAPES} | {ActorSchema: "actor"}  # the envelope's own


def shape_ref(schema: type[Schema]) -> str:
    name = SHAPE_NAMES.get(schema)
    if name is None:
        raise SystemExit(f"{schema.__name__} is nested in a documented shape: add it to SHAPES")
    return f"[{name}](#{anchor(name)})"


def anchor(name: str) -> str:
    return "shape-" + "".join(c if c.isalnum() else "-" for c in name)


def scoring_shapes() -> dict[str, dict[str, fields.Field]]:
    declared = scoring_in.DeclarationSchema._declared_fields
    sheet_in = scoring_in.SheetSchema._declared_fields
    declaration = {"account_id": fields.UUID(), "kind": declared["kind"], "employers": declared["employers"],
                   "enterprises": declared["enterprises"], "providers": declared["providers"],
                   "declared_on": doc(IsoDate(), note="Asia/Shanghai; current for a campaign's `declaration_valid_days`")}
    return {
        "scoring.interests_declared": declaration,
        "scoring.interests_renewed": declaration,
        "scoring.candidate_opened": {"application_id": fields.UUID(), "round": fields.Integer(validate=validate.Range(min=1)),
                                     "uscc": CreditCode(), "county_code": fields.String(validate=SIX_DIGITS),
                                     "unit_code": fields.String(validate=SIX_DIGITS),
                                     "submitted_at": doc(fields.AwareDateTime(), null="the review service did not know it"),
                                     "confirmed_contracts": fields.List(fields.Nested(ConfirmedContractShape))},
        "scoring.evaluators_assigned": {"evaluator_ids": doc(fields.List(fields.UUID()), note="account ids"),
                                        "draw_id": fields.UUID()},
        "scoring.assignment_declined": {"evaluator_id": fields.UUID(), "reason": scoring_in.DeclineSchema._declared_fields["reason"]},
        "scoring.sheet_saved": {"evaluator_id": fields.UUID(), "scores": sheet_in["scores"],
                                "justifications": sheet_in["justifications"]},
        "scoring.sheet_finalised": {"evaluator_id": fields.UUID(), "scores": sheet_in["scores"],
                                    "justifications": sheet_in["justifications"],
                                    "total": fields.Integer(validate=validate.Range(min=0, max=100))},
        "scoring.sheet_reopened": {"evaluator_id": fields.UUID(), "reason": scoring_in.ReopenSchema._declared_fields["reason"]},
        "scoring.awarded": {"uscc": CreditCode(), "county_code": fields.String(validate=SIX_DIGITS),
                            "unit_code": fields.String(validate=SIX_DIGITS),
                            "confirmed_contracts": fields.List(fields.Nested(ConfirmedContractShape)),
                            "content": fields.Nested(ApplicationContent),
                            "provider_confirmation": fields.Nested(ProviderConfirmationShape),
                            "county_checklist": fields.Nested(CountyChecklistShape),
                            "score": doc(fields.String(validate=validate.Regexp(r"^\d{1,3}\.\d{2}$")),
                                         note="the experts' mean total, two decimals")},
        "scoring.objection_lodged": {"application_id": fields.UUID(),
                                     "attachments": doc(fields.List(fields.Nested(AttachmentShape)),
                                                        note="digests only; the files stay with the province")},
        "scoring.objection_decided": {"outcome": scoring_in.DecisionSchema._declared_fields["outcome"],
                                      "reasons": scoring_in.DecisionSchema._declared_fields["reasons"]},
        "scoring.entry_removed": {"application_id": fields.UUID(),
                                  "objection_id": doc(fields.String(), note="the upheld objection; `\"\"` when the enterprise withdrew")},
        "scoring.draw_made": {"unit_code": doc(fields.String(validate=SIX_DIGITS), null="every candidate of the campaign"),
                              "applications": fields.List(fields.UUID()), "evaluators": fields.List(fields.UUID())},
        "scoring.list_adopted": {"ranking_id": fields.UUID(), "entries": fields.List(fields.UUID())},
        "scoring.notice_published": {"entries": fields.List(fields.UUID()), "opens_at": fields.AwareDateTime(),
                                     "closes_at": doc(fields.AwareDateTime(), note="the end of the period's last day, Asia/Shanghai")},
        "scoring.list_announced": {"document_number": scoring_in.AnnounceSchema._declared_fields["document_number"],
                                   "entries": fields.List(fields.UUID())},
    }


# ====================================================================== what the event schemas leave bare
ANY_REASON = fields.String()
RETURN_REASONS = doc(fields.List(fields.String(validate=validate.Length(min=1)), validate=validate.Length(min=1)),
                     note="the reviewer's reasons; for a provider's dispute without reasons, one "
                          "`<item>: <remark>` per disputed item")
ENRICHED: dict[str, dict[str, fields.Field]] = {
    "application.account_registered": {
        "username": fields.String(validate=app_in.USERNAME),
        "role": fields.String(validate=validate.OneOf(["enterprise"])),
        "display_name": doc(app_in.RegisterEnterpriseSchema._declared_fields["name"], note="the enterprise's name"),
        "enterprise_id": fields.UUID(),
    },
    "application.account_provisioned": {
        "username": doc(fields.String(), note="as `provision_account` accepts it (the bootstrap account: as configured)"),
        "role": fields.String(validate=validate.OneOf(ISSUED_ROLES)),
        "display_name": fields.String(validate=validate.Length(min=1, max=200)),
        "division_code": doc(fields.String(validate=SIX_DIGITS),
                             note="a county code for `county`, a city-level unit code for `city`, else `null`"),
        "provider_id": doc(fields.String(), note="for `provider` only, else `null`"),
    },
    "application.account_password_reset": {"reason": app_in.AccountStateSchema._declared_fields["reason"]},
    "application.account_deactivated": {"reason": app_in.AccountStateSchema._declared_fields["reason"]},
    "application.account_reactivated": {"reason": app_in.AccountStateSchema._declared_fields["reason"]},
    "application.enterprise_registered": {
        "uscc": CreditCode(), "name": app_in.RegisterEnterpriseSchema._declared_fields["name"],
        "county_code": app_in.RegisterEnterpriseSchema._declared_fields["county_code"], "account_id": fields.UUID(),
    },
    "application.campaign_opened": {
        "code": app_in.CampaignSettingsSchema._declared_fields["code"],
        "settings": fields.Nested(app_in.CampaignSettingsSchema),
    },
    "application.provider_added_to_pool": {
        "provider_id": app_in.ProviderSchema._declared_fields["provider_id"],
        "name": app_in.ProviderSchema._declared_fields["name"], "uscc": CreditCode(),
        "reason": app_in.ProviderSchema._declared_fields["reason"],
    },
    "application.provider_removed_from_pool": {
        "reason": ANY_REASON,
        "source": doc(fields.String(validate=validate.OneOf(["province", "audit"])),
                      note="`audit`: the audit service found fraud"),
    },
    "application.ban_recorded": {
        "uscc": CreditCode(), "starts_on": IsoDate(), "ends_on": doc(IsoDate(), note="the last day of the ban"),
        "source": fields.String(validate=validate.OneOf(["province", "audit"])),
        "source_ref": doc(fields.String(), note="for `audit`: the audit event's `event_id`"),
    },
    "application.ban_lifted": {"reason": app_in.LiftBanSchema._declared_fields["reason"]},
    "application.started": {
        "campaign_id": fields.UUID(), "enterprise_id": fields.UUID(), "account_id": fields.UUID(), "uscc": CreditCode(),
        "county_code": fields.String(validate=SIX_DIGITS), "unit_code": fields.String(validate=SIX_DIGITS),
    },
    "application.section_updated": {
        "section": fields.String(validate=validate.OneOf(sorted(app_in.SECTIONS))),
        "values": doc(Variant("section", {"enterprise": app_in.EnterpriseSectionSchema,
                                          "cloud": app_in.CloudSectionSchema}),
                      note="only the fields given, which replace those stored"),
    },
    "application.scenarios_set": {"scenarios": doc(fields.List(fields.Nested(app_in.ScenarioSchema)),
                                                   note="the whole list, replacing the previous one")},
    "application.contract_saved": {"contract": fields.Nested(ContractShape)},
    "application.document_attached": {"document": fields.Nested(DocumentShape)},
    "application.pledge_given": dict(app_in.PledgeSchema._declared_fields),
    "application.submitted": {
        "round": doc(fields.Integer(validate=validate.Equal(1)), note="the first submission"),
        "content": fields.Nested(ApplicationContent),
    },
    "application.resubmitted": {
        "round": doc(fields.Integer(validate=validate.Range(min=2)), note="the round after the return"),
        "content": fields.Nested(ApplicationContent),
    },
    "application.withdrawn": {"reason": app_in.WithdrawSchema._declared_fields["reason"]},
    "application.returned_for_correction": {
        "round": fields.Integer(validate=validate.Range(min=1)),
        "stage": fields.String(validate=validate.OneOf(STAGES)),
        "reasons": RETURN_REASONS,
        "review_event_id": doc(fields.UUID(), note="the `event_id` of the `review.returned_for_correction` it follows"),
    },
    "review.case_opened": {
        "application_id": fields.UUID(), "round": fields.Integer(validate=validate.Range(min=1)),
        "county_code": fields.String(validate=SIX_DIGITS), "unit_code": fields.String(validate=SIX_DIGITS),
        "provider_id": doc(fields.String(), note="the provider named on the application"),
        "deadlines": fields.Nested(DeadlinesShape),
    },
    "review.case_restarted": {"round": fields.Integer(validate=validate.Range(min=2)),
                              "provider_id": doc(fields.String(), note="the provider named on the resubmitted application")},
    "review.provider_confirmed": {
        "round": fields.Integer(validate=validate.Range(min=1)),
        "items": doc(fields.Nested(review_in.ProviderItemsSchema), note="every item confirmed"),
        "remarks": fields.String(validate=review_in.REMARK),
    },
    "review.county_passed": {
        "round": fields.Integer(validate=validate.Range(min=1)),
        "checklist": doc(fields.Dict(keys=fields.String(), values=fields.Nested(review_in.ChecklistEntrySchema)),
                         key="document_id", note="every document, each matching its original"),
        "remarks": fields.String(validate=review_in.REMARK),
        "local_industrial_enterprise": doc(fields.Boolean(validate=validate.Equal(True)),
                                           null="recorded before schema_version 2"),
    },
    "review.recommended": {
        "round": fields.Integer(validate=validate.Range(min=1)),
        "opinion": review_in.CityReviewSchema._declared_fields["opinion"],
        "content": fields.Nested(ApplicationContent),
        "provider_confirmation": fields.Nested(ProviderConfirmationShape),
        "county_checklist": fields.Nested(CountyChecklistShape),
        "submitted_at": doc(fields.AwareDateTime(), null="upcast from schema_version 1, or a case opened before "
                                                         "it was kept"),
        "confirmed_contracts": fields.List(fields.Nested(ConfirmedContractShape)),
    },
    "review.declined": {
        "round": fields.Integer(validate=validate.Range(min=1)),
        "opinion": review_in.CityReviewSchema._declared_fields["opinion"],
    },
    "review.returned_for_correction": {
        "round": fields.Integer(validate=validate.Range(min=1)),
        "stage": fields.String(validate=validate.OneOf(STAGES)),
        "reasons": RETURN_REASONS,
        "details": Variant("stage", {"provider": ProviderReturnDetails, "county": CountyReturnDetails,
                                     "city": CityReturnDetails}),
    },
    "review.rejected": {
        "round": fields.Integer(validate=validate.Range(min=1)),
        "stage": doc(fields.String(validate=validate.OneOf(["provider", "county"])),
                     note="the city declines instead (`review.declined`)"),
        "reasons": fields.List(fields.String(validate=validate.Length(min=1, max=2000)),
                               validate=validate.Length(min=1)),
    },
    "review.case_withdrawn": {"reason": app_in.WithdrawSchema._declared_fields["reason"]},
    "review.stage_overdue": {
        "round": fields.Integer(validate=validate.Range(min=1)),
        "stage": fields.String(validate=validate.OneOf(STAGES)),
        "due": doc(IsoDate(), note="the stage's target date, now passed"),
    },
    "review.case_lapsed": {
        "round": fields.Integer(validate=validate.Range(min=1)),
        "stage": fields.String(validate=validate.OneOf(STAGES)),
        "status_before": fields.String(validate=validate.OneOf([s.value for s in Status if s not in FINAL])),
    },
    "review.city_ranking_set": {
        "unit_code": fields.String(validate=SIX_DIGITS),
        "application_ids": doc(fields.List(fields.UUID(), validate=validate.Length(min=1)),
                               note="the city's recommended applications, first ranked first"),
    },
    "review.city_ranking_changed": {
        "application_ids": doc(fields.List(fields.UUID(), validate=validate.Length(min=1)),
                               note="the city's recommended applications, first ranked first"),
    },
}
ENRICHED.update(scoring_shapes())
ENRICHED.update({
    "subsidy.case_opened": {"application_id": fields.UUID(), "uscc": CreditCode(),
                            "county_code": fields.String(validate=SIX_DIGITS), "unit_code": fields.String(validate=SIX_DIGITS),
                            "confirmed_contracts": fields.List(fields.Nested(ConfirmedContractShape))},
    "subsidy.details_given": {"payee": fields.Nested(PayeeShape), "invoices": fields.List(fields.Nested(subsidy_in.InvoiceSchema))},
    "subsidy.stamped": {"level": doc(fields.String(validate=validate.OneOf(["county", "city", "both"])),
                                     note="`both`: 定州 and 辛集, whose one bureau stamps for both levels")},
    "subsidy.sent_back": {"reasons": subsidy_in.SendBackSchema._declared_fields["reasons"]},
    "subsidy.approved": {"amount": Money()},
    "subsidy.paid": {"paid_on": IsoDate(), "amount": Money()},
    "subsidy.reclaim_opened": {"amount": doc(Money(), note="what was paid")},
    "subsidy.recovered": {"recovered_on": IsoDate(), "amount": Money(), "outstanding": doc(Money(), note="0.00: settled")},
})


HEX64 = validate.Regexp(r"^[0-9a-f]{64}$")
ENRICHED.update({
    "audit.checkpoint_recorded": {"tree_size": fields.Integer(validate=validate.Range(min=1)),
                                  "root": doc(fields.String(validate=HEX64), note="RFC 6962 root, hex"),
                                  "chain_head": doc(fields.String(validate=HEX64), note="the chain value of entry `tree_size`")},
    "audit.spot_check_drawn": {
        "rule": fields.String(validate=validate.OneOf(["stratified-seeded-v1"])),
        "population": fields.List(fields.Nested(DrawnMemberShape)),
        "share": doc(fields.String(allow_none=True), note="or `null` when a size was asked"),
        "allocation": doc(fields.Dict(keys=fields.String(validate=SIX_DIGITS), values=fields.Integer()),
                          note="per unit code, when stratified; `{}` otherwise"),
        "sample": fields.List(fields.Nested(SampledShape)),
        "inspectors": doc(fields.List(fields.String()), note="expert account ids"),
    },
    "audit.finding_recorded": {"finding_id": fields.UUID(), "outcome": fields.String(validate=validate.OneOf(FINDING_OUTCOMES)),
                               "evidence": fields.List(fields.Nested(EvidenceFileShape))},
    **{kind: {"outcome": fields.String(validate=validate.OneOf([outcome])),
              "subject": doc(fields.String(validate=validate.OneOf(["enterprise", "provider"])),
                             note="`provider`: a provider's own false confirmations; no application"),
              "uscc": CreditCode(allow_none=True), "reasons": audit_in.DecisionSchema._declared_fields["reasons"],
              "grounds": fields.Nested(audit_in.GroundsSchema),
              "findings": doc(fields.List(fields.UUID()), note="finding ids the decision rests on")}
       for kind, outcome in (("audit.fraud_found", "fraud"), ("audit.fraud_cleared", "no_fraud"))},
    "audit.enterprise_banned": {"uscc": CreditCode(), "starts_on": IsoDate(),
                                "ends_on": doc(IsoDate(), note="the last day of the ban: `ban_years` of the application's campaign")},
})


def data_fields(public: Any) -> dict[str, fields.Field]:
    """The fields of an event's `data` as documented: the event schema's own, where it leaves a field
    bare the shape from ENRICHED (an event schema's own validators and nesting are kept as they are)."""
    declared = public.schema._declared_fields
    extra = ENRICHED.get(public.name, {})
    unknown = set(extra) - set(declared)
    if unknown:
        raise SystemExit(f"ENRICHED documents {sorted(unknown)} that {public.name} does not have")
    documented: dict[str, fields.Field] = {}
    for name, field in declared.items():
        bare = not field.validators and not isinstance(field, fields.Nested) and not (
            isinstance(field, fields.List) and (field.inner.validators or isinstance(field.inner, fields.Nested)))
        chosen = copy.deepcopy(extra[name]) if name in extra and bare else copy.deepcopy(field)
        chosen.allow_none = chosen.allow_none or field.allow_none
        chosen.required = True
        documented[name] = chosen
    return documented


def check_against(found: Iterable[dict[str, Any]], types: dict[str, Any]) -> None:
    """Load every event of the scripted run with its documented shape: the page must be true."""
    problems = []
    for envelope in found:
        public = types[envelope["type"]]
        schema = Schema.from_dict(data_fields(public), name=public.schema.__name__ + "Documented")
        try:
            schema().load(envelope["data"])
        except ValidationError as e:
            problems.append(f"{envelope['type']}@{envelope['position']}: {e.messages}")
    if problems:
        raise SystemExit("docs/events.md would not be true:\n" + "\n".join(problems))


# ====================================================================== rendering
def table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def field_rows(schema_fields: dict[str, fields.Field], with_presence: bool) -> list[tuple[str, ...]]:
    rows = []
    for name, field in schema_fields.items():
        if field.load_only:
            continue  # an input never stored (a password, a file's content)
        row = (f"`{name}`", type_of(field), allowed(field))
        rows.append(row + ((present(field),) if with_presence else ()))
    return rows


def shapes_section() -> str:
    out = ["## Shapes of `data` objects\n",
           "Objects nested in several events. `present`: whether the key is always there or only when it was "
           "given (an enterprise fills its form in any order). Unless said otherwise no other keys occur.\n"]
    for name, schema, text in SHAPES:
        out.append(f'<a id="{anchor(name)}"></a>\n### {name}\n')
        out.append(text + "\n")
        declared = {n: f for n, f in schema._declared_fields.items()}
        out.append(table(field_rows(declared, True), ("key", "type", "allowed values", "present")))
    return "\n".join(out)


def operation(name: str) -> Any:
    return next(op for op in EVENT_LOG_OPERATIONS if op.name == name)


def paging_rows() -> list[tuple[str, ...]]:
    params = operation("get_notifications").params
    rows: list[tuple[str, ...]] = []
    for name, field in params.items():
        default = "required" if field.required else f"default {field.load_default}"
        rows.append((f"`{name}`", type_of(field), allowed(field), default))
    return rows


def header() -> str:
    sources = [d.name for d in definitions()]
    exchange = events_exchange("<source>")
    if exchange.type != "topic" or not exchange.durable or exchange.delivery_mode != 2:
        raise SystemExit("the events exchange changed: update the Delivery section")
    if 'message_id=envelope["event_id"]' not in inspect.getsource(OutboxRelay):
        raise SystemExit("the relay no longer sets message_id to event_id: update the Delivery section")
    page = operation("get_notifications")
    if page.access != READS_EVENT_LOGS:
        raise SystemExit("get_notifications' roles changed: update the text")
    roles = ", ".join(f"`{r.value}`" for r in sorted(READS_EVENT_LOGS, key=lambda r: r.value))
    exchanges = ", ".join(f"`{s}.events`" for s in sources)
    envelope_rows: list[tuple[str, ...]] = [(f"`{n}`", type_of(f) + (" or `null`" if f.allow_none else ""), ENVELOPE_MEANING[n])
                     for n, f in EnvelopeSchema._declared_fields.items()]
    return f"""# Public events

Generated by `tools/gen_event_docs.py` from the services' contracts (`services/*/events.py`) and the
kit (`shared/relay.py`, `shared/contract.py`, `shared/event_log_operations.py`); do not edit by
hand. Every event of a service is published on AMQP and can be read again, by position, from the
service's `get_notifications` RPC; a subscriber needs nothing but an AMQP 0-9-1 client.

## Delivery

| what | value |
|---|---|
| exchange | `<source>.events`, one per service: {exchanges} |
| exchange type | `{exchange.type}`, durable (declare it with these properties, or passively) |
| routing key | the event's `type`, e.g. `review.recommended` |
| body | the envelope below, JSON, UTF-8 (`content_type: application/json`, `content_encoding: utf-8`) |
| `message_id` | the envelope's `event_id` |
| delivery mode | 2 (persistent); published with publisher confirms, at least once |
| headers | none: no credentials, no nameko context |

Publishing is at least once and in position order per source: after a crash the relay publishes
again from the last position it recorded, so a message can arrive twice.

## Reading the log: `get_notifications(after, limit)`

An RPC of every service (docs/rpc.md, "The wire": exchange `nameko-rpc`, routing key
`<source>.get_notifications`, the token in the header `nameko.auth_token`), for the roles {roles}.

{table(paging_rows(), ("argument", "type", "allowed values", "default"))}
It answers `{{"source": "<source>", "notifications": [envelope, …], "max_position": n}}`: the envelopes
with positions greater than `after`, in ascending position, at most `limit` of them; `max_position`
is the highest position in the log now. A bad argument is `invalid_input` naming it; another role
is `forbidden`; an event the service itself cannot read is `integrity_failure` naming its
`position` (the log is not served past it).

## Catching up (a subscriber in any language)

1. Declare your own **durable** queue and bind it to the exchange `<source>.events` with routing key
   `#` (every type; or one binding per type you want). Bind before you first pull, so nothing
   published meanwhile is missed.
2. Keep, per source, the last position you processed (`last`, 0 at first), stored in the same
   transaction as whatever processing produces.
3. At start (and then now and then, e.g. every few minutes, so a lost message or a queue that did
   not exist yet loses nothing): call `get_notifications(after=last, limit=500)`, process every
   envelope in the order given, set `last` to each one's `position`, and repeat while a page came back
   full (`limit` envelopes).
4. For each message from the queue: if its `position` ≤ `last`, it is a duplicate: acknowledge and
   skip it. If it is `last + 1`, process it. If it is higher, there is a gap before it: pull with
   `get_notifications(after=last)` as in 3 (which brings this event too) instead of processing the
   message on its own. Acknowledge after your transaction commits. (The services themselves take
   every message only as a prompt to pull, never trusting its body: anyone who may publish on the
   broker's virtual host could send one. Do the same if you share the broker with others.)
5. Positions increase but are not always dense: a gap that `get_notifications` does not fill is no
   event (positions are assigned in commit order, the log being written under a lock, so a later
   pull does not bring a position lower than one already served).
   Process strictly in position order per source; sources are independent of each other.
6. An event you cannot process: park it with its error and go on, or stop; never skip it silently.

`docs/asyncapi.yaml` says the same in AsyncAPI 2.6.0 (generated by `tools/gen_asyncapi.py` after this
page): a channel per exchange, a message per type whose payload is the envelope with `data` as JSON
Schema (draft 07), and this page's examples. Generate the message types in your language from it,
e.g. `asyncapi generate models python docs/asyncapi.yaml -o models/` with the AsyncAPI CLI (also
`typescript`, `java`, `csharp`, `golang`, `rust`, ...), or validate each body you receive with any
JSON Schema library against `components.messages.<type>.payload`; the test suite does the latter
on every event it publishes.

The services themselves consume each other this way (`shared/follower.py`).
`examples/subscriber.py` is a complete subscriber in plain kombu (no nameko, nothing of this
repository): it keeps a register of benchmark enterprises and bans, and resumes where it stopped.

To prove later that an event you received is the one the system recorded, ask the audit service
(a `subscriber` account) for `inclusion_proof({{"event_id": ...}})` against a root you keep from its
`audit.checkpoint_recorded` events, and check it with `services/audit/verify.py` or RFC 9162
(docs/audit.md).

## The envelope (every event)

{table(envelope_rows, ("field", "type", "meaning"))}
{EVENT_IDS}

## Types used in the tables

| type | JSON |
|---|---|
| string, integer, boolean, number, object, array | as in JSON; integers are whole numbers within 64 bits |
| money | a string, a decimal amount in yuan with two places, e.g. `"12500.00"` |
| decimal | a string holding a decimal number, e.g. `"0.20"` |
| date | a string, an ISO 8601 calendar date, `YYYY-MM-DD` |
| instant | a string, an ISO 8601 date and time with its offset, e.g. `2018-12-03T02:00:00+00:00` |
| UUID | a string, a UUID in its canonical form |
| credit code | a string, an 18-character unified social credit code (GB 32100), upper case |
| e-mail | a string, an e-mail address |
| object {{`<key>`: T}} | an object whose keys are of the kind named, each value of type T |

Every field of `data` is always present; one that may be `null` says so. Bounds given for text
are those the input was checked with (docs/rpc.md): an event recorded before a bound existed may
fall outside it.

## Versioning

A changed shape of `data` is a new `schema_version` of the type; the publisher documents it here,
and a consumer that may still meet the old shape registers an upcaster for it
(`shared.contract.register_upcaster(type, from_version, fn)` in Python; the same plain function of
`data` in any language), so it reads only the newest shape. Stored event classes never move
(`tests/unit/stored_topics.txt`); a rename registers the old topic.
"""


ENVELOPE_MEANING = {
    "event_id": "the event's id: see below",
    "type": "dotted public type, `<source>.<what happened>`; the routing key",
    "schema_version": "version of `data`'s shape (≥ 1); a change of shape is a new version with an upcaster",
    "source": "the publishing service; the exchange is `<source>.events`",
    "position": "the event's position in the source's log (≥ 1): increasing, not always dense",
    "occurred_at": "when it happened: an ISO 8601 instant in UTC (`+00:00`), from the service's injected clock",
    "aggregate_id": "the record changed (a UUID)",
    "aggregate_version": "the record's version after the change (1 for its first event)",
    "application_id": "the application the event concerns, across services; `null` when none",
    "actor": "who acted; never a credential",
    "data": "the event's own fields, below",
}

EVENT_IDS = """`event_id` is a UUID (version 5) derived from the installation, the source,
`aggregate_id` and `aggregate_version` (`shared/contract.py`): the same on every republish and in
every `get_notifications` answer, unique among the events of one installation (a record's version
changes once), and different in another installation. Each service's store draws its installation
id at random when it is first created (replicas and restarts share it, a restore from backup keeps
it), so two deployments with the same history (a test system replaying production's, say) publish
different `event_id`s, and a subscriber that deduplicates across environments drops nothing real.
Within one source, `position` identifies an event just as well."""


def examples() -> tuple[dict[str, dict], list[dict]]:
    """Drive both services through every event type; the first envelope of each type is its example.
    Also answers every envelope of the run, which check_against loads with the documented shapes."""
    with tempfile.TemporaryDirectory() as tmp:
        clock = FixedClock(datetime(2018, 12, 3, 10, 0, tzinfo=SHANGHAI))
        both = Both(Path(tmp), clock)
        h = both.app
        expert = h.province.provision_account({"username": "expert-01", "role": "expert", "display_name": "专家一"})
        h.login("expert-01", expert["initial_password"]).change_password(
            {"old_password": expert["initial_password"], "new_password": "Expert-pass-2018"})
        h.province.deactivate_account({"username": "expert-01", "reason": "回避"})
        h.province.reactivate_account({"username": "expert-01", "reason": "回避结束"})
        h.province.reset_password({"username": "expert-01", "reason": "专家遗忘密码，重新发放"})
        provider = both.review(h.provision("cloudco", "provider", provider_id="hbcloud-provider"))
        county = both.review(h.provision("changan", "county", division_code="130102"))
        city = both.review(h.provision("sjz-city", "city", division_code="130100"))

        ent = h.enterprise("steelworks")
        app_id = ent.start_application("2018")["application_id"]
        fill_complete(ent, app_id)
        ent.save_contract(app_id, b.CONTRACTS[0] | {"contract_id": "extra", "number": "HT-X"})
        ent.remove_contract(app_id, "extra")
        doc_ = ent.attach_document(app_id, {"kind": "other", "filename": "说明.pdf", "content_type": "application/pdf",
                                            "content_base64": b.b64(b.PDF)})
        ent.remove_document(app_id, doc_["document_id"])
        ent.submit(app_id)
        both.sync()
        provider.provider_answer(app_id, all_confirmed())
        county.county_review(app_id, checklist_all_match(county.get_case(app_id)) | {
            "decision": "return", "reasons": ["营业执照复印件不清晰"]})
        both.sync()
        ent.give_pledge(app_id, b.PLEDGE)
        ent.submit(app_id)
        both.sync()
        provider.provider_answer(app_id, all_confirmed())
        county.county_review(app_id, checklist_all_match(county.get_case(app_id)))
        city.city_review(app_id, {"decision": "recommend", "opinion": "上云成效显著，同意推荐"})
        city.rank_recommendations({"campaign_code": "2018", "application_ids": [app_id]})
        city.rank_recommendations({"campaign_code": "2018", "application_ids": [app_id]})

        others = []
        for i, name in enumerate(["declined", "rejected", "withdrawn", "late", "disputed", "city-return"], start=2):
            other = h.enterprise(f"ent-{name}", serial=i, name=f"石家庄{name}有限公司")
            other_id = other.start_application("2018")["application_id"]
            fill_complete(other, other_id)
            other.submit(other_id)
            others.append((other, other_id))
        both.sync()
        (_, declined), (_, rejected), (withdrawer, withdrawn), _, (_, disputed), (_, city_return) = others
        provider.provider_answer(declined, all_confirmed())
        county.county_review(declined, checklist_all_match(county.get_case(declined)))
        city.city_review(declined, {"decision": "decline", "opinion": "成效一般，暂不推荐"})
        provider.provider_answer(rejected, all_confirmed() | {"decision": "reject", "reasons": ["该企业并非我方客户"]})
        withdrawer.withdraw(withdrawn, {"reason": "企业决定不再参评"})
        answer = all_confirmed()
        answer["items"]["contracts"]["c2018"] = {"confirmed": False, "remark": "合同金额与我方记录不符"}
        provider.provider_answer(disputed, answer)
        provider.provider_answer(city_return, all_confirmed())
        county.county_review(city_return, checklist_all_match(county.get_case(city_return)))
        city.city_review(city_return, {"decision": "return", "opinion": "成效数据需补充",
                                       "reasons": ["请补充上云前后对比数据"]})
        both.sync()
        clock.set(datetime(2018, 12, 10, 0, 5, tzinfo=SHANGHAI))
        check_deadlines(both.store)
        clock.set(datetime(2018, 12, 16, 0, 5, tzinfo=SHANGHAI))
        check_deadlines(both.store)

        ban = h.province.record_ban({"uscc": b.uscc("130104", 77), "reason": "2017年评选中弄虚作假", "starts_on": "2017-06-01"})
        h.province.lift_ban({"ban_id": ban["ban_id"], "reason": "复议撤销"})
        h.province.remove_provider({"provider_id": "hbcloud-provider", "reason": "退出资源池"})
        three = scoring_run(Path(tmp) / "scoring", clock)
        four = subsidy_run(Path(tmp) / "subsidy", clock)
        five = audit_run(Path(tmp) / "audit", clock)
        found: dict[str, dict] = {}
        everything: list[dict] = []
        stores = {"application": [h.store, five.app.store], "review": [both.store], "scoring": [three.scoring_store,
                  five.scoring_store], "subsidy": [four.subsidy_store], "audit": [five.audit_store]}
        for definition in definitions():
            for store in stores[definition.name]:
                everything.extend(examples_of(store, definition.contract, found))
        return found, everything


def examples_of(store: Any, contract: Any, found: dict[str, dict]) -> list[dict]:
    """A store's whole log as envelopes; the first of each type not found yet becomes its example."""
    read = []
    for envelope in log_page(store, contract, 0, 1000)["notifications"]:
        expected = event_id(store.installation_id, envelope["source"], envelope["aggregate_id"],
                            envelope["aggregate_version"])
        if envelope["event_id"] != expected:
            raise SystemExit(f"{envelope['type']}: event_id is no longer derived as EVENT_IDS says; update it")
        found.setdefault(envelope["type"], envelope)
        read.append(envelope)
    return read


def scoring_run(tmp: Path, clock: FixedClock) -> Three:
    """The scoring service through every event type, after three recommendations of its own."""
    tmp.mkdir()
    clock.set(datetime(2018, 12, 3, 10, 0, tzinfo=SHANGHAI))
    three = Three(tmp, clock)
    apps = three.recommended(4)
    three.app.login("enterprise-004", "Secret-pass-1").withdraw(apps.pop(), {"reason": "企业决定不再参评"})
    three.sync()
    experts = [three.evaluator(f"expert{i}", employers=[b.uscc("130100", 700 + i)]) for i in range(4)]
    clock.set(datetime(2018, 12, 14, 9, 0, tzinfo=SHANGHAI))
    experts[0].declare_interests({"kind": "expert", "employers": [b.uscc("130100", 700)], "providers": ["other-cloud"]})
    drawn = three.province.draw_evaluators({"campaign_code": "2018", "unit_code": "130100", "seed": "2018-sjz"})
    ids = {a["account_id"]: s for a, s in zip(sorted(three.app.province.list_accounts("expert")["items"],
                                                    key=lambda a: a["username"]), experts)}
    first = apps[0]
    decliner = ids[drawn["assignments"][first][0]]
    decliner.decline_assignment(first, {"reason": "本人曾为该企业提供咨询服务"})
    for results, app_id in zip((36, 30, 22), apps):
        for expert in experts:
            if app_id in {a["application_id"] for a in expert.my_assignments({})["items"]}:
                expert.save_sheet(app_id, sheet(results, final=False))
                expert.save_sheet(app_id, sheet(results))
    reopened = three.province.get_assignment(first)["sheets"]
    evaluator_id = sorted(reopened)[0]
    three.province.reopen_sheet(first, {"evaluator_id": evaluator_id, "reason": "成效分值与理由不符，请复核"})
    ids[evaluator_id].save_sheet(first, sheet(35))
    ranking = three.province.rank_candidates("2018")
    three.province.adopt_list({"campaign_code": "2018", "ranking_id": ranking["ranking_id"],
                               "remove": [{"application_id": apps[2], "reason": "成效数据不足，研究决定不列入"}]})
    clock.set(datetime(2018, 12, 20, 9, 0, tzinfo=SHANGHAI))
    three.province.publish_notice("2018")
    public = three.scoring_anonymous()
    upheld = public.lodge_objection({"campaign_code": "2018", "application_id": apps[1], "name": "王五",
                                     "contact": "13800000000", "grounds": "该企业上云合同金额与实际不符",
                                     "attachments": [{"filename": "发票.pdf", "content_type": "application/pdf",
                                                      "content_base64": b.b64(b.PDF)}]})
    dismissed = public.lodge_objection({"campaign_code": "2018", "application_id": apps[0], "name": "赵六",
                                        "contact": "zhao@example.cn", "grounds": "该企业并非本地工业企业"})
    three.province.decide_objection(upheld["objection_id"], {"outcome": "upheld", "reasons": ["经核实合同金额不实"]})
    three.province.decide_objection(dismissed["objection_id"], {"outcome": "dismissed", "reasons": ["经核实系本地工业企业"]})
    clock.set(datetime(2018, 12, 27, 9, 0, tzinfo=SHANGHAI))
    three.province.announce({"campaign_code": "2018", "document_number": "冀工信两化〔2018〕600号"})
    return three


def subsidy_run(tmp: Path, clock: FixedClock) -> Four:
    """The subsidy service through every event type: one case sent back, filed, paid and reclaimed;
    another cancelled."""
    tmp.mkdir()
    clock.set(datetime(2018, 12, 3, 10, 0, tzinfo=SHANGHAI))
    four = Four(tmp, clock)
    paid, cancelled = four.awarded(2)
    enterprise = four.enterprise(1)
    county = four.app.login("changan", "changan-Own-pass-2018").on(four.subsidy)
    city = four.app.login("sjz-city", "sjz-city-Own-pass-2018").on(four.subsidy)
    enterprise.give_filing_details(paid, {"payee": PAYEE, "invoices": invoices_for(["c2018"])})
    county.stamp(paid, {"remarks": "材料属实，已盖章"})
    four.province_subsidy.send_back(paid, {"reasons": ["市级盖章前须县级复核发票"]})
    enterprise.give_filing_details(paid, {"payee": PAYEE, "invoices": invoices_for(["c2018"])})
    county.stamp(paid, {"remarks": "材料属实，已盖章"})
    city.stamp(paid, {"remarks": "同意报送"})
    four.province_subsidy.file_case(paid, {"remarks": "已备案"})
    four.province_subsidy.calculate(paid)
    four.finance.approve(paid, {"amount": "18000.00"})
    four.finance.record_payment(paid, {"paid_on": "2019-03-01", "amount": "18000.00", "voucher_reference": "GK-2019-0301-01"})
    four.revoke(paid)
    four.finance.record_recovery(paid, {"recovered_on": "2019-06-01", "amount": "18000.00", "reference": "HK-2019-0601-01"})
    four.revoke(cancelled)
    return four


def audit_run(tmp: Path, clock: FixedClock) -> Five:
    """The audit service through every event type: a spot check finds fraud in a paid benchmark
    enterprise (its four consequences follow in the other services); another suspicion is cleared;
    a provider's own fraud."""
    tmp.mkdir()
    clock.set(datetime(2018, 12, 3, 10, 0, tzinfo=SHANGHAI))
    five = Five(tmp, clock, checkpoint_interval=100)
    apps = five.awarded(3)
    inspector, inspector_id = five.inspector()
    check = five.province_audit.draw_spot_check({"campaign_code": "2018", "share": "0.67", "inspectors": [inspector_id]}, idempotency_key="draw")
    sampled = check["sample"][0]["application_id"]
    five.paid(sampled, serial=apps.index(sampled) + 1)
    apps.remove(sampled)
    apps.insert(0, sampled)
    finding = inspector.record_finding(check["spot_check_id"], apps[0], {
        "outcome": "fraud_suspected", "summary": "现场核查：云服务合同与服务商记录不符",
        "evidence": [{"filename": "现场照片.pdf", "content_type": "application/pdf", "content_base64": b.b64(b.PDF)}]},
        idempotency_key="finding")
    clock.set(datetime(2019, 6, 1, 9, 0, tzinfo=SHANGHAI))
    five.province_audit.decide_fraud({"application_id": apps[0], "outcome": "fraud", "reasons": ["上云合同系伪造，服务商虚假确认"],
                                      "grounds": {"kind": "spot_check", "reference": check["spot_check_id"]},
                                      "findings": [finding["finding_id"]]}, idempotency_key="fraud")
    five.province_audit.decide_fraud({"application_id": apps[1], "outcome": "no_fraud", "reasons": ["经核实合同真实有效"],
                                      "grounds": {"kind": "objection", "reference": "公示期异议"}}, idempotency_key="cleared")
    five.sync()
    return five


def main() -> None:
    found, everything = examples()
    types = {public.name: public for d in definitions() for public in d.contract.types()}
    check_against(everything, types)
    lines = [header(), shapes_section()]
    for source_contract in (d.contract for d in definitions()):
        lines.append(f"## `{source_contract.source}` events\n")
        for public in source_contract.types():
            text = inspect.cleandoc(public.schema.__doc__ or "")
            lines.append(f"### `{public.name}` (schema_version {public.version})\n")
            if text:
                lines.append(text + "\n")
            documented = data_fields(public)
            if documented:
                lines.append(table(field_rows(documented, False), ("data field", "type", "allowed values")))
            else:
                lines.append("`data` is `{}`.\n")
            example = found.get(public.name)
            if example is None:
                raise SystemExit(f"no example of {public.name}: extend the scripted run")
            lines.append("```json\n" + json.dumps(example, ensure_ascii=False, indent=2) + "\n```\n")
    (ROOT / "docs" / "events.md").write_text("\n".join(lines), encoding="utf-8")
    print(f"docs/events.md: {len(found)} event types, {len(everything)} events checked against their documented shapes")


if __name__ == "__main__":
    main()
