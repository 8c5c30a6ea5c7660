"""The application service's aggregates called directly (no broker, no store): the application's
state machine (draft → submitted → returned → resubmitted → withdrawn), what each command refuses in
each state, rounds, idempotent returns, the form's parts, and that every change is an event naming
its actor at the injected time. Also the small aggregates: accounts, the supply pool, bans and the
campaign's terms."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable
from uuid import UUID

import pytest

from services.application.domain import (
    Account,
    Application,
    Ban,
    Campaign,
    CampaignTerms,
    Enterprise,
    Status,
    SupplyPool,
    account_id_for,
    application_id_for,
)
from shared.clock import SHANGHAI
from shared.errors import Conflict, DeadlinePassed, InvalidInput, InvalidState, NotFound
from tests.support import builders as b

T0 = datetime(2018, 12, 3, 10, 0, tzinfo=SHANGHAI)
PROVINCE = {"id": "province-admin", "role": "province"}
OWNER_ACCOUNT = account_id_for("steelworks")
OWNER = {"id": str(OWNER_ACCOUNT), "role": "enterprise"}
COUNTY = {"id": "county-130102", "role": "county"}
USCC = b.uscc("130102", 7)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def campaign() -> Campaign:
    return Campaign.open(T0 - timedelta(days=10), PROVINCE, b.campaign_2018())


def enterprise(uscc: str = USCC) -> Enterprise:
    return Enterprise.register(T0 - timedelta(days=5), OWNER, uscc.lower(), "石家庄钢结构有限公司", "130102", OWNER_ACCOUNT)


def new_application() -> Application:
    return Application.start(T0, OWNER, campaign(), enterprise(), "130100")


def contract(contract_id: str = "c1", signed_on: str = "2017-04-20", amount: str = "60000.00") -> dict[str, Any]:
    return {"contract_id": contract_id, "provider_name": "某云服务有限公司", "number": f"HT-{contract_id}",
            "signed_on": signed_on, "term_start": signed_on, "term_end": "2019-04-30", "total_amount": amount,
            "annual_fee": amount}


def document(document_id: str = "d1", kind: str = "invoice", contract_id: str | None = "c1") -> dict[str, Any]:
    return {"document_id": document_id, "kind": kind, "filename": f"{document_id}.pdf", "content_type": "application/pdf",
            "size": len(b.PDF), "sha256": "0" * 64, "contract_id": contract_id}


# ---------------------------------------------------------------- states
def draft() -> Application:
    """A started application with a contract c1 and a document d1 (so the remove commands have a target)."""
    app = new_application()
    app.update_section(at(0.1), OWNER, "enterprise", {"phone": "0311-87000000"})
    app.save_contract(at(0.2), OWNER, contract("c1"))
    app.attach_document(at(0.3), OWNER, document("d1"))
    return app


def submitted() -> Application:
    app = draft()
    app.submit(at(1), OWNER, "2018.1")
    return app


def returned() -> Application:
    app = submitted()
    assert app.return_for_correction(at(2), COUNTY, 1, "county", ["营业执照复印件不清晰"], "review-event-1")
    return app


def resubmitted() -> Application:
    app = returned()
    app.submit(at(3), OWNER, "2018.1")
    return app


def withdrawn() -> Application:
    app = submitted()
    app.withdraw(at(4), OWNER, "不再申报")
    return app


def withdrawn_draft() -> Application:
    app = draft()
    app.withdraw(at(4), OWNER, "不再申报")
    return app


STATES: dict[str, Callable[[], Application]] = {
    "draft": draft, "submitted": submitted, "returned": returned, "resubmitted": resubmitted,
    "withdrawn": withdrawn, "withdrawn_draft": withdrawn_draft,
}


def in_state(name: str) -> Application:
    app = STATES[name]()
    app.collect_events()  # only what happens next is of interest
    return app


def snapshot(app: Application) -> dict[str, Any]:
    return {"status": app.status, "round": app.round, "version": app.version, "content": app.content(),
            "returns": [dict(r) for r in app.returns], "submitted_at": app.submitted_at,
            "last_submitted_at": app.last_submitted_at}


# The form-editing commands, each with the event it records.
EDITS: dict[str, tuple[Callable[[Application, datetime, dict[str, str]], None], type]] = {
    "update_section": (lambda app, t, who: app.update_section(t, who, "cloud", {"next_steps": "设备上云"}),
                       Application.SectionUpdated),
    "set_scenarios": (lambda app, t, who: app.set_scenarios(t, who, [dict(b.SCENARIOS[0])]), Application.ScenariosSet),
    "save_contract": (lambda app, t, who: app.save_contract(t, who, contract("c2", "2018-04-25", "90000.00")),
                      Application.ContractSaved),
    "remove_contract": (lambda app, t, who: app.remove_contract(t, who, "c1"), Application.ContractRemoved),
    "attach_document": (lambda app, t, who: app.attach_document(t, who, document("d2", "contract", "c1")),
                        Application.DocumentAttached),
    "remove_document": (lambda app, t, who: app.remove_document(t, who, "d1"), Application.DocumentRemoved),
    "give_pledge": (lambda app, t, who: app.give_pledge(t, who, True, True, False), Application.PledgeGiven),
}


# ---------------------------------------------------------------- starting
def test_a_started_application_is_an_empty_draft_of_its_enterprise_and_campaign():
    c, e = campaign(), enterprise()
    app = Application.start(T0, OWNER, c, e, "130100")
    assert app.id == application_id_for(c.id, e.id)
    assert Application.start(at(5), OWNER, c, e, "130100").id == app.id  # one per enterprise and campaign
    assert (app.status, app.round, app.version) == (Status.DRAFT, 0, 1)
    assert (app.campaign_code, app.uscc, app.enterprise_name, app.county_code, app.unit_code, app.account_id) == (
        "2018", USCC, "石家庄钢结构有限公司", "130102", "130100", str(OWNER_ACCOUNT))
    assert app.campaign_id == str(c.id) and app.enterprise_id == str(e.id)
    assert (app.sections, app.scenarios, app.contracts, app.documents, app.pledge, app.returns) == ({}, [], {}, {}, {}, [])
    assert app.submitted_at is None and app.last_submitted_at is None
    [started] = app.collect_events()
    assert isinstance(started, Application.Started)
    assert (started.actor, started.timestamp) == (OWNER, T0)
    assert app.created_on == T0


# ---------------------------------------------------------------- the whole path
def test_draft_submitted_returned_resubmitted_withdrawn():
    app = draft()
    app.collect_events()

    app.submit(at(1), OWNER, "2018.1")
    assert (app.status, app.round) == (Status.SUBMITTED, 1)
    assert app.submitted_at == app.last_submitted_at == at(1).isoformat()

    assert app.return_for_correction(at(2), COUNTY, 1, "county", ["营业执照复印件不清晰", "发票缺失"], "review-event-1") is True
    assert (app.status, app.round) == (Status.RETURNED, 1)
    assert app.returns == [{"round": 1, "stage": "county", "reasons": ["营业执照复印件不清晰", "发票缺失"],
                            "at": at(2).isoformat(), "by": COUNTY}]

    app.update_section(at(2.5), OWNER, "cloud", {"next_steps": "补充材料"})
    app.submit(at(3), OWNER, "2018.1")
    assert (app.status, app.round) == (Status.SUBMITTED, 2)
    assert app.submitted_at == at(1).isoformat()  # the first submission is kept
    assert app.last_submitted_at == at(3).isoformat()

    assert app.return_for_correction(at(3.5), COUNTY, 2, "provider", ["合同金额不符"], "review-event-2") is True
    assert [r["round"] for r in app.returns] == [1, 2]
    app.submit(at(3.7), OWNER, "2018.1")
    assert app.round == 3

    app.withdraw(at(4), OWNER, "不再申报")
    assert app.status == Status.WITHDRAWN
    assert app.round == 3

    events = app.collect_events()
    assert [type(e) for e in events] == [
        Application.Submitted, Application.ReturnedForCorrection, Application.SectionUpdated, Application.Resubmitted,
        Application.ReturnedForCorrection, Application.Resubmitted, Application.Withdrawn]
    assert [getattr(e, "round", None) for e in events] == [1, 1, None, 2, 2, 3, None]
    assert [e.actor for e in events] == [OWNER, COUNTY, OWNER, OWNER, COUNTY, OWNER, OWNER]
    assert [e.timestamp for e in events] == [at(1), at(2), at(2.5), at(3), at(3.5), at(3.7), at(4)]
    assert events[-1].reason == "不再申报"
    returned_event = events[1]
    assert (returned_event.stage, returned_event.reasons, returned_event.review_event_id) == (
        "county", ["营业执照复印件不清晰", "发票缺失"], "review-event-1")


def test_replaying_the_recorded_events_rebuilds_the_same_application():
    app = Application.start(T0, OWNER, campaign(), enterprise(), "130100")
    app.update_section(at(0.1), OWNER, "enterprise", dict(b.ENTERPRISE_SECTION))
    app.update_section(at(0.2), OWNER, "cloud", dict(b.CLOUD_SECTION))
    app.set_scenarios(at(0.3), OWNER, list(b.SCENARIOS))
    for c in b.CONTRACTS:
        app.save_contract(at(0.4), OWNER, dict(c))
    app.attach_document(at(0.5), OWNER, document("d1", "invoice", "c2017"))
    app.give_pledge(at(0.6), OWNER, True, True, True)
    app.submit(at(1), OWNER, "2018.1")
    app.return_for_correction(at(2), COUNTY, 1, "county", ["补充发票"], "review-event-1")
    app.remove_document(at(2.5), OWNER, "d1")
    app.submit(at(3), OWNER, "2018.1")

    replayed = None
    for event in app.collect_events():
        replayed = event.mutate(replayed)
    assert isinstance(replayed, Application)
    assert snapshot(replayed) == snapshot(app)
    assert replayed.modified_on == at(3)


# ---------------------------------------------------------------- what each state allows
@pytest.mark.parametrize("state", ["draft", "returned"])
@pytest.mark.parametrize("command", sorted(EDITS))
def test_the_form_can_be_edited_as_a_draft_and_after_a_return(state, command):
    app = in_state(state)
    version, status = app.version, app.status
    edit, event_class = EDITS[command]
    edit(app, at(5), OWNER)
    [event] = app.collect_events()
    assert type(event) is event_class
    assert (event.actor, event.timestamp) == (OWNER, at(5))
    assert (app.version, app.modified_on, app.status) == (version + 1, at(5), status)


@pytest.mark.parametrize("state", ["submitted", "resubmitted", "withdrawn", "withdrawn_draft"])
@pytest.mark.parametrize("command", sorted(EDITS))
def test_the_form_cannot_be_edited_once_submitted_or_withdrawn(state, command):
    app = in_state(state)
    before = snapshot(app)
    edit, _ = EDITS[command]
    with pytest.raises(InvalidState) as e:
        edit(app, at(5), OWNER)
    assert e.value.details == {"status": app.status}
    assert e.value.payload["message_zh"] and e.value.payload["message_en"]
    assert app.collect_events() == []
    assert snapshot(app) == before


@pytest.mark.parametrize(("state", "event_class", "round"), [
    ("draft", Application.Submitted, 1),
    ("returned", Application.Resubmitted, 2),
])
def test_submitting_a_draft_starts_round_one_and_after_a_return_the_next_round(state, event_class, round):
    app = in_state(state)
    app.submit(at(5), OWNER, "2018.1")
    [event] = app.collect_events()
    assert type(event) is event_class
    assert (event.round, event.rule_set_version, event.actor, event.timestamp) == (round, "2018.1", OWNER, at(5))
    assert (app.status, app.round, app.last_submitted_at) == (Status.SUBMITTED, round, at(5).isoformat())


@pytest.mark.parametrize("state", ["submitted", "resubmitted", "withdrawn", "withdrawn_draft"])
def test_submitting_is_refused_unless_draft_or_returned(state):
    app = in_state(state)
    before = snapshot(app)
    with pytest.raises(InvalidState) as e:
        app.submit(at(5), OWNER, "2018.1")
    assert e.value.details == {"status": app.status}
    assert app.collect_events() == []
    assert snapshot(app) == before


@pytest.mark.parametrize("state", ["draft", "submitted", "returned", "resubmitted"])
def test_withdrawing_is_possible_until_withdrawn(state):
    app = in_state(state)
    round = app.round
    app.withdraw(at(5), OWNER, "企业决定放弃")
    [event] = app.collect_events()
    assert isinstance(event, Application.Withdrawn)
    assert (event.reason, event.actor, event.timestamp) == ("企业决定放弃", OWNER, at(5))
    assert (app.status, app.round) == (Status.WITHDRAWN, round)


@pytest.mark.parametrize("state", ["withdrawn", "withdrawn_draft"])
def test_withdrawing_twice_is_refused(state):
    app = in_state(state)
    before = snapshot(app)
    with pytest.raises(InvalidState) as e:
        app.withdraw(at(5), OWNER, "again")
    assert e.value.details == {"status": Status.WITHDRAWN}
    assert app.collect_events() == []
    assert snapshot(app) == before


# ---------------------------------------------------------------- returns for correction
@pytest.mark.parametrize(("state", "round"), [("submitted", 1), ("resubmitted", 2)])
def test_a_return_for_the_current_round_reopens_the_application(state, round):
    app = in_state(state)
    returns_before = len(app.returns)
    assert app.return_for_correction(at(5), COUNTY, round, "city", ["请补充说明"], "review-event-9") is True
    [event] = app.collect_events()
    assert isinstance(event, Application.ReturnedForCorrection)
    assert (event.round, event.stage, event.reasons, event.review_event_id) == (round, "city", ["请补充说明"], "review-event-9")
    assert (event.actor, event.timestamp) == (COUNTY, at(5))
    assert (app.status, app.round) == (Status.RETURNED, round)
    assert len(app.returns) == returns_before + 1
    assert app.returns[-1] == {"round": round, "stage": "city", "reasons": ["请补充说明"], "at": at(5).isoformat(), "by": COUNTY}


@pytest.mark.parametrize(("state", "round"), [
    ("draft", 0), ("draft", 1),
    ("returned", 1),  # the same return delivered again
    ("resubmitted", 1),  # a late return of the earlier round
    ("submitted", 2),  # a round that has not happened
    ("withdrawn", 1), ("withdrawn_draft", 0),
])
def test_a_return_that_does_not_apply_changes_nothing_and_says_so(state, round):
    app = in_state(state)
    before = snapshot(app)
    assert app.return_for_correction(at(5), COUNTY, round, "county", ["x"], "review-event-9") is False
    assert app.collect_events() == []
    assert snapshot(app) == before


def test_a_repeated_return_is_recorded_once():
    app = in_state("submitted")
    first = app.return_for_correction(at(5), COUNTY, 1, "county", ["营业执照复印件不清晰"], "review-event-1")
    again = app.return_for_correction(at(6), COUNTY, 1, "county", ["营业执照复印件不清晰"], "review-event-1")
    assert (first, again) == (True, False)
    assert len(app.collect_events()) == 1
    assert len(app.returns) == 1 and app.returns[0]["at"] == at(5).isoformat()


# ---------------------------------------------------------------- the form's parts
def test_a_section_update_changes_only_the_fields_given():
    app = in_state("draft")
    app.update_section(at(5), OWNER, "enterprise", {"phone": "0311-1", "email": "a@example.cn"})
    app.update_section(at(6), OWNER, "enterprise", {"phone": "0311-2"})
    app.update_section(at(7), OWNER, "cloud", {"deployment_mode": "hybrid"})
    assert app.sections["enterprise"] == {"phone": "0311-2", "email": "a@example.cn"}
    assert app.content()["enterprise"] == {"phone": "0311-2", "email": "a@example.cn"}
    assert app.content()["cloud"] == {"deployment_mode": "hybrid"}
    events = app.collect_events()
    assert [(e.section, e.values) for e in events] == [
        ("enterprise", {"phone": "0311-1", "email": "a@example.cn"}), ("enterprise", {"phone": "0311-2"}),
        ("cloud", {"deployment_mode": "hybrid"})]


def test_scenarios_are_replaced_as_a_whole():
    app = in_state("draft")
    app.set_scenarios(at(5), OWNER, list(b.SCENARIOS))
    app.set_scenarios(at(6), OWNER, [b.SCENARIOS[1]])
    assert app.scenarios == [b.SCENARIOS[1]]
    assert app.content()["scenarios"] == [b.SCENARIOS[1]]
    app.set_scenarios(at(7), OWNER, [])
    assert app.content()["scenarios"] == []


def test_contracts_are_kept_by_id_and_listed_by_signing_date():
    app = new_application()
    app.save_contract(at(1), OWNER, contract("late", "2018-04-25", "90000.00"))
    app.save_contract(at(2), OWNER, contract("early", "2017-04-20", "60000.00"))
    app.save_contract(at(3), OWNER, contract("early", "2017-04-20", "61000.00"))  # saved again: replaced
    assert set(app.contracts) == {"late", "early"}
    assert app.contracts["early"]["total_amount"] == "61000.00"
    assert [c["contract_id"] for c in app.content()["contracts"]] == ["early", "late"]
    app.remove_contract(at(4), OWNER, "late")
    assert [c["contract_id"] for c in app.content()["contracts"]] == ["early"]
    [*_, removed] = app.collect_events()
    assert (type(removed), removed.contract_id, removed.timestamp) == (Application.ContractRemoved, "late", at(4))


def test_removing_an_unknown_contract_or_document_is_not_found_and_records_nothing():
    app = in_state("draft")
    before = snapshot(app)
    with pytest.raises(NotFound) as e:
        app.remove_contract(at(5), OWNER, "nope")
    assert e.value.details == {"contract_id": "nope"}
    with pytest.raises(NotFound) as e:
        app.remove_document(at(5), OWNER, "nope")
    assert e.value.details == {"document_id": "nope"}
    assert app.collect_events() == []
    assert snapshot(app) == before


def test_a_document_can_only_refer_to_a_contract_of_the_application():
    app = in_state("draft")
    with pytest.raises(InvalidInput) as e:
        app.attach_document(at(5), OWNER, document("d9", "invoice", "c-unknown"))
    assert list(e.value.details["fields"]) == ["contract_id"]
    assert "c-unknown" in e.value.details["fields"]["contract_id"][0]
    assert "d9" not in app.documents
    assert app.collect_events() == []

    app.remove_contract(at(6), OWNER, "c1")
    with pytest.raises(InvalidInput):
        app.attach_document(at(7), OWNER, document("d10", "invoice", "c1"))

    app.attach_document(at(8), OWNER, document("reg", "business_registration", None))
    app.attach_document(at(9), OWNER, {**document("reg2", "other", None), "contract_id": ""})
    assert {"reg", "reg2"} <= set(app.documents)


def test_documents_are_kept_by_id_and_listed_in_id_order():
    app = new_application()
    app.save_contract(at(1), OWNER, contract("c1"))
    for document_id in ("d3", "d1", "d2"):
        app.attach_document(at(2), OWNER, document(document_id))
    assert [d["document_id"] for d in app.content()["documents"]] == ["d1", "d2", "d3"]
    app.remove_document(at(3), OWNER, "d1")
    assert [d["document_id"] for d in app.content()["documents"]] == ["d2", "d3"]
    assert app.documents["d2"] == document("d2")


def test_the_pledge_records_each_answer_and_when_it_was_given():
    app = in_state("draft")
    app.give_pledge(at(5), OWNER, True, True, False)
    assert app.pledge == {"truthful": True, "no_bad_record": True, "share_experience": False, "given_at": at(5).isoformat()}
    app.give_pledge(at(6), OWNER, True, False, True)  # given again: replaced
    assert app.content()["pledge"] == {"truthful": True, "no_bad_record": False, "share_experience": True,
                                       "given_at": at(6).isoformat()}
    [first, second] = app.collect_events()
    assert (first.truthful, first.no_bad_record, first.share_experience) == (True, True, False)
    assert (second.actor, second.timestamp) == (OWNER, at(6))


def test_the_content_names_the_enterprise_and_its_place():
    content = in_state("draft").content()
    assert {k: content[k] for k in ("campaign_code", "uscc", "enterprise_name", "county_code", "unit_code")} == {
        "campaign_code": "2018", "uscc": USCC, "enterprise_name": "石家庄钢结构有限公司", "county_code": "130102",
        "unit_code": "130100"}


def test_each_submission_records_the_content_as_it_was_then():
    app = in_state("draft")
    first_content = app.content()
    app.submit(at(5), OWNER, "2018.1")
    app.return_for_correction(at(6), COUNTY, 1, "county", ["补充说明"], "review-event-1")
    app.update_section(at(7), OWNER, "enterprise", {"phone": "0311-99999999"})
    app.save_contract(at(7), OWNER, contract("c2", "2018-04-25", "90000.00"))
    app.submit(at(8), OWNER, "2018.2")
    events = app.collect_events()
    submitted_event, resubmitted_event = events[0], events[-1]
    assert submitted_event.content == first_content
    assert submitted_event.content["enterprise"] == {"phone": "0311-87000000"}
    assert [c["contract_id"] for c in submitted_event.content["contracts"]] == ["c1"]
    assert resubmitted_event.content == app.content()
    assert resubmitted_event.content["enterprise"] == {"phone": "0311-99999999"}
    assert [c["contract_id"] for c in resubmitted_event.content["contracts"]] == ["c1", "c2"]
    assert (submitted_event.rule_set_version, resubmitted_event.rule_set_version) == ("2018.1", "2018.2")


# ---------------------------------------------------------------- accounts
def test_a_registered_enterprise_account_acts_for_itself_and_keeps_its_password():
    enterprise_id = enterprise().id
    account = Account.register(T0, " SteelWorks ", "钢结构", "hash-1", enterprise_id)
    assert account.id == account_id_for("steelworks")
    assert (account.role, account.enterprise_id, account.active, account.must_change_password) == (
        "enterprise", str(enterprise_id), True, False)
    [event] = account.collect_events()
    assert event.actor == {"id": str(account.id), "role": "enterprise"}
    assert event.timestamp == T0


def test_an_issued_account_must_change_its_password_and_can_be_deactivated_once():
    account = Account.provision(T0, PROVINCE, "changan-county", "county", "长安区工信局", "hash-0", "130102", None)
    assert (account.role, account.division_code, account.must_change_password, account.active) == (
        "county", "130102", True, True)
    account.change_password(at(1), {"id": str(account.id), "role": "county"}, "hash-1")
    assert (account.password_hash, account.must_change_password) == ("hash-1", False)

    account.deactivate(at(2), PROVINCE, "调岗")
    assert account.active is False
    with pytest.raises(InvalidState):
        account.deactivate(at(3), PROVINCE, "again")
    account.reactivate(at(4), PROVINCE, "回岗")
    assert account.active is True
    with pytest.raises(InvalidState):
        account.reactivate(at(5), PROVINCE, "again")
    events = account.collect_events()
    assert [type(e) for e in events] == [Account.Provisioned, Account.PasswordChanged, Account.Deactivated,
                                         Account.Reactivated]
    assert [e.timestamp for e in events] == [T0, at(1), at(2), at(4)]
    assert [e.actor["role"] for e in events] == ["province", "county", "province", "province"]


# ---------------------------------------------------------------- the supply pool
def test_the_pool_remembers_who_was_in_it_when():
    pool = SupplyPool.establish(T0, PROVINCE)
    pool.add(at(1), PROVINCE, "cloudco", "某云", b.uscc("130100", 9), "首批")
    with pytest.raises(Conflict):
        pool.add(at(1.5), PROVINCE, "cloudco", "某云", b.uscc("130100", 9), "again")
    pool.remove(at(2), PROVINCE, "cloudco", "服务投诉", "province")
    with pytest.raises(NotFound):
        pool.remove(at(2.5), PROVINCE, "cloudco", "again", "province")
    pool.add(at(3), PROVINCE, "cloudco", "某云（更名）", b.uscc("130100", 9), "整改后恢复")

    assert [pool.member_at("cloudco", t) for t in (at(0.5), at(1), at(1.9), at(2), at(2.9), at(3), at(9))] == [
        False, True, True, False, False, True, True]
    assert pool.member_at("other", at(9)) is False
    assert pool.members == {"cloudco": {"name": "某云（更名）", "uscc": b.uscc("130100", 9)}}
    assert pool.members_at(at(2.5)) == []
    assert [m["name"] for m in pool.members_at(at(9))] == ["某云（更名）"]
    assert [(p["removed_at"], p["removal_reason"]) for p in pool.periods] == [(at(2).isoformat(), "服务投诉"), (None, None)]


# ---------------------------------------------------------------- bans
def test_a_ban_cannot_end_before_it_starts_and_is_lifted_once():
    with pytest.raises(InvalidInput) as e:
        Ban.record(UUID(int=1), T0, PROVINCE, USCC, "造假", date(2018, 12, 3), date(2018, 12, 2), "province")
    assert list(e.value.details["fields"]) == ["ends_on"]

    ban = Ban.record(UUID(int=2), T0, PROVINCE, USCC.lower(), "造假", date(2018, 12, 3), date(2021, 12, 2), "audit", "ev-1")
    assert (ban.uscc, ban.starts_on, ban.ends_on, ban.source, ban.source_ref, ban.lifted) == (
        USCC, "2018-12-03", "2021-12-02", "audit", "ev-1", False)
    ban.lift(at(1), PROVINCE, "复核撤销")
    assert ban.lifted is True
    with pytest.raises(InvalidState):
        ban.lift(at(2), PROVINCE, "again")
    assert [type(e) for e in ban.collect_events()] == [Ban.Recorded, Ban.Lifted]


# ---------------------------------------------------------------- the campaign's terms
def shanghai(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


def test_the_campaign_settings_are_read_as_typed_terms():
    terms = campaign().terms
    assert isinstance(terms, CampaignTerms)
    assert (terms.opens_on, terms.submission_deadline, terms.system_close) == (
        date(2018, 11, 28), date(2018, 12, 7), date(2018, 12, 15))
    assert (terms.first_contract_on_or_before, terms.reference_date) == (date(2018, 8, 31), date(2018, 11, 30))
    assert (terms.revenue_years, terms.investment_years) == ((2016, 2017), (2016, 2017, 2018))
    assert (terms.subsidy_rate, terms.subsidy_cap) == (Decimal("0.20"), Decimal("50000.00"))
    assert terms.evidence_content_types == ("application/pdf", "image/jpeg", "image/png")


@pytest.mark.parametrize(("now", "error"), [
    (shanghai(2018, 11, 27, 23, 59, 59), InvalidState),
    (shanghai(2018, 11, 28, 0, 0), None),
    (shanghai(2018, 12, 7, 23, 59, 59), None),  # "by 12-07" means to the end of that day in Shanghai
    (shanghai(2018, 12, 8, 0, 0), DeadlinePassed),
    (datetime(2018, 12, 7, 15, 59, 59, tzinfo=timezone.utc), None),  # 23:59:59 in Shanghai
    (datetime(2018, 12, 7, 16, 0, 0, tzinfo=timezone.utc), DeadlinePassed),  # midnight in Shanghai
])
def test_submissions_are_accepted_from_the_opening_day_to_the_end_of_the_deadline_day(now, error):
    terms = campaign().terms
    if error is None:
        terms.check_can_submit(now)
    else:
        with pytest.raises(error):
            terms.check_can_submit(now)


@pytest.mark.parametrize(("now", "closed"), [
    (shanghai(2018, 12, 15, 23, 59, 59), False),
    (shanghai(2018, 12, 16, 0, 0), True),
    (datetime(2018, 12, 15, 16, 0, tzinfo=timezone.utc), True),
])
def test_nothing_is_accepted_after_the_system_close(now, closed):
    terms = campaign().terms
    if closed:
        with pytest.raises(DeadlinePassed) as e:
            terms.check_open(now)
        assert e.value.details == {"system_close": "2018-12-15"}
    else:
        terms.check_open(now)
