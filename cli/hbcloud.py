"""hbcloud: a small command-line client for operators and for trying the system out, over RPC.

  python -m cli.hbcloud register --username U --password P --uscc C --name N --county 130102
  python -m cli.hbcloud login --username U --password P        (keeps the token in ~/.hbcloud/token)
  python -m cli.hbcloud start --campaign 2018
  python -m cli.hbcloud fill APPLICATION_ID FILE.json           (every part of the form, see examples/)
  python -m cli.hbcloud submit APPLICATION_ID
  python -m cli.hbcloud show APPLICATION_ID [--version N]
Anyone: campaigns. Province: open-campaign FILE, add-provider, provision, accounts, enterprises, list.
Reviewers: list, worklist, case, confirm, county-review, city-review.
Experts: declare, assignments, assignment, score, decline. Province (scoring): draw, evaluators, reopen,
scoring-progress, rank, ranking, adopt, publish-notice, objections, decide-objection, announce, export.
Anyone: notice, object, objection, announced.
Subsidy: dossier, verify-dossier, filing-details (enterprise), stamp (county, city), file, send-back,
calculate (province), approve, pay, recover (finance), subsidy, subsidy-cases, subsidy-export.
Audit: audit-head, audit-verify, audit-export FILE, audit-proof, audit-consistency, audit-replay APPLICATION_ID
(province, auditor); spot-check, spot-checks, spot-check-show, decide-fraud, decisions (province); finding (inspector).
Operators: health, bootstrap, wait-ready, clock.
Errors print their code and both messages and exit with 2."""
from __future__ import annotations

import logging
import os
import warnings

# eventlet's green DNS imports dnspython, a third of the CLI's start-up; it only resolves the broker's
# name once per call, which the system's resolver does as well (scripts/common.sh says the same).
os.environ.setdefault("EVENTLET_NO_GREENDNS", "yes")
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
import eventlet  # noqa: E402

eventlet.monkey_patch()  # before nameko and kombu are imported
logging.getLogger("amqp").setLevel(logging.ERROR)  # a closing proxy's harmless channel chatter

import argparse
import base64
import json
import mimetypes
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

from services.topology import SERVICES
from shared.client import cluster
from shared.config import settings_from_env
from shared.errors import ServiceError

TOKEN_FILE = Path(os.environ.get("HBCLOUD_TOKEN_FILE", Path.home() / ".hbcloud" / "token"))
ROOT = Path(__file__).resolve().parents[1]


def token() -> str | None:
    return TOKEN_FILE.read_text().strip() if TOKEN_FILE.exists() else None


def rpc(call: Callable[[Any], Any], with_token: bool = True, service: str = "application", timeout: float = 30.0) -> Any:
    with cluster(settings_from_env().amqp_uri, token() if with_token else None, timeout=timeout) as c:
        return call(getattr(c, service))


def review(call: Callable[[Any], Any]) -> Any:
    return rpc(call, service="review")


def show(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False))


def cmd_register(a: argparse.Namespace) -> None:
    show(rpc(lambda s: s.register_enterprise({"username": a.username, "password": a.password, "uscc": a.uscc,
                                              "name": a.name, "county_code": a.county}), with_token=False))


def cmd_login(a: argparse.Namespace) -> None:
    answer = rpc(lambda s: s.login({"username": a.username, "password": a.password}), with_token=False)
    TOKEN_FILE.parent.mkdir(parents=True, exist_ok=True)
    TOKEN_FILE.write_text(answer["token"])
    TOKEN_FILE.chmod(0o600)
    show(answer["account"])


def cmd_change_password(a: argparse.Namespace) -> None:
    """Set your own password (an issued account must, at its first sign-in); then log in again."""
    show(rpc(lambda s: s.change_password({"old_password": a.old, "new_password": a.new})))


def cmd_start(a: argparse.Namespace) -> None:
    show(rpc(lambda s: s.start_application(a.campaign)))


def _document(item: dict[str, Any], base: Path) -> dict[str, Any]:
    path = base / item["path"]
    content_type = item.get("content_type") or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    doc = {"kind": item["kind"], "filename": path.name, "content_type": content_type,
           "content_base64": base64.b64encode(path.read_bytes()).decode()}
    if item.get("contract_id"):
        doc["contract_id"] = item["contract_id"]
    return doc


def cmd_fill(a: argparse.Namespace) -> None:
    """Fill the form from one JSON file: enterprise, cloud, scenarios, contracts, documents, pledge."""
    path = Path(a.file)
    form = json.loads(path.read_text(encoding="utf-8"))

    def fill(s: Any) -> list[str]:
        done = []
        for section in ("enterprise", "cloud"):
            if section in form:
                s.update_section(a.application_id, section, form[section])
                done.append(section)
        if "scenarios" in form:
            s.set_scenarios(a.application_id, form["scenarios"])
            done.append("scenarios")
        for contract in form.get("contracts", []):
            s.save_contract(a.application_id, contract)
            done.append(f"contract {contract.get('contract_id', '')}")
        for item in form.get("documents", []):
            s.attach_document(a.application_id, _document(item, path.parent))
            done.append(f"document {item['path']}")
        if "pledge" in form:
            s.give_pledge(a.application_id, form["pledge"])
            done.append("pledge")
        return done

    show({"filled": rpc(fill)})


