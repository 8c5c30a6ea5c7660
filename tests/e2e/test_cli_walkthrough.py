"""The README's walk-through, as a newcomer types it: the command-line client takes an enterprise
from registration to a submitted application on the 2018 dates, and the province's reviewers
confirm, return, and after the resubmission pass and recommend it; experts score it, the province
adopts, publishes and, after a dismissed objection, announces the list; the enterprise prints its
dossier, the county verifies and stamps it, the city stamps, the province files and calculates,
finance approves and pays; a spot check finds fraud, the province decides it, and the auditor
replays the application from draft to reclaim, verifies the ledger and checks an export with the
stand-alone verifier."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support import builders as b
from tests.support.asyncapi import envelope_problems
from tests.support.system import PROVINCE, ROOT, System, wait_until


def hbcloud(system: System, *args: str, expect: int | None = 0, cwd: Path = ROOT) -> dict:
    """Runs the client as a newcomer types it; `expect` its exit code (None: any)."""
    env = {**system.env, "HBCLOUD_TOKEN_FILE": str(system.tmp / "token"), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "cli.hbcloud", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=60)
    assert expect is None or done.returncode == expect, done.stdout + done.stderr
    return json.loads(done.stdout) if done.stdout.strip().startswith(("{", "[")) else {}


def test_the_client_walks_an_enterprise_to_a_submitted_application_and_reviewers_recommend_it(system):
    system.start_service("application")
    system.start_service("review")
    system.start_service("scoring")
    system.start_service("subsidy")
    system.start_service("audit")
    hbcloud(system, "clock", "2018-12-03T09:00:00+08:00")  # the province's first sign-in was done by the fixture
    hbcloud(system, "login", "--username", PROVINCE[0], "--password", PROVINCE[1])
    hbcloud(system, "open-campaign")
    hbcloud(system, "add-provider", "--provider-id", "example-cloud", "--name", "示例云服务有限公司", "--uscc", "9113010000000999X3")
    hbcloud(system, "register", "--username", "steelworks", "--password", "Steel-works-2018", "--uscc", "9113010200000001XK",
            "--name", "石家庄示例钢结构有限公司", "--county", "130102")
    assert hbcloud(system, "login", "--username", "steelworks", "--password", "Steel-works-2018")["role"] == "enterprise"
    app_id = hbcloud(system, "start", "--campaign", "2018")["application_id"]
    refused = hbcloud(system, "submit", app_id, expect=2)["error"]
    assert refused["code"] == "ineligible" and refused["message_zh"]
    hbcloud(system, "fill", app_id, str(ROOT / "examples" / "application-2018.json"))
    assert hbcloud(system, "check", app_id) == {"failures": []}
    assert hbcloud(system, "submit", app_id)["status"] == "submitted"
    shown = hbcloud(system, "show", app_id)
    assert shown["status"] == "submitted" and len(shown["documents"]) == 7
    history = hbcloud(system, "show", app_id, "--history")
    assert history[-1]["type"] == "application.submitted"

    # The province issues the reviewers' accounts; each reviewer acts at its own step.
    passwords = {}
    for username, role, extra in (("cloudco", "provider", ["--provider-id", "example-cloud"]),
                                  ("changan", "county", ["--division", "130102"]),
                                  ("sjz-city", "city", ["--division", "130100"])):
        hbcloud(system, "login", "--username", PROVINCE[0], "--password", PROVINCE[1])
        passwords[username] = hbcloud(system, "provision", "--username", username, "--role", role, *extra)["initial_password"]

    for username, initial in list(passwords.items()):  # each sets its own password at its first sign-in
        assert hbcloud(system, "login", "--username", username, "--password", initial)["must_change_password"] is True
        refused = hbcloud(system, "worklist", expect=2)["error"]
        assert refused["details"]["reason"] == "password_change_required"
        passwords[username] = f"{username}-Own-pass-2018"
        hbcloud(system, "change-password", "--old", initial, "--new", passwords[username])

    def as_(username: str) -> None:
        hbcloud(system, "login", "--username", username, "--password", passwords[username])

    def reaches(stage: str, round_: int = 1) -> None:
        wait_until(lambda: (c := hbcloud(system, "case", app_id)) and c["stage"] == stage and c["round"] == round_
                   and c["status"] == "open", timeout=45,
                   what=f"the case to be open at the {stage} stage, round {round_}", context=system.logs)

    as_("cloudco")
    reaches("provider")
    assert hbcloud(system, "worklist")["total"] == 1
    hbcloud(system, "confirm", app_id, "--remarks", "合同及金额属实")
    as_("changan")
    reaches("county")
    hbcloud(system, "county-review", app_id, "--decision", "return", "--reason", "发票复印件不清晰")

    hbcloud(system, "login", "--username", "steelworks", "--password", "Steel-works-2018")
    wait_until(lambda: hbcloud(system, "show", app_id)["status"] == "returned", timeout=45,
               what="the application to be returned to the enterprise", context=system.logs)
    assert hbcloud(system, "submit", app_id)["round"] == 2

    as_("cloudco")
    reaches("provider", 2)
    hbcloud(system, "confirm", app_id)
    as_("changan")
    reaches("county", 2)
    hbcloud(system, "county-review", app_id)
    as_("sjz-city")
    reaches("city", 2)
    assert hbcloud(system, "city-review", app_id, "--decision", "recommend", "--opinion", "上云成效显著，同意推荐")["status"] == "recommended"
    steps = [e["type"] for e in hbcloud(system, "case", app_id, "--history")]
    assert steps[-4:] == ["review.case_restarted", "review.provider_confirmed", "review.county_passed", "review.recommended"]

    # The expert review and the selection.
    experts = [f"expert-{i}" for i in (1, 2, 3)]
    for username in experts:
        hbcloud(system, "login", "--username", PROVINCE[0], "--password", PROVINCE[1])
        initial = hbcloud(system, "provision", "--username", username, "--role", "expert")["initial_password"]
        hbcloud(system, "login", "--username", username, "--password", initial)
        passwords[username] = f"{username}-Own-pass-2018"
        hbcloud(system, "change-password", "--old", initial, "--new", passwords[username])
        as_(username)
        hbcloud(system, "declare", "--employer", "9113010000000700X8")
    hbcloud(system, "clock", "2018-12-14T09:00:00+08:00")
    hbcloud(system, "login", "--username", PROVINCE[0], "--password", PROVINCE[1])
    wait_until(lambda: hbcloud(system, "scoring-progress")["candidates"] == 1, timeout=45,
               what="the recommendation to reach the scoring service", context=system.logs)
    drawn = hbcloud(system, "draw", "--unit", "130100", "--seed", "readme")
    assert len(drawn["assignments"][app_id]) == 3
    criteria = {"results": 36, "advancement": 16, "practicality": 12, "replicability": 12, "breadth_depth": 8}
    for username in experts:
        as_(username)
        assert [a["application_id"] for a in hbcloud(system, "assignments")["items"]] == [app_id]
        args = [x for code, points in criteria.items() for x in ("--score", f"{code}={points}", "--why", f"{code}=理由充分")]
        assert hbcloud(system, "score", app_id, "--final", *args)["total"] == 84
    hbcloud(system, "login", "--username", PROVINCE[0], "--password", PROVINCE[1])
    assert hbcloud(system, "rank")["rows"][0]["score"] == "84.00"
    assert hbcloud(system, "adopt")["entries"] == [app_id]
    hbcloud(system, "clock", "2018-12-20T09:00:00+08:00")
    hbcloud(system, "login", "--username", PROVINCE[0], "--password", PROVINCE[1])
    hbcloud(system, "publish-notice")
    assert [e["application_id"] for e in hbcloud(system, "notice")["entries"]] == [app_id]
    objection = hbcloud(system, "object", app_id, "--name", "王五", "--contact", "13800000000", "--grounds", "合同金额与实际不符")
    assert hbcloud(system, "objections")["items"][0]["contact"] == "13800000000"
    hbcloud(system, "decide-objection", objection["objection_id"], "--outcome", "dismissed", "--reason", "经核实属实")
    hbcloud(system, "clock", "2018-12-27T09:00:00+08:00")
    hbcloud(system, "login", "--username", PROVINCE[0], "--password", PROVINCE[1])
    assert hbcloud(system, "announce", "--document", "冀工信两化〔2018〕600号")["awarded"] == [app_id]
    assert hbcloud(system, "announced")["entries"][0]["enterprise_name"] == "石家庄示例钢结构有限公司"

    # The subsidy.
    hbcloud(system, "login", "--username", "steelworks", "--password", "Steel-works-2018")
    wait_until(lambda: hbcloud(system, "subsidy", app_id, expect=None).get("status") == "awaiting_details", timeout=45,
               what="the award to open a subsidy case", context=system.logs)
    printed = hbcloud(system, "dossier", app_id, cwd=system.tmp)
    assert (system.tmp / printed["filename"]).read_bytes().startswith(b"%PDF")
    hbcloud(system, "filing-details", app_id, "--payee", "石家庄示例钢结构有限公司", "--bank", "中国工商银行石家庄分行",
            "--account", "0402000109300012345", "--invoice", "c2018:invoice:FP-1:2018-05-10:90000.00",
            "--invoice", "c2018:payment_voucher:PZ-1:2018-05-12:90000.00")
    as_("changan")
    assert hbcloud(system, "verify-dossier", app_id, "--position", str(printed["position"]),
                   "--digest", printed["digest"])["matches"] is True
    hbcloud(system, "stamp", app_id)
    as_("sjz-city")
    hbcloud(system, "stamp", app_id)
    hbcloud(system, "login", "--username", PROVINCE[0], "--password", PROVINCE[1])
    hbcloud(system, "file", app_id)
    assert hbcloud(system, "calculate", app_id)["calculation"]["amount"] == "18000.00"
    initial = hbcloud(system, "provision", "--username", "finance1", "--role", "finance")["initial_password"]
    hbcloud(system, "login", "--username", "finance1", "--password", initial)
    hbcloud(system, "change-password", "--old", initial, "--new", "finance1-Own-pass-2018")
    hbcloud(system, "login", "--username", "finance1", "--password", "finance1-Own-pass-2018")
    hbcloud(system, "approve", app_id, "--amount", "18000.00")
    paid = hbcloud(system, "pay", app_id, "--paid-on", "2019-03-01", "--amount", "18000.00", "--voucher", "GK-2019-0301-01")
    assert paid["status"] == "paid"

    # The audit: a spot check, a finding, the decision; the auditor reads the consequences in the replay.
    hbcloud(system, "clock", "2019-06-01T09:00:00+08:00")
    hbcloud(system, "login", "--username", PROVINCE[0], "--password", PROVINCE[1])
    accounts = {}
    for username, role in (("inspector-1", "expert"), ("auditor-1", "auditor")):
        hbcloud(system, "login", "--username", PROVINCE[0], "--password", PROVINCE[1])
        issued = hbcloud(system, "provision", "--username", username, "--role", role)
        accounts[username] = issued["account_id"]
        hbcloud(system, "login", "--username", username, "--password", issued["initial_password"])
        passwords[username] = f"{username}-Own-pass-2018"
        hbcloud(system, "change-password", "--old", issued["initial_password"], "--new", passwords[username])
    hbcloud(system, "login", "--username", PROVINCE[0], "--password", PROVINCE[1])
    check = wait_until(lambda: hbcloud(system, "spot-check", "--share", "1", "--inspector", accounts["inspector-1"],
                                       "--key", "readme-draw", expect=None).get("sample"), timeout=45,
                       what="the award and the inspector to reach the audit service", context=system.logs)
    check_id = hbcloud(system, "spot-checks")[0]["spot_check_id"]
    assert [s["application_id"] for s in check] == [app_id]
    as_("inspector-1")
    photo = system.tmp / "现场照片.png"
    photo.write_bytes(b.PNG)
    hbcloud(system, "finding", check_id, app_id, "--outcome", "fraud_suspected", "--summary", "合同系伪造",
            "--evidence", str(photo), "--key", "readme-finding")
    hbcloud(system, "login", "--username", PROVINCE[0], "--password", PROVINCE[1])
    decided = hbcloud(system, "decide-fraud", "--application", app_id, "--reason", "上云合同系伪造",
                      "--grounds", "spot_check", "--reference", check_id, "--key", "readme-decision")
    assert decided["consequences"]["provider_disqualified"] == "example-cloud"
    as_("auditor-1")

    def reclaimed() -> list | None:
        kinds = [s["type"] for s in hbcloud(system, "audit-replay", app_id, "--json", expect=None).get("timeline", [])]
        return kinds if "subsidy.reclaim_opened" in kinds else None
    kinds = wait_until(reclaimed, timeout=60, what="the consequences to reach the ledger", context=system.logs)
    assert kinds[0] == "application.started"
    assert kinds.index("audit.fraud_found") < kinds.index("scoring.award_revoked") < kinds.index("subsidy.reclaim_opened")
    def verifies() -> bool:  # exit 0: the ledger verifies and every service reconciles
        env = {**system.env, "HBCLOUD_TOKEN_FILE": str(system.tmp / "token"), "PYTHONPATH": str(ROOT)}
        return subprocess.run([sys.executable, "-m", "cli.hbcloud", "audit-verify"], cwd=ROOT, env=env,
                              capture_output=True, timeout=60).returncode == 0
    wait_until(verifies, timeout=45, what="the ledger to verify and reconcile", context=system.logs)
    hbcloud(system, "audit-export", str(system.tmp / "ledger.json"))
    alone = subprocess.run([sys.executable, str(ROOT / "services" / "audit" / "verify.py"), str(system.tmp / "ledger.json")],
                           capture_output=True, text=True, timeout=60)
    assert alone.returncode == 0 and alone.stdout.strip().endswith("OK"), alone.stdout + alone.stderr
    # Every event this run published, as the ledger holds it, is a message docs/asyncapi.yaml describes.
    exported = json.loads((system.tmp / "ledger.json").read_text(encoding="utf-8"))["entries"]
    envelopes = [json.loads(e["canonical"])["envelope"] for e in exported]
    assert envelopes and envelope_problems(envelopes) == []
