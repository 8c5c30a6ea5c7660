"""The application service's behaviour, through its entrypoints, with no broker: registration,
provisioning, campaigns, the pool, the form, eligibility, submission, returns and access."""
from __future__ import annotations

from datetime import datetime

import pytest

from shared.clock import SHANGHAI
from shared.errors import Conflict, DeadlinePassed, Forbidden, Ineligible, InvalidInput, InvalidState, NotAuthenticated, NotFound
from services.application.definition import DEFINITION as APPLICATION
from shared.definition import record
from shared.follower import dispatch
from tests.support import builders as b
from tests.support.builders import fill_complete
from tests.support.inprocess import Harness
from tests.support.retries import head, retried


@pytest.fixture
def h(tmp_path, clock) -> Harness:
    harness = Harness(f"sqlite:///{tmp_path / 'application.sqlite'}", clock)
    harness.open_2018()
    return harness


def started(h: Harness, username: str = "steelworks", **kw):
    ent = h.enterprise(username, **kw)
    return ent, ent.start_application("2018")["application_id"]


def failed_rules(excinfo) -> set[str]:
    return {r["rule"] for r in excinfo.value.details["rules"]}


# ------------------------------------------------------------------ identity
def test_an_enterprise_registers_logs_in_and_the_token_names_it(h):
    ent = h.enterprise("steelworks")
    me = ent.whoami()
    assert me["role"] == "enterprise" and me["enterprise_id"]


def test_registration_reports_every_bad_field_and_records_nothing(h):
    before = h.store.max_position()
    with pytest.raises(InvalidInput) as e:
        h.anonymous.register_enterprise({"username": "x", "password": "short", "uscc": "91130102000000001X",
                                         "name": "A", "county_code": "110101"})
    assert set(e.value.details["fields"]) == {"username", "password", "uscc", "name", "county_code"}
    assert e.value.payload["message_zh"] and e.value.payload["message_en"]
    assert h.store.max_position() == before


def test_a_credit_code_or_user_name_registers_once(h):
    h.enterprise("steelworks", serial=1)
    with pytest.raises(Conflict):
        h.enterprise("steelworks", serial=2)
    with pytest.raises(Conflict):
        h.enterprise("another", serial=1)


def test_wrong_password_and_unknown_user_get_the_same_answer(h):
    h.enterprise("steelworks")
    with pytest.raises(NotAuthenticated) as wrong:
        h.login("steelworks", "Wrong-pass-1")
    with pytest.raises(NotAuthenticated) as unknown:
        h.login("nobody", "Wrong-pass-1")
    assert wrong.value.to_dict() == unknown.value.to_dict()


def test_repeated_failed_sign_ins_lock_the_name_for_a_while_known_or_not(h):
    h.enterprise("steelworks")
    for name in ("steelworks", "nobody-at-all"):
        for _ in range(5):
            with pytest.raises(NotAuthenticated) as e:
                h.login(name, "Wrong-pass-1")
            assert e.value.details["reason"] == "bad_credentials"
        with pytest.raises(NotAuthenticated) as e:
            h.login(name, "Secret-pass-1")  # even the right password waits out the lock
        assert e.value.details["reason"] == "too_many_attempts"
    h.clock.advance(minutes=16)
    h.login("steelworks", "Secret-pass-1")


def test_only_the_province_provisions_accounts_and_changes_the_pool(h):
    ent = h.enterprise("steelworks")
    county = h.provision("changan-county", "county", division_code="130102")
    for session in (ent, county, h.anonymous):
        with pytest.raises((Forbidden, NotAuthenticated)):
            session.provision_account({"username": "sneaky", "role": "province", "display_name": "x"})
        with pytest.raises((Forbidden, NotAuthenticated)):
            session.add_provider({"provider_id": "rogue", "name": "Rogue Cloud", "uscc": b.uscc("130100", 5)})
    assert [a["username"] for a in h.province.list_accounts("province")["items"]] == ["province-admin"]


def test_provisioning_checks_jurisdiction_fields(h):
    with pytest.raises(InvalidInput) as e:
        h.province.provision_account({"username": "bad-county", "role": "county", "display_name": "x", "division_code": "130100"})
    assert "division_code" in e.value.details["fields"]
    with pytest.raises(InvalidInput):
        h.province.provision_account({"username": "bad-provider", "role": "provider", "display_name": "x"})