def cmd_check(a: argparse.Namespace) -> None:
    show(rpc(lambda s: s.check_eligibility(a.application_id)))


def cmd_submit(a: argparse.Namespace) -> None:
    def submit(s: Any) -> Any:
        # The key names this version of the application: a retry of the same submission acts once,
        # a resubmission after a return (a later version) is a new command.
        version = s.get_application(a.application_id)["version"]
        return s.submit(a.application_id, idempotency_key=f"cli-submit-{a.application_id}-v{version}")

    show(rpc(submit))


def cmd_show(a: argparse.Namespace) -> None:
    if a.history:
        show(rpc(lambda s: s.application_history(a.application_id)))
    else:
        show(rpc(lambda s: s.get_application(a.application_id, a.version)))


def cmd_mine(a: argparse.Namespace) -> None:
    show(rpc(lambda s: s.my_applications()))


def cmd_open_campaign(a: argparse.Namespace) -> None:
    settings = json.loads(Path(a.file).read_text(encoding="utf-8"))
    show(rpc(lambda s: s.open_campaign(settings)))


def cmd_add_provider(a: argparse.Namespace) -> None:
    show(rpc(lambda s: s.add_provider({"provider_id": a.provider_id, "name": a.name, "uscc": a.uscc, "reason": a.reason})))


def cmd_provision(a: argparse.Namespace) -> None:
    data = {"username": a.username, "role": a.role, "display_name": a.display_name or a.username}
    if a.division:
        data["division_code"] = a.division
    if a.provider_id:
        data["provider_id"] = a.provider_id
    show(rpc(lambda s: s.provision_account(data)))


def cmd_list(a: argparse.Namespace) -> None:
    filters = {k: v for k, v in {"status": a.status, "unit_code": a.unit, "county_code": a.county,
                                 "category": a.category, "uscc": a.uscc, "enterprise_name": a.name,
                                 "review_status": a.review_status, "review_stage": a.review_stage,
                                 "page": a.page}.items() if v}
    if a.overdue:
        filters["review_overdue"] = True
    show(rpc(lambda s: s.list_applications(filters)))


def cmd_campaigns(a: argparse.Namespace) -> None:
    """Every campaign with its key dates and whether it takes applications now."""
    show(rpc(lambda s: s.list_campaigns(), with_token=False))


def cmd_accounts(a: argparse.Namespace) -> None:
    """The province's account list: by role, by division (a city-level unit includes its counties)."""
    show(rpc(lambda s: s.list_accounts(a.role, a.division, a.page, a.page_size)))


def cmd_enterprises(a: argparse.Namespace) -> None:
    """Registered enterprises by credit code, part of the name or division (province, auditors)."""
    query = {k: v for k, v in {"uscc": a.uscc, "name": a.name, "division_code": a.division,
                               "page": a.page}.items() if v}
    show(rpc(lambda s: s.find_enterprises(query)))


def cmd_pool(a: argparse.Namespace) -> None:
    show(rpc(lambda s: s.supply_pool({"as_of": a.as_of} if a.as_of else {}), with_token=False))


def cmd_worklist(a: argparse.Namespace) -> None:
    """A reviewer's queue: pending (default), overdue or done."""
    show(review(lambda s: s.worklist({"view": a.view, "page": a.page})))


def cmd_case(a: argparse.Namespace) -> None:
    show(review(lambda s: s.case_history(a.application_id) if a.history else s.get_case(a.application_id)))


def cmd_confirm(a: argparse.Namespace) -> None:
    """Provider confirmation: every item confirmed unless named in --dispute ITEM=REMARK
    (items: first_cloud_date, content, results, contract:ID); --reject with --reason refuses outright."""
    def answer(s: Any) -> Any:
        case = s.get_case(a.application_id)
        ok = {"confirmed": True, "remark": ""}
        items: dict[str, Any] = {"first_cloud_date": dict(ok), "content": dict(ok), "results": dict(ok),
                                 "contracts": {c["contract_id"]: dict(ok) for c in case["content"]["contracts"]}}
        for spec in a.dispute or []:
            item, _, remark = spec.partition("=")
            target = items["contracts"] if item.startswith("contract:") else items
            target[item.removeprefix("contract:")] = {"confirmed": False, "remark": remark}
        return s.provider_answer(a.application_id, {"items": items, "decision": "reject" if a.reject else "answer",
                                                    "reasons": a.reason or [], "remarks": a.remarks})
    show(review(answer))


