"""The 2018 campaign played through the running system on the notice's own dates (scripts/demo):
at least 60 enterprises across the 14 city-level units, from registration to the audit, with a
progress bar per stage and a closing summary: the announced list, the subsidy roster, the ledger's
root, and the replay of one application from draft to reclaim."""
from __future__ import annotations

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
import eventlet  # noqa: E402

eventlet.monkey_patch()  # before nameko and kombu are imported

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from typing import Any  # noqa: E402

from rich.console import Console  # noqa: E402
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: E402
from rich.table import Table  # noqa: E402

from cli.hbcloud import timeline_lines  # noqa: E402
from shared.config import settings_from_env  # noqa: E402
from tools.play.campaign import DATES, STAGES, Campaign, clock_file  # noqa: E402
from tools.play.plan import units  # noqa: E402
from tools.play.portal import GaveUp, Portal  # noqa: E402

TITLES = {
    "open_campaign": "开启评选 · campaign, supply pool, accounts",
    "register_and_apply": "企业申报 · register, fill, submit",
    "provider_confirm": "服务商确认 · provider confirmation",
    "county_review": "县级审核 · county review, returns, overdue",
    "city_review": "市级审核推荐 · city review, lapses",
    "expert_review": "专家评审 · declarations, draw, scores, 研究",
    "decide_and_announce": "公示与公布 · notice, objections, announcement",
    "subsidy": "补助 · dossiers, filings, payments",
    "audit": "抽查 · spot check, fraud, consequences",
}
REFUSE_EXIT = 3


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="scripts/demo", description=__doc__)
    p.add_argument("--enterprises", type=int, default=60, help="how many enterprises apply (default 60)")
    p.add_argument("--seed", default="2018", help="decides every enterprise's unit, industry, fate and scores")
    p.add_argument("--province-user", default=os.environ.get("HBCLOUD_PROVINCE_USER", "province-admin"))
    p.add_argument("--province-password", default="Province-own-2018",
                   help="the province account's own password (set at its first sign-in if it still has the bootstrap one)")
    p.add_argument("--bootstrap-password", default=os.environ.get("HBCLOUD_PROVINCE_PASSWORD", "Change-me-2018"),
                   help="the password scripts/start gave the province account ('' when it was changed already)")
    p.add_argument("--concurrency", type=int, default=8)
    return p.parse_args(argv)


def clock_path() -> str:
    setting = settings_from_env().clock_setting
    if not setting.startswith("file:"):
        raise SystemExit("the services read the system clock; the demo needs them started with HBCLOUD_CLOCK=file:PATH "
                         "(scripts/start does)")
    return setting[5:]


def preflight(portal: Portal, code: str) -> None:
    """Refuses to play over a system that already holds the campaign (the demo's accounts and
    enterprises would collide with what is there)."""
    try:
        campaigns = portal.call(None, "application", "list_campaigns")
    except GaveUp:
        raise SystemExit(f"The system does not answer at {settings_from_env().amqp_uri.split('@')[-1]}: start it with scripts/start.")
    if any(c["code"] == code for c in campaigns):
        print(f"This system already holds the {code} campaign, so the demo cannot play it again here.\n"
              f"Run `scripts/demo --fresh` to stop the services, move the data directory aside (kept, renamed\n"
              f".before-demo-<time>) and start an empty system first, or play against another fresh system.",
              file=sys.stderr)
        raise SystemExit(REFUSE_EXIT)


def stage_line(stage: str, result: dict[str, Any]) -> str:
    r = result
    return {
        "open_campaign": lambda: f"{r['providers']} providers in the pool; {r['accounts']} accounts issued for "
                                 f"{r['units']} city-level units and {r['counties']} counties",
        "register_and_apply": lambda: f"{r['registered']} registered, {r['submitted']} submitted; refused at submission: "
                                      + ", ".join(f"{rule} ×{n}" for rule, n in sorted(r["refused_by_rule"].items())),
        "provider_confirm": lambda: f"{r['confirmed']} confirmed by their providers",
        "county_review": lambda: f"{r['passed']} passed, {r['returned']} returned for correction and resubmitted, "
                                 f"{r['overdue']} overdue after the county deadline, {r['left_unreviewed']} left unreviewed",
        "city_review": lambda: f"{r['recommended']} recommended, {r['declined']} declined, {r['lapsed']} lapsed at the system close",
        "expert_review": lambda: f"{r['sheets']} score sheets for {r['candidates']} candidates (draw seed {r['draw_seed']}); "
                                 + "; ".join(f"{c['expert']} ({', '.join(c['conflict'])[:60]}) kept off {c['applications']} "
                                             f"applications, assigned anyway: {c['assigned_anyway']}" for c in r["conflicts_avoided"])
                                 + f"; {r['adopted']} adopted",
        "decide_and_announce": lambda: f"{r['on_notice']} on notice; objections upheld {r['objections']['upheld']}, "
                                       f"dismissed {r['objections']['dismissed']}; {r['announced']} announced by {r['document']}",
        "subsidy": lambda: f"{r['paid']} of {r['cases']} paid, {r['total_paid']} yuan; {r['dossiers_verified']} printed dossiers "
                           f"checked against the system",
        "audit": lambda: f"spot check of {r['sampled']} among {r['population']}; fraud found at {r['fraud_enterprise']}: "
                         f"ban {r['consequences'].get('ban', {}).get('starts_on')}–{r['consequences'].get('ban', {}).get('ends_on')}, "
                         f"provider {r['consequences'].get('provider_disqualified')} out of the pool, reclaimed {r['reclaimed']} yuan",
    }[stage]()