def test_a_provisioned_account_changes_its_password_and_a_deactivated_one_cannot_log_in(h):
    answer = h.province.provision_account({"username": "expert-1", "role": "expert", "display_name": "专家一"})
    expert = h.login("expert-1", answer["initial_password"])
    expert.change_password({"old_password": answer["initial_password"], "new_password": "New-secret-42"})
    with pytest.raises(NotAuthenticated):
        h.login("expert-1", answer["initial_password"])
    h.login("expert-1", "New-secret-42")
    h.province.deactivate_account({"username": "expert-1", "reason": "left the panel"})
    with pytest.raises(NotAuthenticated):
        h.login("expert-1", "New-secret-42")


def test_a_provisioning_retry_with_the_same_key_acts_once(h):
    data = {"username": "finance-1", "role": "finance", "display_name": "财政"}
    first = h.province.provision_account(data, idempotency_key="k-1")
    again = h.province.provision_account(data, idempotency_key="k-1")
    assert again["account_id"] == first["account_id"] and again["position"] == first["position"]
    assert h.province.list_accounts("finance")["total"] == 1
    # The initial password is answered once and kept nowhere in clear: a retry does not hand it out.
    assert first["initial_password"] and again["initial_password"] is None and again["withheld"] == ["initial_password"]
    from sqlalchemy import text
    with h.store.reading() as session:
        kept = " ".join(r[0] for r in session.execute(text("SELECT result FROM application_idempotency_keys")))
    assert first["initial_password"] not in kept
    with pytest.raises(Conflict):  # the same key with another input is not a retry
        h.province.provision_account(data | {"display_name": "财政厅"}, idempotency_key="k-1")
    ent, app_id = started(h)
    ent.update_section(app_id, "enterprise", {"employees": 120}, idempotency_key="k-2")
    with pytest.raises(Conflict) as reused:  # nor with another command: the client must not believe it submitted
        ent.submit(app_id, idempotency_key="k-2")
    assert reused.value.details["used_for"] == "update_section"