def cmd_county_review(a: argparse.Namespace) -> None:
    """County review: every document matches its original unless named in --mismatch DOC_ID=REMARK, and
    the county attests 此企业确系我县（区、市）工业企业 unless --not-local-industrial."""
    def act(s: Any) -> Any:
        case = s.get_case(a.application_id)
        checklist = {d["document_id"]: {"matches_original": True, "remark": ""} for d in case["content"]["documents"]}
        for spec in a.mismatch or []:
            doc, _, remark = spec.partition("=")
            checklist[doc] = {"matches_original": False, "remark": remark}
        return s.county_review(a.application_id, {"checklist": checklist, "complete": not a.incomplete,
                                                  "local_industrial_enterprise": not a.not_local_industrial,
                                                  "decision": a.decision, "reasons": a.reason or [], "remarks": a.remarks})
    show(review(act))


def cmd_city_review(a: argparse.Namespace) -> None:
    show(review(lambda s: s.city_review(a.application_id, {"decision": a.decision, "opinion": a.opinion,
                                                           "reasons": a.reason or []})))


# ------------------------------------------------------------------ the expert review (scoring service)
def scoring(call: Callable[[Any], Any], with_token: bool = True) -> Any:
    return rpc(call, with_token=with_token, service="scoring")


def cmd_declare(a: argparse.Namespace) -> None:
    """An evaluator declares (or renews) its interests: employers and enterprises by credit code, providers by pool id."""
    show(scoring(lambda s: s.declare_interests({"kind": a.kind, "employers": a.employer or [],
                                                "enterprises": a.enterprise or [], "providers": a.provider or []})))


def cmd_assignments(a: argparse.Namespace) -> None:
    show(scoring(lambda s: s.my_assignments({"campaign_code": a.campaign, "pending_only": a.pending})))


def cmd_assignment(a: argparse.Namespace) -> None:
    show(scoring(lambda s: s.get_assignment(a.application_id)))


def cmd_score(a: argparse.Namespace) -> None:
    """A score sheet: --score CODE=POINTS and --why CODE=TEXT per criterion; --final submits it."""
    scores = {k: int(v) for k, _, v in (x.partition("=") for x in a.score or [])}
    why = {k: v for k, _, v in (x.partition("=") for x in a.why or [])}
    show(scoring(lambda s: s.save_sheet(a.application_id, {"scores": scores, "justifications": why, "final": a.final})))


def cmd_decline(a: argparse.Namespace) -> None:
    show(scoring(lambda s: s.decline_assignment(a.application_id, {"reason": a.reason})))


def cmd_draw(a: argparse.Namespace) -> None:
    """The province's seeded draw of evaluators (a city's batch with --unit; a random seed unless --seed)."""
    show(scoring(lambda s: s.draw_evaluators({"campaign_code": a.campaign, "unit_code": a.unit, "seed": a.seed})))


def cmd_evaluators(a: argparse.Namespace) -> None:
    show(scoring(lambda s: s.list_evaluators(a.campaign)))


def cmd_reopen(a: argparse.Namespace) -> None:
    show(scoring(lambda s: s.reopen_sheet(a.application_id, {"evaluator_id": a.evaluator, "reason": a.reason})))


def cmd_scoring_progress(a: argparse.Namespace) -> None:
    show(scoring(lambda s: s.scoring_progress(a.campaign)))


def cmd_rank(a: argparse.Namespace) -> None:
    show(scoring(lambda s: s.rank_candidates(a.campaign)))


def cmd_ranking(a: argparse.Namespace) -> None:
    show(scoring(lambda s: s.get_ranking(a.campaign)))


def cmd_adopt(a: argparse.Namespace) -> None:
    """研究: adopt the latest ranking; --add/--remove APPLICATION_ID=REASON change the list."""
    def changes(specs: list[str] | None) -> list[dict[str, str]]:
        return [{"application_id": k, "reason": v} for k, _, v in (x.partition("=") for x in specs or [])]

    def adopt(s: Any) -> Any:
        ranking_id = s.get_ranking(a.campaign)["ranking_id"]
        return s.adopt_list({"campaign_code": a.campaign, "ranking_id": ranking_id, "add": changes(a.add),
                             "remove": changes(a.remove)})
    show(scoring(adopt))


def cmd_publish_notice(a: argparse.Namespace) -> None:
    show(scoring(lambda s: s.publish_notice(a.campaign)))


def cmd_notice(a: argparse.Namespace) -> None:
    show(scoring(lambda s: s.public_notice(a.campaign), with_token=False))


def cmd_object(a: argparse.Namespace) -> None:
    """Anyone objects to an enterprise on the public notice (files with --attach PATH)."""
    files = [{"filename": Path(f).name, "content_type": mimetypes.guess_type(f)[0] or "application/octet-stream",
              "content_base64": base64.b64encode(Path(f).read_bytes()).decode()} for f in a.attach or []]
    show(scoring(lambda s: s.lodge_objection({"campaign_code": a.campaign, "application_id": a.application_id,
                                              "name": a.name, "contact": a.contact, "grounds": a.grounds,
                                              "attachments": files}), with_token=False))


