"""The audit service in-process with the other four: a spot check finds fraud in an awarded, paid
enterprise and the title, the ban, the pool and the reclaim all follow; the replay shows the whole
life; the ledger verifies and reconciles, and tampering with it or with a source's store is located;
only the province decides, auditors only read, inspectors see their own checks; bad input records
nothing."""
from __future__ import annotations

import base64
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import text

from shared.clock import SHANGHAI, FixedClock
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.support.audit_inprocess import Five, campaign_2019

DECIDED_AT = datetime(2019, 6, 1, 9, 0, tzinfo=SHANGHAI)


def png() -> str:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


def fraud(five: Five, application_id: str, check_id: str, finding_ids: list[str], key: str = "d-1") -> dict[str, Any]:
    answer: dict[str, Any] = five.province_audit.decide_fraud(
        {"application_id": application_id, "outcome": "fraud", "reasons": ["上云合同系伪造，服务商虚假确认"],
         "grounds": {"kind": "spot_check", "reference": check_id}, "findings": finding_ids}, idempotency_key=key)
    five.sync()
    return answer


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Three benchmark enterprises of 2018, the first paid; a spot check of all three; the first
    found to have faked its claims."""
    clock = FixedClock(datetime(2018, 12, 3, 10, 0, tzinfo=SHANGHAI))
    five = Five(tmp_path_factory.mktemp("audit"), clock)
    apps = five.awarded(3)
    paid = five.paid(apps[0])
    inspector, inspector_id = five.inspector()
    other_inspector, _ = five.inspector("inspector2")
    check = five.province_audit.draw_spot_check(
        {"campaign_code": "2018", "share": "1", "inspectors": [inspector_id]},
        idempotency_key="draw-1")
    finding = inspector.record_finding(check["spot_check_id"], apps[0], {
        "outcome": "fraud_suspected", "summary": "现场核查：云服务合同与服务商记录不符",
        "evidence": [{"filename": "现场照片.png", "content_type": "image/png", "content_base64": png()}]},
        idempotency_key="finding-1")
    clock.set(DECIDED_AT)
    head_before = five.audit_store.max_position()
    decision = fraud(five, apps[0], check["spot_check_id"], [finding["finding_id"]])
    return {"five": five, "apps": apps, "paid": paid, "check": check, "finding": finding, "decision": decision,
            "inspector": inspector, "other_inspector": other_inspector, "head_before": head_before}


def test_one_decision_has_four_consequences_in_the_other_services(story):
    five, app_id = story["five"], story["apps"][0]
    assert story["decision"]["consequences"] == {"ban": {"starts_on": "2019-06-01", "ends_on": "2022-05-31"},
                                                 "provider_disqualified": "hbcloud-provider"}
    # the title (scoring)
    revoked = [e for e in five.scoring_store.notification_log.select(start=1, limit=1000)
               if e.topic.endswith("Candidate.AwardRevoked")]
    assert len(revoked) == 1
    # the ban (application): three years, the last day included, and it refuses submissions
    bans = five.app.province.bans_of("9113010200000001XK")
    assert [(b["starts_on"], b["ends_on"], b["source"]) for b in bans] == [("2019-06-01", "2022-05-31", "audit")]
    five.app.province.open_campaign(campaign_2019())
    enterprise = five.app.login("enterprise-001", "Secret-pass-1")
    started = enterprise.start_application("2019")["application_id"]
    assert "not_banned" in {f["rule"] for f in enterprise.check_eligibility(started)["failures"]}
    # the provider leaves the pool, and its accounts with it
    pool = five.app.anonymous.supply_pool({})
    assert "hbcloud-provider" not in [p["provider_id"] for p in pool["members"]]
    # the subsidy paid is reclaimed
    case = five.finance.get_subsidy_case(app_id)
    assert case["status"] == "reclaiming" and case["reclaim"]["amount"] == story["paid"]
    # the other sampled enterprises keep their titles
    assert five.finance.get_subsidy_case(story["apps"][1])["status"] == "awaiting_details"


def test_the_replay_shows_the_whole_life_from_draft_to_reclaim(story):
    five, app_id = story["five"], story["apps"][0]
    replay = five.auditor.replay_application(app_id, {})
    kinds = [step["type"] for step in replay["timeline"]]
    assert kinds[0] == "application.started" and kinds[-1] == "subsidy.reclaim_opened"
    for needed in ("application.submitted", "review.provider_confirmed", "review.county_passed", "review.recommended",
                   "scoring.evaluators_assigned", "scoring.ranking_made", "scoring.awarded", "subsidy.calculated",
                   "subsidy.paid", "audit.spot_check_drawn", "audit.finding_recorded", "audit.fraud_found",
                   "audit.enterprise_banned", "application.ban_recorded", "audit.provider_disqualified",
                   "application.provider_removed_from_pool", "scoring.award_revoked"):
        assert needed in kinds, needed
    assert kinds.index("audit.fraud_found") < kinds.index("scoring.award_revoked") < kinds.index("subsidy.reclaim_opened")
    step = next(s for s in replay["timeline"] if s["type"] == "subsidy.calculated")
    assert step["rule"] == "annual-fee-share-capped-v1" and step["actor"]["role"] == "province"
    assert step["ledger_seq"] >= 1 and step["source"] == "subsidy" and len(step["leaf_hash"]) == 64
    # as of the county's review: the application as submitted, no award, no subsidy
    county = next(s for s in replay["timeline"] if s["type"] == "review.county_passed")
    seen = five.auditor.replay_application(app_id, {"source": "review", "position": county["position"]})["as_of"]
    assert "c2018" in [c["contract_id"] for c in seen["state"]["application"]["facts"]["content"]["contracts"]]
    assert "subsidy" not in seen["state"] and seen["state"]["review"]["last_event"] == "review.county_passed"


def test_the_ledger_verifies_reconciles_and_proves_inclusion_to_a_subscriber(story):
    five = story["five"]
    assert five.auditor.verify_ledger()["ok"]
    report = five.auditor.reconcile(None)
    assert report["ok"] and set(report["sources"]) == {"application", "review", "scoring", "subsidy", "audit"}
    subscriber = five.app.provision("gov-credit", "subscriber").on(five.audit)
    event = five.app.province.get_notifications(0, 1)["notifications"][0]
    proof = subscriber.inclusion_proof({"event_id": event["event_id"]})
    from services.audit import merkle, verify
    assert verify.check_proof(proof) is None and proof["seq"] >= 1
    assert merkle.canonical(__import__("json").loads(proof["canonical"])["envelope"]) == merkle.canonical(event)
    head = subscriber.ledger_head()
    checkpoint = head["latest_checkpoint"]
    assert verify.check_proof(subscriber.consistency_proof(checkpoint["tree_size"], None)) is None
    with pytest.raises(Forbidden):
        subscriber.ledger_entries({})


def test_only_the_province_decides_and_auditors_change_nothing(story):
    five, app_id = story["five"], story["apps"][1]
    decision = {"application_id": app_id, "outcome": "fraud", "reasons": ["虚假"],
                "grounds": {"kind": "report", "reference": "群众举报"}}
    for session in (five.auditor, story["inspector"]):
        with pytest.raises(Forbidden):
            session.decide_fraud(decision, idempotency_key="nope")
        with pytest.raises(Forbidden):
            session.draw_spot_check({"campaign_code": "2018", "size": 1}, idempotency_key="nope")
    county = five.app.login("changan", "changan-Own-pass-2018").on(five.audit)
    for call in (lambda: county.replay_application(app_id, {}), lambda: county.ledger_entries({}),
                 lambda: county.decide_fraud(decision, idempotency_key="x")):
        with pytest.raises(Forbidden):
            call()
    assert five.auditor.list_decisions({})[0]["decision_id"] == story["decision"]["decision_id"]


def test_an_inspector_sees_and_records_only_on_its_own_checks(story):
    five, check_id = story["five"], story["check"]["spot_check_id"]
    other = story["other_inspector"]
    with pytest.raises(NotFound):
        other.get_spot_check(check_id)
    with pytest.raises(NotFound):
        other.record_finding(check_id, story["apps"][1], {"outcome": "no_issue", "summary": "无问题"},
                             idempotency_key="o-1")
    assert other.list_spot_checks({}) == []
    mine = story["inspector"].get_spot_check(check_id)
    assert [f["finding_id"] for f in mine["findings"]] == [story["finding"]["finding_id"]]
    evidence = mine["findings"][0]["evidence"][0]
    assert "content" not in evidence and len(evidence["sha256"]) == 64
    with pytest.raises(NotFound):
        other.get_finding_evidence(evidence["document_id"])
    assert five.auditor.get_finding_evidence(evidence["document_id"])["content_base64"] == png()


def test_the_draw_recorded_reproduces_its_sample(story):
    from services.audit import rules

    event = next(n for n in story["five"].auditor.get_notifications(0, 100)["notifications"]
                 if n["type"] == "audit.spot_check_drawn")
    data = event["data"]
    _, drawn = rules.draw_sample(data["seed"], data["population"], data["size"], data["stratify_by_city"])
    assert drawn == [s["application_id"] for s in data["sample"]] and len(drawn) == 3


def test_bad_input_is_typed_and_records_nothing(story):
    five, app_id = story["five"], story["apps"][1]
    head = five.audit_store.max_position()
    p = five.province_audit
    bad = [
        lambda: p.decide_fraud({"application_id": app_id, "provider_id": "hbcloud-provider", "outcome": "fraud",
                                "reasons": ["x虚假"], "grounds": {"kind": "report", "reference": "举报"}}, idempotency_key="b1"),
        lambda: p.decide_fraud({"application_id": app_id, "outcome": "fraud", "reasons": ["虚假材料"],
                                "grounds": {"kind": "spot_check", "reference": "no-such-check"}}, idempotency_key="b2"),
        lambda: p.decide_fraud({"application_id": app_id, "outcome": "maybe", "reasons": [],
                                "grounds": {"kind": "rumour"}}, idempotency_key="b3"),
        lambda: p.draw_spot_check({"campaign_code": "2018", "size": 1, "share": "0.5"}, idempotency_key="b4"),
        lambda: p.draw_spot_check({"campaign_code": "2018", "size": 1, "inspectors": ["not-an-expert"]},
                                  idempotency_key="b5"),
        lambda: p.inclusion_proof({"seq": 1, "tree_size": 10**9}),
        lambda: p.replay_application(app_id, {"at": "2019-01-01T00:00:00+08:00", "seq": 3}),
        lambda: story["inspector"].record_finding(story["check"]["spot_check_id"], app_id, {
            "outcome": "no_issue", "summary": "照片", "evidence": [{"filename": "a.png", "content_type": "image/png",
                                                                  "content_base64": base64.b64encode(b"not a png").decode()}]},
            idempotency_key="b6"),
    ]
    for call in bad:
        with pytest.raises(InvalidInput) as raised:
            call()
        assert raised.value.details["fields"] and raised.value.payload["message_zh"]
    with pytest.raises(NotFound):
        p.decide_fraud({"application_id": "no-such-application", "outcome": "fraud", "reasons": ["虚假材料"],
                        "grounds": {"kind": "report", "reference": "举报"}}, idempotency_key="b7")
    with pytest.raises(Conflict):  # fraud is found once
        fraud(five, story["apps"][0], story["check"]["spot_check_id"], [], key="again")
    assert five.audit_store.max_position() == head


def test_fraud_by_a_provider_alone_removes_only_the_provider(story):
    five = story["five"]
    from tests.support import builders as b

    five.app.province.add_provider({"provider_id": "fake-cloud", "name": "某虚假云公司", "uscc": b.uscc("130100", 998)})
    five.sync()
    answer = five.province_audit.decide_fraud({"provider_id": "fake-cloud", "outcome": "fraud",
                                               "reasons": ["服务商对多家企业虚假确认"],
                                               "grounds": {"kind": "report", "reference": "省厅核查通报"}},
                                              idempotency_key="provider-1")
    five.sync()
    assert answer["consequences"] == {"provider_disqualified": "fake-cloud"} and answer["subject"] == "provider"
    assert "fake-cloud" not in [p["provider_id"] for p in five.app.anonymous.supply_pool({})["members"]]


# ------------------------------------------------------------------ tampering, in the ledger and at a source
@pytest.fixture
def tampered(tmp_path: Path, clock: FixedClock) -> Five:
    five = Five(tmp_path, clock)
    five.awarded(1)
    return five


@pytest.mark.parametrize("page", [500, 3])  # a source's log is compared a page at a time
def test_tampering_with_a_source_store_is_located_by_reconciliation(tampered, page, monkeypatch):
    from services.audit.handlers import ledger_ops

    monkeypatch.setattr(ledger_ops, "RECONCILE_PAGE", page)
    five = tampered
    assert five.auditor.reconcile(None)["ok"]
    with five.scoring_store.transaction() as session:  # a changed score, still readable
        changed = session.execute(text("SELECT min(id) FROM scoring_events WHERE topic LIKE '%SheetFinalised'")).scalar()
        session.execute(text("UPDATE scoring_events SET state = CAST(replace(CAST(state AS TEXT), :a, :b) AS BLOB) "
                             "WHERE id = :id"), {"a": '"results":30', "b": '"results":40', "id": changed})
    with five.store.transaction() as session:  # a review record deleted
        session.execute(text("DELETE FROM review_events WHERE id = 2"))
    with five.app.store.transaction() as session:  # a record deleted, and one byte that makes the next unreadable
        session.execute(text("DELETE FROM application_events WHERE id = 2"))
        session.execute(text("UPDATE application_events SET state = X'00' || substr(state, 2) WHERE id = 3"))
    report = five.auditor.reconcile(None)["sources"]
    assert not report["scoring"]["ok"] and report["scoring"]["different"][0]["position"] == changed
    assert [m["position"] for m in report["review"]["missing_from_source"]] == [2]
    assert report["application"]["unreadable"][0]["position"] == 3
    assert [m["position"] for m in report["application"]["missing_from_source"]] == [2]
    assert report["subsidy"]["ok"] and report["audit"]["ok"]


def test_tampering_with_the_ledger_is_located_by_verify(tampered):
    five = tampered
    assert five.auditor.verify_ledger()["ok"]
    with five.audit_store.transaction() as session:
        seq = session.execute(text("SELECT seq FROM audit_ledger WHERE type = 'application.submitted'")).scalar()
        session.execute(text("UPDATE audit_ledger SET canonical = replace(canonical, '石家庄', '保定') WHERE seq = :s"),
                        {"s": seq})
    report = five.auditor.verify_ledger()
    assert not report["ok"] and report["first_mismatch"]["seq"] == seq


# ------------------------------------------------------------------ order of arrival
def test_fraud_found_during_the_review_keeps_the_application_out_of_the_expert_review(tmp_path, clock):
    """Decided on a county's finding while the application is still in review: when the city
    recommends it anyway, it never becomes a candidate the experts can score or the province award."""
    from tests.support.review_inprocess import all_confirmed, checklist_all_match

    five = Five(tmp_path, clock)
    _, app_id = five.submitted("enterprise-001", serial=1)
    five.provider.provider_answer(app_id, all_confirmed())
    five.sync()
    five.province_audit.decide_fraud({"application_id": app_id, "outcome": "fraud", "reasons": ["营业执照系伪造"],
                                      "grounds": {"kind": "county", "reference": "长安区工信局核查"}},
                                     idempotency_key="county-fraud")
    five.sync()
    five.county.county_review(app_id, checklist_all_match(five.county.get_case(app_id)))
    five.city.city_review(app_id, {"decision": "recommend", "opinion": "同意推荐"})
    five.sync()
    from services.scoring.domain import Candidate, candidate_id_for

    assert five.scoring_store.get(Candidate, candidate_id_for(app_id)).withdrawn
    kinds = [s["type"] for s in five.auditor.replay_application(app_id, {})["timeline"]]
    assert kinds.index("audit.fraud_found") < kinds.index("scoring.candidate_withdrawn")


def test_an_audit_service_that_meets_awards_before_submissions_still_knows_the_benchmarks(tmp_path, clock):
    """Deployed after a campaign ran, it catches up each source on its own: the scoring log first."""
    from services.audit.definition import DEFINITION as AUDIT
    from services.audit.store import AuditStore
    from shared.follower import Follower, dispatch
    from tests.support.inprocess import in_process

    five = Five(tmp_path, clock)
    five.awarded(2)
    late = AuditStore(f"sqlite:///{tmp_path / 'late-audit.sqlite'}", clock)
    service = in_process(AUDIT, late, five.app.issuer)
    tables = AUDIT.effective_follows()
    for source in ("scoring", "application", "review", "subsidy", "audit"):
        follower = Follower(late, source, dispatch(late, tables[source]), five._log(source), parks=False)
        service.runtime.followers[source] = follower
        follower.catch_up()
    drawn = five.app.province.on(service).draw_spot_check({"campaign_code": "2018", "share": "1"}, idempotency_key="d")
    assert len(drawn["sample"]) == 2


def test_a_newer_schema_at_a_source_is_reported_as_reshaped_not_as_damage(tampered, monkeypatch):
    from dataclasses import replace

    from services.application.events import contract

    cls = next(c for c, p in contract.entries() if p.name == "application.submitted")
    monkeypatch.setitem(contract._by_class, cls, replace(contract._by_class[cls], version=2))
    report = tampered.auditor.reconcile("application")["sources"]["application"]
    assert report["ok"] and [r["to_version"] for r in report["reshaped"]] == [2]


def forge_entry(five: Five, position: int) -> int:
    """A correctly hashed entry of the application source put at the ledger's end by other means."""
    from services.audit import ledger as stored

    with five.audit_store.transaction() as session:
        last = stored.entry_row(session, seq=stored.size(session))
        assert last is not None
        fake = json.loads(last["canonical"])["envelope"] | {"source": "application", "position": position,
                                                            "event_id": "00000000-0000-4000-8000-00000000f0f0",
                                                            "type": "application.withdrawn"}
        return stored.append(session, fake, "2019-01-01T00:00:00+00:00")[0]