def summary(console: Console, c: Campaign, elapsed: float) -> None:
    s = c.summary()
    unit_names = {u["code"]: u["name"] for u in units()}
    announced = s["announced"]
    table = Table(title=f"正式公布 · the announced list ({announced['document_number']}): {len(announced['entries'])} enterprises")
    for col in ("#", "enterprise", "credit code", "city-level unit", "county", "title"):
        table.add_column(col)
    for i, e in enumerate(announced["entries"], 1):
        table.add_row(str(i), e["enterprise_name"], e["uscc"], unit_names.get(e["unit_code"], e["unit_code"]), e["county_code"],
                      f"[red]revoked: {e['revoked']}[/red]" if e["revoked"] else "benchmark")
    console.print(table)
    roster = Table(title="补助 · the subsidy roster")
    for col in ("enterprise", "city-level unit", "status", "paid", "paid on", "voucher", "reclaim"):
        roster.add_column(col)
    for item in sorted(s["roster"]["items"], key=lambda x: (x["unit_code"], x["enterprise_name"])):
        roster.add_row(item["enterprise_name"], unit_names.get(item["unit_code"], item["unit_code"]), item["status"],
                       str(item["paid"] or ""), str(item["paid_on"] or ""), str(item["voucher_reference"] or ""),
                       str(item["reclaim"] or ""))
    console.print(roster)
    by_unit = Counter(unit_names[e.unit_code] for e in c.people)
    console.print("Enterprises per city-level unit: " + ", ".join(f"{u} {n}" for u, n in by_unit.items()))
    console.print(f"Industries: {len({e.industry_code for e in c.people})} GB/T 4754 divisions; categories: "
                  + ", ".join(f"{k} {v}" for k, v in Counter(cat for e in c.people for cat in e.categories).most_common()))
    verified = c.verify_ledger()
    ledger = verified["ledger"]
    console.print(f"\n[bold]The ledger[/bold]: {ledger['entries']} entries, {ledger['checkpoints']} checkpoints, "
                  f"root [bold]{ledger['root']}[/bold]: {'OK' if ledger['ok'] else 'MISMATCH'}; reconciled with "
                  + ", ".join(f"{src} {'OK' if r['ok'] else 'MISMATCH'}" for src, r in verified["reconciled"]["sources"].items()))
    console.print(f"Bans: {', '.join(b['starts_on'] + '–' + b['ends_on'] for b in s['bans']) or 'none'}; "
                  f"supply pool now: {', '.join(s['pool'])}")
    if s["replay"]:
        fraud = c.results["audit"]
        console.print(f"\n[bold]Replay of {fraud['fraud_enterprise']}'s application {fraud['fraud']}[/bold], from draft to reclaim "
                      f"(hbcloud audit-replay {fraud['fraud']}):")
        for line in timeline_lines(s["replay"]):
            console.print(line, markup=False, highlight=False)
    stats = c.portal.stats
    console.print(f"\nPlayed in {elapsed:.0f} s: {stats.calls} calls, {stats.retries} retries, {stats.timeouts} timeouts, "
                  f"{stats.sign_ins} sign-ins; refusals seen: {dict(stats.typed_errors)}")


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    console = Console()
    if not console.is_terminal:  # a file or a pipe: wide enough for the tables and the replay's lines
        console = Console(width=200)
    # as many password-hashing calls at once as the services hash at once (the same setting)
    hashing = int(os.environ.get("HBCLOUD_PASSWORD_HASH_CONCURRENCY", "1"))
    portal = Portal(settings_from_env().amqp_uri, pool_size=args.concurrency, attempts=4, hashing=min(hashing, args.concurrency))
    campaign = Campaign(portal, clock=clock_file(clock_path()), enterprises=args.enterprises, seed=args.seed,
                        province=(args.province_user, args.province_password),
                        province_password=args.bootstrap_password or None, concurrency=args.concurrency)
    try:
        preflight(portal, campaign.code)
        portal.attempts = 8
        console.print(f"[bold]{campaign.settings['name']}[/bold] ({campaign.settings['document']}): {args.enterprises} "
                      f"enterprises, seed {args.seed!r}, from {DATES['open'][:10]} to {DATES['recovery'][:10]}")
        started = time.monotonic()
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console) as bars:
            for stage in STAGES:
                task = bars.add_task(TITLES[stage], total=None)

                def advance(done: int, total: int, task: Any = task) -> None:
                    bars.update(task, completed=done, total=total)
                began = time.monotonic()
                result = getattr(campaign, stage)(advance)
                bars.update(task, total=bars.tasks[task].total or 1, completed=bars.tasks[task].total or 1)
                bars.console.print(f"  [dim]{campaign.now[:10]} ({time.monotonic() - began:.0f} s)[/dim] {stage_line(stage, result)}")
        for stage, subject, error in campaign.failures:
            console.print(f"[red]failed[/red] {stage} {subject}: {error}", markup=True, highlight=False)
        summary(console, campaign, time.monotonic() - started)
        return 1 if campaign.failures else 0
    finally:
        portal.close()


if __name__ == "__main__":
    sys.exit(main())