def cmd_objection(a: argparse.Namespace) -> None:
    show(scoring(lambda s: s.objection_status(a.objection_id), with_token=False))


def cmd_objections(a: argparse.Namespace) -> None:
    show(scoring(lambda s: s.list_objections(a.campaign)))


def cmd_decide_objection(a: argparse.Namespace) -> None:
    show(scoring(lambda s: s.decide_objection(a.objection_id, {"outcome": a.outcome, "reasons": a.reason})))


def cmd_announce(a: argparse.Namespace) -> None:
    show(scoring(lambda s: s.announce({"campaign_code": a.campaign, "document_number": a.document})))


def cmd_announced(a: argparse.Namespace) -> None:
    show(scoring(lambda s: s.announced_list(a.campaign), with_token=False))


def cmd_export(a: argparse.Namespace) -> None:
    """Writes the ranking, adopted or announced list as .xlsx or .csv into the current directory."""
    answer = scoring(lambda s: s.export_list({"campaign_code": a.campaign, "list": a.list, "format": a.format}))
    Path(answer["filename"]).write_bytes(base64.b64decode(answer.pop("content_base64")))
    show(answer)


# ------------------------------------------------------------------ the subsidy (subsidy service)
def subsidy(call: Callable[[Any], Any]) -> Any:
    return rpc(call, service="subsidy")


def cmd_dossier(a: argparse.Namespace) -> None:
    """Writes the printed dossier (打印审核后的申报材料) as a PDF into the current directory."""
    answer = subsidy(lambda s: s.print_dossier(a.application_id))
    Path(answer["filename"]).write_bytes(base64.b64decode(answer.pop("content_base64")))
    show(answer)


def cmd_verify_dossier(a: argparse.Namespace) -> None:
    """Checks a paper copy: the application id, position and digest printed on its pages."""
    show(subsidy(lambda s: s.verify_dossier({"application_id": a.application_id, "position": a.position,
                                             "digest": a.digest})))


def cmd_filing_details(a: argparse.Namespace) -> None:
    """The payee account and each invoice/voucher as CONTRACT_ID:KIND:NUMBER:DATE:AMOUNT."""
    invoices = [dict(zip(("contract_id", "kind", "number", "date", "amount"), spec.split(":", 4))) for spec in a.invoice or []]
    show(subsidy(lambda s: s.give_filing_details(a.application_id, {
        "payee": {"name": a.payee, "bank": a.bank, "account": a.account}, "invoices": invoices})))


def cmd_stamp(a: argparse.Namespace) -> None:
    show(subsidy(lambda s: s.stamp(a.application_id, {"remarks": a.remarks})))


def cmd_file(a: argparse.Namespace) -> None:
    show(subsidy(lambda s: s.file_case(a.application_id, {"remarks": a.remarks})))


def cmd_send_back(a: argparse.Namespace) -> None:
    show(subsidy(lambda s: s.send_back(a.application_id, {"reasons": a.reason})))


def cmd_calculate(a: argparse.Namespace) -> None:
    show(subsidy(lambda s: s.calculate(a.application_id)))


def cmd_approve(a: argparse.Namespace) -> None:
    show(subsidy(lambda s: s.approve(a.application_id, {"amount": a.amount})))


def cmd_pay(a: argparse.Namespace) -> None:
    show(subsidy(lambda s: s.record_payment(a.application_id, {"paid_on": a.paid_on, "amount": a.amount,
                                                               "voucher_reference": a.voucher})))


def cmd_recover(a: argparse.Namespace) -> None:
    show(subsidy(lambda s: s.record_recovery(a.application_id, {"recovered_on": a.recovered_on, "amount": a.amount,
                                                                "reference": a.reference})))


def cmd_subsidy(a: argparse.Namespace) -> None:
    show(subsidy(lambda s: s.subsidy_case_history(a.application_id) if a.history else s.get_subsidy_case(a.application_id)))


def cmd_subsidy_cases(a: argparse.Namespace) -> None:
    show(subsidy(lambda s: s.list_subsidy_cases({"campaign_code": a.campaign, "status": a.status})))


def cmd_subsidy_export(a: argparse.Namespace) -> None:
    """Writes the payment roster or the per-city totals as .xlsx or .csv into the current directory."""
    answer = subsidy(lambda s: s.export_subsidy_list({"campaign_code": a.campaign, "list": a.list, "format": a.format}))
    Path(answer["filename"]).write_bytes(base64.b64decode(answer.pop("content_base64")))
    show(answer)


# ------------------------------------------------------------------ the audit (audit service)
LEDGER_WORK_SECONDS = 900.0  # checking and reconciling a province's whole ledger takes minutes, not seconds


def audit(call: Callable[[Any], Any], timeout: float = 30.0) -> Any:
    return rpc(call, service="audit", timeout=timeout)