def test_an_entry_put_in_the_ledger_by_other_means_is_found(tampered):
    five = tampered
    head = five.app.store.max_position()
    seq = forge_entry(five, head + 1)  # where the next real application event belongs
    five.app.province.provision_account({"username": "late-expert", "role": "expert", "display_name": "专家"})
    five.sync()
    health = five.province_audit.health()
    assert health["stalled"]["application"]["position"] == head + 1  # stopped, and says so
    report = five.auditor.reconcile("application")["sources"]["application"]
    assert not report["ok"] and report["untracked"] == [{"position": head + 1, "ledger_seq": seq,
                                                          "type": "application.withdrawn"}]


def test_an_entry_forged_far_ahead_is_named_once_real_events_follow(tampered):
    five = tampered
    seq = forge_entry(five, 10**6)
    assert five.auditor.reconcile("application")["sources"]["application"]["untracked"][0]["ledger_seq"] == seq
    five.app.province.provision_account({"username": "late-expert", "role": "expert", "display_name": "专家"})
    five.sync()
    first = five.auditor.verify_ledger()["first_mismatch"]
    assert (first["seq"], first["problem"]) == (seq, "order")


def test_evidence_outside_ones_checks_answers_as_if_it_did_not_exist(story):
    other = story["other_inspector"]
    document_id = story["inspector"].get_spot_check(story["check"]["spot_check_id"])["findings"][0]["evidence"][0][
        "document_id"]
    for asked in (document_id, "no-such-document"):
        with pytest.raises(NotFound) as hidden:
            other.get_finding_evidence(asked)
        assert hidden.value.details == {"document_id": asked}


def test_a_lone_surrogate_in_an_idempotency_key_is_invalid_input(story):
    with pytest.raises(InvalidInput):
        story["five"].province_audit.draw_spot_check({"campaign_code": "2018", "size": 1}, idempotency_key="k\ud800")