def test_a_chosen_password_leaves_no_unkeyed_digest_at_rest(h):
    """The idempotency record binds a key to a digest of the input, which here holds the password the
    province chose: that digest is keyed with the installation's secret, so a copy of the database
    gives no fast hash to guess the password against."""
    import hashlib
    import json
    from sqlalchemy import text
    data = {"username": "expert-9", "role": "expert", "display_name": "专家九", "password": "Chosen-pass-2018"}
    h.province.provision_account(data, idempotency_key="k-9")
    assert h.province.provision_account(data, idempotency_key="k-9")["position"] is not None  # still a retry
    with h.store.reading() as session:
        stored = session.execute(text("SELECT request_sha256 FROM application_idempotency_keys")).scalar_one()
    from shared.pipeline import _digest
    loaded = {"data": {**data, "division_code": None, "provider_id": None}}  # the input as validated
    assert stored == _digest(h.service._request_key, "provision_account", loaded)  # so the canonical form is this one
    unkeyed = hashlib.sha256(json.dumps(["provision_account", loaded], sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    assert stored != unkeyed


def test_missing_forged_tampered_and_expired_tokens_are_refused(h):
    from shared.identity import Principal, Role, TokenIssuer

    as_token = h.as_token

    forged = TokenIssuer("not-the-system-secret-but-long-enough-too", h.clock).issue(Principal("x", Role.PROVINCE))
    header, payload, signature = h.enterprise("steelworks").token.split(".")
    tampered = ".".join([header, payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB"), signature])
    reasons = {}
    for name, token in {"missing": None, "forged": forged, "tampered": tampered}.items():
        with pytest.raises(NotAuthenticated) as e:
            as_token(token).provision_account({"username": "sneaky", "role": "province", "display_name": "x"})
        reasons[name] = e.value.details["reason"]
    assert reasons == {"missing": "missing_token", "forged": "invalid_token", "tampered": "invalid_token"}
    ent = h.login("steelworks", "Secret-pass-1", relogin=False)
    h.clock.advance(hours=9)
    with pytest.raises(NotAuthenticated) as e:
        ent.whoami()
    assert e.value.details["reason"] == "expired_token"
    assert [a["username"] for a in h.province.list_accounts("province")["items"]] == ["province-admin"]  # others unaffected


# ------------------------------------------------------------------ campaign and pool
def test_the_2018_campaign_opens_once_with_its_settings(h):
    campaign = h.anonymous.get_campaign("2018")
    assert campaign["settings"]["submission_deadline"] == "2018-12-07"
    assert campaign["settings"]["subsidy_cap"] == "50000.00"
    with pytest.raises(Conflict):
        h.province.open_campaign(b.campaign_2018())


def test_campaign_settings_are_validated(h):
    settings = b.campaign_2018() | {"code": "bad", "city_deadline": "2018-12-01"}
    settings["rubric"] = settings["rubric"][:1]
    with pytest.raises(InvalidInput) as e:
        h.province.open_campaign(settings)
    assert "city_deadline" in e.value.details["fields"]


def test_the_pool_remembers_who_was_in_it_when(h):
    added = h.clock.now()
    h.clock.advance(days=1)
    h.province.remove_provider({"provider_id": "hbcloud-provider", "reason": "合同到期"})
    assert h.anonymous.supply_pool()["members"] == []
    then = h.anonymous.supply_pool({"as_of": added.isoformat()})
    assert [m["provider_id"] for m in then["members"]] == ["hbcloud-provider"]
    assert then["history"][0]["removal_reason"] == "合同到期"


# ------------------------------------------------------------------ the application
def test_an_enterprise_fills_the_form_in_any_order_and_submits(h):
    ent, app_id = started(h)
    ent.give_pledge(app_id, b.PLEDGE)  # the pledge first, the rest afterwards
    fill_complete(ent, app_id)
    answer = ent.submit(app_id)
    assert answer["status"] == "submitted" and answer["round"] == 1 and answer["position"]
    view = ent.get_application(app_id)
    assert view["status"] == "submitted"
    assert view["unit_code"] == "130100" and view["county_code"] == "130102"
    assert len(view["documents"]) == 7 and all(len(d["sha256"]) == 64 for d in view["documents"])
    submitted = [e for e in ent.application_history(app_id) if e["type"] == "application.submitted"]
    assert submitted[0]["data"]["rule_set_version"] == "2018.2"
    assert submitted[0]["data"]["content"]["cloud"]["provider_id"] == "hbcloud-provider"


def test_a_portal_retrying_a_command_with_its_key_gets_the_first_answer_and_nothing_twice(h):
    ent, app_id = started(h)
    fill_complete(ent, app_id)
    doc = {"kind": "other", "filename": "补充.pdf", "content_type": "application/pdf", "content_base64": b.b64(b.PDF)}
    first = ent.attach_document(app_id, doc, idempotency_key="attach-7")
    assert ent.attach_document(app_id, doc, idempotency_key="attach-7") == first
    edit = ent.update_section(app_id, "cloud", {"next_steps": "设备上云二期"}, idempotency_key="edit-3")
    ent.submit(app_id)
    # The timed-out edit is retried after the submission: the first answer, not "cannot edit".
    assert ent.update_section(app_id, "cloud", {"next_steps": "设备上云二期"}, idempotency_key="edit-3") == edit
    assert len(ent.get_application(app_id)["documents"]) == 8
    other = h.enterprise("rival", serial=2, name="另一家有限公司")
    rival_app = other.start_application("2018")["application_id"]
    # Keys belong to the account that used them.
    assert other.update_section(rival_app, "cloud", {"next_steps": "x"}, idempotency_key="edit-3") != edit


def test_every_other_command_retried_with_its_key_answers_its_first_answer_and_acts_once(h):
    """The province's and the enterprise's commands that took no key before: a retry with the same
    key answers the first answer and records nothing, where the same call without it is refused."""
    log = head(h.province)
    registration = {"username": "late-comer", "password": "Secret-pass-1", "uscc": b.uscc("130102", 5),
                    "name": "石家庄某后来有限公司", "county_code": "130102"}
    # Anyone: the key is bound to the input, so the same key with other input is simply another call.
    retried(h.anonymous, "register_enterprise", (registration,), log, Conflict)
    h.provision("expert-1", "expert")
    leave = {"username": "expert-1", "reason": "离开专家库"}
    retried(h.province, "deactivate_account", (leave,), log, InvalidState, other=(leave | {"reason": "另一原因"},))
    retried(h.province, "reactivate_account", (leave,), log, InvalidState, other=(leave | {"reason": "另一原因"},))
    settings = b.campaign_2018() | {"code": "2019", "name": "2019年企业上云标杆"}
    retried(h.province, "open_campaign", (settings,), log, Conflict, other=(settings | {"name": "另一名称"},))
    provider = {"provider_id": "other-cloud", "name": "另一云服务有限公司", "uscc": b.uscc("130100", 998)}
    retried(h.province, "add_provider", (provider,), log, Conflict, other=(provider | {"name": "又一云服务有限公司"},))
    removal = {"provider_id": "other-cloud", "reason": "合同到期"}
    retried(h.province, "remove_provider", (removal,), log, NotFound, other=(removal | {"reason": "退出资源池"},))
    ban = {"uscc": b.uscc("130102", 9), "reason": "2017年弄虚作假", "starts_on": "2017-01-10"}
    banned = retried(h.province, "record_ban", (ban,), log, other=(ban | {"reason": "2016年弄虚作假"},))
    lift = {"ban_id": banned["ban_id"], "reason": "复议撤销"}
    retried(h.province, "lift_ban", (lift,), log, InvalidState, other=(lift | {"reason": "另一原因"},))
    ent, app_id = started(h)
    fill_complete(ent, app_id)
    contract_id = b.CONTRACTS[0]["contract_id"]
    retried(ent, "remove_contract", (app_id, contract_id), log, NotFound, other=(app_id, b.CONTRACTS[1]["contract_id"]))
    document_id = ent.get_application(app_id)["documents"][0]["document_id"]
    retried(ent, "remove_document", (app_id, document_id), log, NotFound, other=(app_id, "no-such-document"))
    retried(ent, "give_pledge", (app_id, b.PLEDGE), log, other=(app_id, b.PLEDGE | {"share_experience": False}))


def test_starting_twice_answers_the_same_application(h):
    ent, app_id = started(h)
    again = ent.start_application("2018")
    assert again["application_id"] == app_id and again["existing"] is True


def test_an_incomplete_application_names_every_failed_rule_and_records_nothing(h):
    ent, app_id = started(h)
    before = h.store.max_position()
    with pytest.raises(Ineligible) as e:
        ent.submit(app_id)
    assert {"industrial_enterprise", "no_bad_record", "cloud_contracts", "cloud_categories", "deployment_mode",
            "provider_in_pool", "complete_form", "evidence_attached", "pledge"} <= failed_rules(e)
    assert e.value.details["rule_set_version"] == "2018.2"
    assert h.store.max_position() == before
    assert ent.get_application(app_id)["status"] == "draft"


def test_a_registration_outside_hebei_fails_the_legal_person_rule(h):
    ent, app_id = started(h, region="110105")  # Beijing credit code, Hebei county
    fill_complete(ent, app_id)
    with pytest.raises(Ineligible) as e:
        ent.submit(app_id)
    assert failed_rules(e) == {"hebei_legal_person"}


def test_an_enterprise_of_a_2018_county_registers_and_submits_and_its_bureau_is_issued(h):
    """邢台县 (130521) was abolished in 2020: its enterprises and bureau take part in the 2018 campaign."""
    ent, app_id = started(h, county="130521", region="130521")
    fill_complete(ent, app_id)
    assert ent.submit(app_id)["status"] == "submitted"
    assert ent.get_application(app_id)["unit_code"] == "130500"
    bureau = h.provision("xingtai-county", "county", division_code="130526")  # 任县
    assert bureau.whoami()["role"] == "county"


def test_a_county_created_after_the_reference_date_registers_but_is_not_in_the_2018_campaign(h):
    """任泽区 (130505) dates from 2020: registration (no campaign) takes it, the 2018 rules do not."""
    ent, app_id = started(h, county="130505", region="130505")
    fill_complete(ent, app_id)
    with pytest.raises(Ineligible) as e:
        ent.submit(app_id)
    assert failed_rules(e) == {"hebei_county"}


def test_a_non_industrial_enterprise_is_not_eligible(h):
    ent, app_id = started(h)
    fill_complete(ent, app_id, enterprise=b.ENTERPRISE_SECTION | {"industry_code": "5211"})
    with pytest.raises(Ineligible) as e:
        ent.submit(app_id)
    assert failed_rules(e) == {"industrial_enterprise"}


def test_a_first_contract_after_the_cutoff_and_none_in_force_are_named(h):
    late = [c | {"signed_on": "2018-09-15", "term_start": "2018-09-15", "term_end": "2018-10-31"} for c in b.CONTRACTS[1:]]
    ent, app_id = started(h)
    cloud = b.CLOUD_SECTION | {"investments": {"2016": "0.00", "2017": "0.00", "2018": "90000.00"}, "first_cloud_date": "2018-09-15"}
    fill_complete(ent, app_id, contracts=late, cloud=cloud)
    with pytest.raises(Ineligible) as e:
        ent.submit(app_id)
    assert failed_rules(e) == {"three_months_on_cloud", "contract_in_force"}


def test_a_declared_investment_that_disagrees_with_the_contracts_names_the_year_and_both_amounts(h):
    ent, app_id = started(h)
    fill_complete(ent, app_id, cloud=b.CLOUD_SECTION | {"investments": {"2016": "0.00", "2017": "65000.00", "2018": "90000.00"}})
    with pytest.raises(Ineligible) as e:
        ent.submit(app_id)
    (rule,) = e.value.details["rules"]
    assert rule["rule"] == "investments_match_contracts"
    assert rule["details"] == {"year": 2017, "declared": "65000.00", "contracts_total": "60000.00"}
    assert "2017" in rule["message_zh"] and "65000.00" in rule["message_en"]


def test_a_provider_outside_the_pool_is_refused(h):
    ent, app_id = started(h)
    fill_complete(ent, app_id)
    h.province.remove_provider({"provider_id": "hbcloud-provider", "reason": "退出资源池"})
    with pytest.raises(Ineligible) as e:
        ent.submit(app_id)
    assert failed_rules(e) == {"provider_in_pool"}


def test_a_banned_enterprise_cannot_submit_until_the_ban_is_lifted(h):
    ent, app_id = started(h)
    fill_complete(ent, app_id)
    ban = h.province.record_ban({"uscc": b.uscc("130102", 1), "reason": "2017年弄虚作假", "starts_on": "2017-01-10"})
    assert ban["ends_on"] == "2020-01-09"
    with pytest.raises(Ineligible) as e:
        ent.submit(app_id)
    assert failed_rules(e) == {"not_banned"}
    h.province.lift_ban({"ban_id": ban["ban_id"], "reason": "复议撤销"})
    assert ent.submit(app_id)["status"] == "submitted"


def test_submission_closes_at_the_end_of_the_deadline_day(h):
    ent, app_id = started(h)
    fill_complete(ent, app_id)
    h.clock.set(datetime(2018, 12, 8, 0, 0, tzinfo=SHANGHAI))
    with pytest.raises(DeadlinePassed):
        ent.submit(app_id)
    h.clock.set(datetime(2018, 12, 7, 23, 59, tzinfo=SHANGHAI))
    assert ent.submit(app_id)["status"] == "submitted"


def test_a_submitted_application_cannot_be_edited_but_can_be_withdrawn(h):
    ent, app_id = started(h)
    fill_complete(ent, app_id)
    ent.submit(app_id)
    with pytest.raises(InvalidState):
        ent.update_section(app_id, "cloud", {"next_steps": "改一下"})
    assert ent.withdraw(app_id, {"reason": "暂不参评"})["status"] == "withdrawn"
    with pytest.raises(InvalidState):
        ent.submit(app_id)


def test_a_return_for_correction_reopens_editing_and_resubmission_is_round_two(h):
    ent, app_id = started(h)
    fill_complete(ent, app_id)
    ent.submit(app_id)
    envelope = b.returned_for_correction(app_id)
    handle = dispatch(h.store, APPLICATION.follows["review"])
    record(h.store, handle(envelope))
    view = ent.get_application(app_id)
    assert view["status"] == "returned" and view["returns"][0]["reasons"] == ["营业执照复印件不清晰"]
    assert handle(envelope).aggregates == ()  # the same return again changes nothing
    h.clock.set(datetime(2018, 12, 10, 9, 0, tzinfo=SHANGHAI))  # after the submission deadline, before the close
    ent.update_section(app_id, "enterprise", {"profile": "更新后的简介"})
    answer = ent.submit(app_id)
    assert answer["round"] == 2
    assert [e["type"] for e in ent.application_history(app_id)][-1] == "application.resubmitted"
    h.clock.set(datetime(2018, 12, 16, 9, 0, tzinfo=SHANGHAI))
    with pytest.raises(DeadlinePassed):
        ent.withdraw(app_id)


def test_any_earlier_version_can_be_read(h):
    ent, app_id = started(h)
    ent.update_section(app_id, "enterprise", {"employees": 100})
    ent.update_section(app_id, "enterprise", {"employees": 250})
    assert ent.get_application(app_id, 2)["enterprise"]["employees"] == 100
    assert ent.get_application(app_id)["enterprise"]["employees"] == 250


def test_evidence_is_kept_with_its_hash_and_a_changed_file_is_detected(h):
    ent, app_id = started(h)
    fill_complete(ent, app_id)
    doc = ent.get_application(app_id)["documents"][0]
    fetched = ent.get_document(app_id, doc["document_id"])
    assert fetched["intact"] is True and fetched["content_base64"]
    from sqlalchemy import update
    from services.application.projections import documents
    with h.store.transaction() as session:
        session.execute(update(documents).where(documents.c.sha256 == doc["sha256"]).values(content=b"%PDF tampered"))
    assert ent.get_document(app_id, doc["document_id"])["intact"] is False


def test_evidence_type_size_and_content_are_checked(h):
    ent, app_id = started(h)
    ent.save_contract(app_id, b.CONTRACTS[0])
    with pytest.raises(InvalidInput) as e:
        ent.attach_document(app_id, {"kind": "invoice", "filename": "x.exe", "content_type": "application/x-msdownload",
                                     "content_base64": b.b64(b"MZ..."), "contract_id": "c2017"})
    assert "content_type" in e.value.details["fields"]
    with pytest.raises(InvalidInput) as e:
        ent.attach_document(app_id, {"kind": "invoice", "filename": "x.pdf", "content_type": "application/pdf",
                                     "content_base64": b.b64(b.PNG), "contract_id": "c2017"})
    assert "content_base64" in e.value.details["fields"]
    with pytest.raises(InvalidInput):
        ent.attach_document(app_id, {"kind": "invoice", "filename": "x.pdf", "content_type": "application/pdf",
                                     "content_base64": b.b64(b.PDF), "contract_id": "nope"})


def test_evidence_is_read_whole_named_by_its_type_and_its_name_cleaned(h):
    ent, app_id = started(h)
    ent.save_contract(app_id, b.CONTRACTS[0])
    doc = {"kind": "invoice", "content_type": "application/pdf", "contract_id": "c2017"}
    disguised = b"%PDF-1.4\n" + b"PK\x03\x04 anything else entirely" * 20  # starts right, is not a PDF
    with pytest.raises(InvalidInput) as e:
        ent.attach_document(app_id, doc | {"filename": "invoice.pdf", "content_base64": b.b64(disguised)})
    assert set(e.value.details["fields"]) == {"content_base64"}
    with pytest.raises(InvalidInput) as e:
        ent.attach_document(app_id, doc | {"filename": "invoice.exe", "content_base64": b.b64(b.PDF)})
    assert set(e.value.details["fields"]) == {"filename"}
    tricky = "../../etc/\u202efdp.exe\u200b.pdf"  # a folder, a right-to-left override, a zero-width space
    answer = ent.attach_document(app_id, doc | {"filename": tricky, "content_base64": b.b64(b.PDF)})
    shown = ent.get_application(app_id)["documents"]
    assert [d["filename"] for d in shown if d["document_id"] == answer["document_id"]] == ["fdp.exe.pdf"]


def test_form_fields_are_validated_with_every_error_at_once(h):
    ent, app_id = started(h)
    with pytest.raises(InvalidInput) as e:
        ent.update_section(app_id, "enterprise", {"postal_code": "12", "email": "nope", "revenue": {"2016": "1.234"},
                                                  "industry_code": "99"})
    assert set(e.value.details["fields"]) == {"postal_code", "email", "revenue", "industry_code"}, e.value.details
    with pytest.raises(InvalidInput) as e:
        ent.set_scenarios(app_id, [{"category": "equipment", "scenario": "production_equipment", "products": ["x"],
                                    "functions": "f", "problems_solved": "p", "results": "r",
                                    "metrics": {"networked_devices": -1, "colour": "red"}}])
    assert e.value.details["fields"]["scenarios"]["0"]["metrics"].keys() == {"networked_devices", "colour"}


# ------------------------------------------------------------------ access
def test_an_enterprise_cannot_see_or_change_another_enterprises_application(h):
    ent, app_id = started(h)
    other = h.enterprise("rival", serial=2, name="石家庄另一家有限公司")
    for call in (lambda: other.get_application(app_id), lambda: other.update_section(app_id, "cloud", {"next_steps": "x"}),
                 lambda: other.submit(app_id), lambda: other.application_history(app_id)):
        with pytest.raises(NotFound):
            call()
    assert [a["application_id"] for a in other.my_applications()] == []


def test_reviewers_see_only_submitted_applications_in_their_jurisdiction(h):
    ent, app_id = started(h)
    fill_complete(ent, app_id)
    county = h.provision("changan", "county", division_code="130102")
    other_county = h.provision("qiaoxi", "county", division_code="130104")
    city = h.provision("sjz-city", "city", division_code="130100")
    other_city = h.provision("tangshan", "city", division_code="130200")
    provider = h.provision("cloudco", "provider", provider_id="hbcloud-provider")
    other_provider = h.provision("othercloud", "provider", provider_id="other-cloud")
    expert = h.provision("expert-9", "expert")
    for reviewer in (county, city, provider):
        with pytest.raises(NotFound):
            reviewer.get_application(app_id)  # still a draft
    ent.submit(app_id)
    for reviewer in (county, city, provider, h.province):
        assert reviewer.get_application(app_id)["status"] == "submitted"
        assert reviewer.list_applications({})["total"] == 1
    for outsider in (other_county, other_city, other_provider):
        with pytest.raises(NotFound):
            outsider.get_application(app_id)
        assert outsider.list_applications({})["total"] == 0
    with pytest.raises(NotFound):
        expert.get_application(app_id)
    with pytest.raises(Forbidden):
        expert.list_applications({})


def test_the_province_lists_by_status_city_county_and_category_in_pages(h):
    for i in range(3):
        ent, app_id = started(h, username=f"ent{i}", serial=10 + i, county="130102" if i < 2 else "130203",
                              region="130102")
        if i == 0:
            fill_complete(ent, app_id)
            ent.submit(app_id)
        else:
            ent.set_scenarios(app_id, b.SCENARIOS[:1])
    p = h.province.list_applications
    assert p({"status": "submitted"})["total"] == 1
    assert p({"unit_code": "130200"})["total"] == 1
    assert p({"county_code": "130102"})["total"] == 2
    assert p({"category": "equipment"})["total"] == 1
    assert p({"category": "business"})["total"] == 3
    page = p({"page": 2, "page_size": 2})
    assert page["total"] == 3 and len(page["items"]) == 1


def test_the_event_log_is_only_for_services_subscribers_and_the_province(h):
    ent = h.enterprise("steelworks")
    with pytest.raises(Forbidden):
        ent.get_notifications(0, 10)
    page = h.province.get_notifications(0, 1000)
    assert [n["position"] for n in page["notifications"]] == list(range(1, page["max_position"] + 1))
    assert all("password_hash" not in str(n["data"]) for n in page["notifications"])