def cmd_audit_head(a: argparse.Namespace) -> None:
    """The ledger's size, root and latest checkpoint."""
    show(audit(lambda s: s.ledger_head()))


def cmd_audit_verify(a: argparse.Namespace) -> None:
    """Checks the ledger from its bytes and reconciles it with every service's log; exit 1 on a mismatch."""
    ledger, reconciled = audit(lambda s: (s.verify_ledger(), s.reconcile()), timeout=LEDGER_WORK_SECONDS)
    print(f"ledger: {ledger['entries']} entries, {ledger['checkpoints']} checkpoints, root {ledger['root']}: "
          f"{'OK' if ledger['ok'] else 'MISMATCH'}")
    for p in ledger["problems"]:
        print(f"  entry {p['seq']}: {p['problem']}: {p['detail']}")
    for source, r in reconciled["sources"].items():
        print(f"{source}: {r.get('ledger_entries', 0)} events up to position {r.get('tracked')}: "
              f"{'OK' if r['ok'] else 'MISMATCH'}")
        for kind in ("missing_from_ledger", "missing_from_source", "different", "unreadable"):
            for item in r.get(kind, []):
                print(f"  {kind}: {json.dumps(item, ensure_ascii=False)}")
    if not (ledger["ok"] and reconciled["ok"]):
        raise SystemExit(1)


def cmd_audit_export(a: argparse.Namespace) -> None:
    """Writes the whole ledger for the stand-alone verifier (services/audit/verify.py)."""
    entries: list[dict[str, Any]] = []
    checkpoints: list[dict[str, Any]] = []
    with cluster(settings_from_env().amqp_uri, token()) as c:
        size = c.audit.ledger_head()["tree_size"]  # the export stops here, checkpoints included: the ledger grows meanwhile
        while len(entries) < size:
            page = c.audit.ledger_entries({"after": entries[-1]["seq"] if entries else 0, "limit": 1000})["entries"]
            entries.extend({k: e[k] for k in ("seq", "canonical", "leaf_hash", "chain_hash")} for e in page
                           if e["seq"] <= size)
            if len(page) < 1000:
                break
        while True:
            more = c.audit.list_checkpoints(checkpoints[-1]["tree_size"] if checkpoints else 0, 1000)
            checkpoints.extend(cp for cp in more if cp["tree_size"] <= size)
            if len(more) < 1000:
                break
    Path(a.file).write_text(json.dumps({"entries": entries, "checkpoints": checkpoints}, ensure_ascii=False),
                            encoding="utf-8")
    print(f"{a.file}: {len(entries)} entries, {len(checkpoints)} checkpoints")


def _save_or_show(answer: Any, out: str | None) -> None:
    if out:
        Path(out).write_text(json.dumps(answer, ensure_ascii=False, indent=2), encoding="utf-8")
        print(out)
    else:
        show(answer)


def cmd_audit_proof(a: argparse.Namespace) -> None:
    """An inclusion proof of one event (by --event-id or --seq), for verify.py."""
    _save_or_show(audit(lambda s: s.inclusion_proof({"event_id": a.event_id, "seq": a.seq, "tree_size": a.tree_size})),
                  a.out)


def cmd_audit_consistency(a: argparse.Namespace) -> None:
    """A consistency proof: the ledger of --second entries (default: now) extends the one of FIRST."""
    _save_or_show(audit(lambda s: s.consistency_proof(a.first, a.second)), a.out)


def cmd_audit_replay(a: argparse.Namespace) -> None:
    """An application's whole history across every service, as a readable timeline (--json: as answered)."""
    as_of = {k: v for k, v in (("at", a.at), ("seq", a.seq), ("source", a.source), ("position", a.position)) if v}
    answer = audit(lambda s: s.replay_application(a.application_id, as_of))
    if a.json:
        show(answer)
        return
    for line in timeline_lines(answer):
        print(line)
    if "as_of" in answer:
        show({"as_of": answer["as_of"]})


def timeline_lines(answer: dict[str, Any]) -> list[str]:
    """A replay (`replay_application`'s answer) as readable lines, one per step and its reason."""
    from datetime import datetime

    from shared.clock import SHANGHAI

    lines = []
    for step in answer["timeline"]:
        at = datetime.fromisoformat(step["at"]).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        actor = f"{step['actor']['role']} {step['actor']['id'][:8]}"
        rule = f"  rule {step['rule']}" if step["rule"] else ""
        lines.append(f"{at}  {step['type']:<42} {actor:<20}{rule}  [{step['source']}@{step['position']} · ledger #{step['ledger_seq']}]")
        if step["reason"]:
            reason = "；".join(step["reason"]) if isinstance(step["reason"], list) else step["reason"]
            lines.append(f"{'':18}reason: {reason}")
    lines.append(f"{answer['steps']} steps")
    return lines


