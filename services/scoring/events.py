"""The scoring service's public event contract. What a public event leaves out is left out on
purpose: an objector's name, contact and grounds stay with the province (the stored event keeps
them; `list_objections` shows them to the province only)."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from shared.contract import Contract

from services.scoring.domain import Candidate, Draw, Evaluator, Objection, Ranking, Selection

contract = Contract("scoring")


class DeclaredData(Schema):
    """An evaluator's declaration of interests (new or renewed): `kind` expert or third_party,
    `employers` and `enterprises` as credit codes, `providers` as supply-pool ids, `declared_on`
    (ISO date, Asia/Shanghai)."""

    account_id = fields.String()
    kind = fields.String()
    employers = fields.List(fields.String())
    enterprises = fields.List(fields.String())
    providers = fields.List(fields.String())
    declared_on = fields.String()


class CandidateOpenedData(Schema):
    """A city's recommendation reached the expert review. `submitted_at` is the tie-break (ISO
    instant, UTC, or null when the review service did not know it)."""

    application_id = fields.String()
    campaign_code = fields.String()
    round = fields.Integer()
    uscc = fields.String()
    enterprise_name = fields.String()
    county_code = fields.String()
    unit_code = fields.String()
    provider_id = fields.String()
    submitted_at = fields.String(allow_none=True)
    confirmed_contracts = fields.List(fields.Dict())


class AssignedData(Schema):
    """Evaluators (account ids) assigned by the draw `draw_id`."""

    evaluator_ids = fields.List(fields.String())
    draw_id = fields.String()


class DeclinedData(Schema):
    evaluator_id = fields.String()
    reason = fields.String()


class SheetSavedData(Schema):
    """A draft sheet: `scores` {criterion code: integer}, `justifications` {criterion code: text}."""

    evaluator_id = fields.String()
    scores = fields.Dict(keys=fields.String(), values=fields.Integer())
    justifications = fields.Dict(keys=fields.String(), values=fields.String())


class SheetFinalisedData(SheetSavedData):
    total = fields.Integer()


class SheetReopenedData(Schema):
    evaluator_id = fields.String()
    reason = fields.String()


class AwardedData(Schema):
    """上云标杆企业, by department document `document_number`. `content`, `provider_confirmation`,
    `county_checklist` and `city_opinion` are the application as reviewed (as in review.recommended:
    what the printed dossier shows); `score` the experts' mean (two decimals), `rank` its place in
    the experts' ranking."""

    campaign_code = fields.String()
    document_number = fields.String()
    uscc = fields.String()
    enterprise_name = fields.String()
    county_code = fields.String()
    unit_code = fields.String()
    provider_id = fields.String()
    confirmed_contracts = fields.List(fields.Dict())
    content = fields.Dict()
    provider_confirmation = fields.Dict()
    county_checklist = fields.Dict()
    city_opinion = fields.String()
    score = fields.String()
    rank = fields.Integer()


class CandidateWithdrawnData(Schema):
    reason = fields.String()


class AwardRevokedData(Schema):
    """`source`: the event that disqualified the enterprise ({source, event_id, type})."""

    reason = fields.String()
    source = fields.Dict()


class DrawData(Schema):
    """A seeded draw of evaluators, with every input: anyone can reproduce `assignments` (see
    docs/scoring.md, "The draw"). `excluded` {application: {evaluator: [reasons]}}; `shortfalls`
    {application: evaluators still missing}; `replacing` {application_id, evaluator_id} or null."""

    campaign_code = fields.String()
    unit_code = fields.String(allow_none=True)
    rule = fields.String()
    seed = fields.String()
    applications = fields.List(fields.String())
    evaluators = fields.List(fields.String())
    loads_before = fields.Dict(keys=fields.String(), values=fields.Integer())
    needed = fields.Dict(keys=fields.String(), values=fields.Integer())
    excluded = fields.Dict()
    assignments = fields.Dict()
    shortfalls = fields.Dict(keys=fields.String(), values=fields.Integer())
    replacing = fields.Dict(allow_none=True)


class RankingData(Schema):
    """The experts' ranking: `rows` in rank order ({application_id, rank, score, tie_break_score,
    normalised, sheets, outliers, submitted_at, listed}); `inputs` the final sheets it used;
    `cut_at` the scoring log position they were read at."""

    campaign_code = fields.String()
    rule = fields.String()
    settings = fields.Dict()
    inputs = fields.List(fields.Dict())
    rows = fields.List(fields.Dict())
    cut_at = fields.Integer()


class SelectionStartedData(Schema):
    campaign_code = fields.String()


class AdoptedData(Schema):
    """`entries`: the adopted list in order; `added`/`removed`: [{application_id, reason}] against
    the ranking's list."""

    ranking_id = fields.String()
    entries = fields.List(fields.String())
    added = fields.List(fields.Dict())
    removed = fields.List(fields.Dict())


class NoticeData(Schema):
    entries = fields.List(fields.String())
    opens_at = fields.String()
    closes_at = fields.String()


class EntryRemovedData(Schema):
    application_id = fields.String()
    objection_id = fields.String()
    reason = fields.String()


class AnnouncedData(Schema):
    document_number = fields.String()
    entries = fields.List(fields.String())


class ObjectionLodgedData(Schema):
    """Only what may be public: who objected, how to reach them and the grounds stay with the province."""

    campaign_code = fields.String()
    application_id = fields.String()
    attachments = fields.Method("attachment_digests")

    def attachment_digests(self, event: Any) -> list[dict[str, Any]]:
        # Not the file names either: "张三举报材料.pdf" would publish who objected.
        return [{k: a[k] for k in ("content_type", "size", "sha256")} for a in event.attachments]


class ObjectionDecidedData(Schema):
    outcome = fields.String()
    reasons = fields.List(fields.String())


def application_of(event: Any) -> str:
    return str(event.application_id)


publish = contract.register
publish(Evaluator.Declared, "scoring.interests_declared", DeclaredData)
publish(Evaluator.Renewed, "scoring.interests_renewed", DeclaredData)
publish(Candidate.Opened, "scoring.candidate_opened", CandidateOpenedData, application_id=application_of)
for cls, name, schema in (
    (Candidate.Assigned, "scoring.evaluators_assigned", AssignedData),
    (Candidate.Declined, "scoring.assignment_declined", DeclinedData),
    (Candidate.SheetSaved, "scoring.sheet_saved", SheetSavedData),
    (Candidate.SheetFinalised, "scoring.sheet_finalised", SheetFinalisedData),
    (Candidate.SheetReopened, "scoring.sheet_reopened", SheetReopenedData),
    (Candidate.Awarded, "scoring.awarded", AwardedData),
    (Candidate.Withdrawn, "scoring.candidate_withdrawn", CandidateWithdrawnData),
    (Candidate.AwardRevoked, "scoring.award_revoked", AwardRevokedData),
    (Objection.Decided, "scoring.objection_decided", ObjectionDecidedData),
):
    publish(cls, name, schema, application_id=application_of)
publish(Objection.Lodged, "scoring.objection_lodged", ObjectionLodgedData, application_id=application_of)
publish(Draw.Made, "scoring.draw_made", DrawData)
publish(Ranking.Made, "scoring.ranking_made", RankingData)
publish(Selection.Started, "scoring.selection_started", SelectionStartedData)
publish(Selection.Adopted, "scoring.list_adopted", AdoptedData)
publish(Selection.NoticePublished, "scoring.notice_published", NoticeData)
publish(Selection.EntryRemoved, "scoring.entry_removed", EntryRemovedData, application_id=application_of)
publish(Selection.Announced, "scoring.list_announced", AnnouncedData)