def cmd_spot_check(a: argparse.Namespace) -> None:
    """抽查: draws benchmark enterprises of a campaign (--size or --share), stratified by city unless --no-stratify."""
    show(audit(lambda s: s.draw_spot_check({"campaign_code": a.campaign, "size": a.size, "share": a.share,
                                            "stratify_by_city": not a.no_stratify,
                                            "inspectors": a.inspector or []}, idempotency_key=a.key)))


def cmd_spot_checks(a: argparse.Namespace) -> None:
    show(audit(lambda s: s.list_spot_checks({"campaign_code": a.campaign})))


def cmd_spot_check_show(a: argparse.Namespace) -> None:
    show(audit(lambda s: s.get_spot_check(a.spot_check_id)))


def cmd_finding(a: argparse.Namespace) -> None:
    """An inspector's finding on a sampled enterprise, with evidence files."""
    evidence = [{"filename": Path(f).name, "content_type": mimetypes.guess_type(f)[0] or "application/octet-stream",
                 "content_base64": base64.b64encode(Path(f).read_bytes()).decode()} for f in a.evidence or []]
    show(audit(lambda s: s.record_finding(a.spot_check_id, a.application_id, {
        "outcome": a.outcome, "summary": a.summary, "evidence": evidence}, idempotency_key=a.key)))


def cmd_decide_fraud(a: argparse.Namespace) -> None:
    """弄虚作假: the province's decision on an application (--application) or a provider (--provider)."""
    show(audit(lambda s: s.decide_fraud({
        "application_id": a.application, "provider_id": a.provider, "outcome": a.outcome, "reasons": a.reason,
        "grounds": {"kind": a.grounds, "reference": a.reference}, "findings": a.finding or []}, idempotency_key=a.key)))


def cmd_decisions(a: argparse.Namespace) -> None:
    show(audit(lambda s: s.list_decisions({"application_id": a.application, "outcome": a.outcome})))


def running_services() -> list[str]:
    """The services this installation runs: HBCLOUD_SERVICES, or every service of the topology."""
    return os.environ.get("HBCLOUD_SERVICES", " ".join(SERVICES)).split()


def cmd_health(a: argparse.Namespace) -> None:
    """Each service's log position, published position, tracked upstream positions and parked count."""
    services = running_services()
    show({service: rpc(lambda s: s.health(), service=service) for service in services})


def cmd_rebuild_read_models(a: argparse.Namespace) -> None:
    """Write a service's read models again from its own event log (run on the service's host, with
    its settings, the service stopped: docs/operations.md)."""
    from services.topology import definition
    from shared.definition import rebuild_read_models

    d = definition(a.service)
    store = d.make_store(settings_from_env())
    written = rebuild_read_models(store, d.projections)
    tables = [t.name for p in d.projections for t in p.tables]
    print(f"{a.service}: the rows of {written} aggregates written to {', '.join(tables)}", file=sys.stderr)


def cmd_unlock(a: argparse.Namespace) -> None:
    """Lift a sign-in lock-out at once (run on the application service's host; docs/operations.md)."""
    from services.application import projections
    from services.application.definition import make_store

    store = make_store(settings_from_env())
    with store.transaction() as session:
        projections.clear_failed_logins(session, a.username.strip().lower())
    print(f"sign-in failures of {a.username!r} forgotten", file=sys.stderr)


def cmd_bootstrap(a: argparse.Namespace) -> None:
    """Create the first province account straight in the application store (run on the service's
    host by scripts/start; every other account is provisioned over RPC by the province)."""
    from services.application.definition import make_store
    from services.application.handlers.identity import bootstrap_province_account

    username = os.environ.get("HBCLOUD_PROVINCE_USER", "province-admin")
    password = os.environ.get("HBCLOUD_PROVINCE_PASSWORD", "Change-me-2018")
    store = make_store(settings_from_env())
    made = bootstrap_province_account(store, username, password, "河北省工业和信息化厅")
    print(f"province account {username!r} {'created' if made else 'already exists'}", file=sys.stderr)


def cmd_wait_ready(a: argparse.Namespace) -> None:
    """Wait until every service named in HBCLOUD_SERVICES answers."""
    deadline = time.monotonic() + a.timeout
    services = running_services()
    while True:
        try:
            with cluster(settings_from_env().amqp_uri, timeout=3) as c:
                for service in services:  # get_notifications answers every caller, if only with an error
                    try:
                        getattr(c, service).get_notifications(0, 1)
                    except ServiceError:
                        pass
            print(f"answering: {', '.join(services)}", file=sys.stderr)
            return
        except Exception as e:  # not up yet
            if time.monotonic() > deadline:
                raise SystemExit(f"{', '.join(services)} did not all answer within {a.timeout}s: {e}") from None
            time.sleep(1)


def cmd_clock(a: argparse.Namespace) -> None:
    """Set the instant read by services started with HBCLOUD_CLOCK=file:PATH (replaying a campaign
    on its own dates, e.g. 2018-12-03T09:00:00+08:00; without an offset the instant is Asia/Shanghai
    time), or `clock system` to go back to real time."""
    setting = settings_from_env().clock_setting
    if not setting.startswith("file:"):
        raise SystemExit("the services read the system clock; start them with HBCLOUD_CLOCK=file:PATH")
    path = Path(setting[5:])
    if a.instant == "system":
        path.unlink(missing_ok=True)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(a.instant)
    print(f"clock: {a.instant}")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hbcloud", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    def add(name: str, fn: Callable[[argparse.Namespace], None], *args: tuple[str, dict[str, Any]]) -> None:
        sp = sub.add_parser(name, help=(fn.__doc__ or "").split("\n")[0] or None)
        for flag, kw in args:
            sp.add_argument(flag, **kw)
        sp.set_defaults(fn=fn)

    req = {"required": True}
    add("register", cmd_register, ("--username", req), ("--password", req), ("--uscc", req), ("--name", req), ("--county", req))
    add("login", cmd_login, ("--username", req), ("--password", req))
    add("change-password", cmd_change_password, ("--old", req), ("--new", req))
    add("start", cmd_start, ("--campaign", {"default": "2018"}))
    add("fill", cmd_fill, ("application_id", {}), ("file", {}))
    add("check", cmd_check, ("application_id", {}))
    add("submit", cmd_submit, ("application_id", {}))
    add("show", cmd_show, ("application_id", {}), ("--version", {"type": int}), ("--history", {"action": "store_true"}))
    add("mine", cmd_mine)
    add("open-campaign", cmd_open_campaign, ("file", {"nargs": "?", "default": str(ROOT / "campaigns" / "2018.json")}))
    add("add-provider", cmd_add_provider, ("--provider-id", req), ("--name", req), ("--uscc", req), ("--reason", {"default": ""}))
    add("provision", cmd_provision, ("--username", req), ("--role", req), ("--display-name", {}), ("--division", {}),
        ("--provider-id", {}))
    add("list", cmd_list, ("--status", {}), ("--unit", {}), ("--county", {}), ("--category", {}), ("--uscc", {}),
        ("--name", {}), ("--review-status", {}), ("--review-stage", {}), ("--overdue", {"action": "store_true"}),
        ("--page", {"type": int}))
    add("campaigns", cmd_campaigns)
    add("accounts", cmd_accounts, ("--role", {}), ("--division", {}), ("--page", {"type": int, "default": 1}),
        ("--page-size", {"type": int, "default": 100}))
    add("enterprises", cmd_enterprises, ("--uscc", {}), ("--name", {}), ("--division", {}), ("--page", {"type": int}))
    add("pool", cmd_pool, ("--as-of", {}))
    add("worklist", cmd_worklist, ("--view", {"default": "pending", "choices": ["pending", "overdue", "done"]}),
        ("--page", {"type": int, "default": 1}))
    add("case", cmd_case, ("application_id", {}), ("--history", {"action": "store_true"}))
    add("confirm", cmd_confirm, ("application_id", {}), ("--dispute", {"action": "append"}), ("--reject", {"action": "store_true"}),
        ("--reason", {"action": "append"}), ("--remarks", {"default": ""}))
    add("county-review", cmd_county_review, ("application_id", {}), ("--decision", {"default": "pass", "choices": ["pass", "return", "reject"]}),
        ("--mismatch", {"action": "append"}), ("--incomplete", {"action": "store_true"}),
        ("--not-local-industrial", {"action": "store_true"}), ("--reason", {"action": "append"}),
        ("--remarks", {"default": ""}))
    add("city-review", cmd_city_review, ("application_id", {}), ("--decision", {"required": True, "choices": ["recommend", "decline", "return"]}),
        ("--opinion", {"required": True}), ("--reason", {"action": "append"}))
    campaign = ("--campaign", {"default": "2018"})
    add("declare", cmd_declare, ("--kind", {"default": "expert", "choices": ["expert", "third_party"]}),
        ("--employer", {"action": "append"}), ("--enterprise", {"action": "append"}), ("--provider", {"action": "append"}))
    add("assignments", cmd_assignments, ("--campaign", {}), ("--pending", {"action": "store_true"}))
    add("assignment", cmd_assignment, ("application_id", {}))
    add("score", cmd_score, ("application_id", {}), ("--score", {"action": "append"}), ("--why", {"action": "append"}),
        ("--final", {"action": "store_true"}))
    add("decline", cmd_decline, ("application_id", {}), ("--reason", req))
    add("draw", cmd_draw, campaign, ("--unit", {}), ("--seed", {}))
    add("evaluators", cmd_evaluators, campaign)
    add("reopen", cmd_reopen, ("application_id", {}), ("--evaluator", req), ("--reason", req))
    add("scoring-progress", cmd_scoring_progress, campaign)
    add("rank", cmd_rank, campaign)
    add("ranking", cmd_ranking, campaign)
    add("adopt", cmd_adopt, campaign, ("--add", {"action": "append"}), ("--remove", {"action": "append"}))
    add("publish-notice", cmd_publish_notice, campaign)
    add("notice", cmd_notice, campaign)
    add("object", cmd_object, campaign, ("application_id", {}), ("--name", req), ("--contact", req), ("--grounds", req),
        ("--attach", {"action": "append"}))
    add("objection", cmd_objection, ("objection_id", {}))
    add("objections", cmd_objections, campaign)
    add("decide-objection", cmd_decide_objection, ("objection_id", {}),
        ("--outcome", {"required": True, "choices": ["upheld", "dismissed"]}), ("--reason", {"action": "append", "required": True}))
    add("announce", cmd_announce, campaign, ("--document", req))
    add("announced", cmd_announced, campaign)
    add("export", cmd_export, campaign, ("--list", {"required": True, "choices": ["ranking", "adopted", "announced"]}),
        ("--format", {"default": "xlsx", "choices": ["xlsx", "csv"]}))
    add("dossier", cmd_dossier, ("application_id", {}))
    add("verify-dossier", cmd_verify_dossier, ("application_id", {}), ("--position", {"type": int, "required": True}),
        ("--digest", req))
    add("filing-details", cmd_filing_details, ("application_id", {}), ("--payee", req), ("--bank", req), ("--account", req),
        ("--invoice", {"action": "append", "required": True}))
    add("stamp", cmd_stamp, ("application_id", {}), ("--remarks", {"default": ""}))
    add("file", cmd_file, ("application_id", {}), ("--remarks", {"default": ""}))
    add("send-back", cmd_send_back, ("application_id", {}), ("--reason", {"action": "append", "required": True}))
    add("calculate", cmd_calculate, ("application_id", {}))
    add("approve", cmd_approve, ("application_id", {}), ("--amount", req))
    add("pay", cmd_pay, ("application_id", {}), ("--paid-on", req), ("--amount", req), ("--voucher", req))
    add("recover", cmd_recover, ("application_id", {}), ("--recovered-on", req), ("--amount", req), ("--reference", req))
    add("subsidy", cmd_subsidy, ("application_id", {}), ("--history", {"action": "store_true"}))
    add("subsidy-cases", cmd_subsidy_cases, ("--campaign", {}), ("--status", {}))
    add("subsidy-export", cmd_subsidy_export, campaign, ("--list", {"required": True, "choices": ["payments", "city_totals"]}),
        ("--format", {"default": "xlsx", "choices": ["xlsx", "csv"]}))
    key = ("--key", {"default": None, "help": "idempotency key: the same key again records once"})
    add("audit-head", cmd_audit_head)
    add("audit-verify", cmd_audit_verify)
    add("audit-export", cmd_audit_export, ("file", {}))
    add("audit-proof", cmd_audit_proof, ("--event-id", {}), ("--seq", {"type": int}), ("--tree-size", {"type": int}),
        ("--out", {}))
    add("audit-consistency", cmd_audit_consistency, ("first", {"type": int}), ("--second", {"type": int}), ("--out", {}))
    add("audit-replay", cmd_audit_replay, ("application_id", {}), ("--json", {"action": "store_true"}), ("--at", {}),
        ("--seq", {"type": int}), ("--source", {}), ("--position", {"type": int}))
    add("spot-check", cmd_spot_check, campaign, ("--size", {"type": int}), ("--share", {}),
        ("--no-stratify", {"action": "store_true"}), ("--inspector", {"action": "append"}), key)
    add("spot-checks", cmd_spot_checks, ("--campaign", {}))
    add("spot-check-show", cmd_spot_check_show, ("spot_check_id", {}))
    add("finding", cmd_finding, ("spot_check_id", {}), ("application_id", {}),
        ("--outcome", {"required": True, "choices": ["no_issue", "discrepancy", "fraud_suspected"]}),
        ("--summary", req), ("--evidence", {"action": "append"}), key)
    add("decide-fraud", cmd_decide_fraud, ("--application", {}), ("--provider", {}),
        ("--outcome", {"default": "fraud", "choices": ["fraud", "no_fraud"]}), ("--reason", {"action": "append", "required": True}),
        ("--grounds", {"required": True, "choices": ["spot_check", "county", "objection", "report"]}),
        ("--reference", req), ("--finding", {"action": "append"}), key)
    add("decisions", cmd_decisions, ("--application", {}), ("--outcome", {"choices": ["fraud", "no_fraud"]}))
    add("health", cmd_health)
    add("bootstrap", cmd_bootstrap)
    add("unlock", cmd_unlock, ("username", {}))
    add("rebuild-read-models", cmd_rebuild_read_models, ("service", {"choices": list(SERVICES)}))
    add("wait-ready", cmd_wait_ready, ("--timeout", {"type": float, "default": 60}))
    add("clock", cmd_clock, ("instant", {}))
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        args.fn(args)
    except ServiceError as e:
        show({"error": e.to_dict()})
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
