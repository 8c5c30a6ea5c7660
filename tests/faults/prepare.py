"""The campaign's opening and its applications' drafts, played by the campaign driver (tools/play)
in-process on the application service's store before the services start: the province's accounts,
each enterprise registered, signed in, its application started and filled from the driver's plan.
What follows (submission onwards) goes over the broker under the faults. Drafts are the bulk of a
campaign's calls (a dozen per application, each document parsed) and no other service follows
them until submission, so making them in-process spends the suite's minutes where faults matter."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from shared.clock import FixedClock
from tests.support.inprocess import Harness
from tests.support.system import PROVINCE, TOKEN_SECRET, System
from tools.play.campaign import DATES, Campaign, clock_file
from tools.play.plan import Enterprise
from tools.play.portal import Portal


class InProcessPortal(Portal):
    """The driver's portal (sign-in, idempotency keys, typed refusals), each call made on the
    application service's pipeline in this process instead of over RPC."""

    def __init__(self, harness: Harness) -> None:
        super().__init__("memory://")
        self.harness = harness

    def _once(self, token: str | None, service: str, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        assert service == "application", f"{service}.{method}: only the application service is in-process"
        return self.harness.service.call(method, token, args, kwargs)


def both_clocks(clock: FixedClock, set_file: Callable[[str], None]) -> Callable[[str], None]:
    def set_clock(instant: str) -> None:
        clock.set(datetime.fromisoformat(instant))
        set_file(instant)
    return set_clock


PROCESSES = 2  # drafting is CPU work: one process per core of the machine the suite is sized for


def prepared_campaign(system: System, enterprises: int, seed: str, concurrency: int, **portal: Any) -> Campaign:
    """A Campaign whose first stage is done and whose enterprises hold started, filled, unsubmitted
    applications; its portal is then an RPC Portal(**portal) on `system`'s broker. `system` must be
    bootstrapped and its services not yet started."""
    url = f"sqlite:///{system.settings().data_dir / 'application.sqlite'}"
    clock = FixedClock(datetime.fromisoformat(DATES["open"]))
    harness = Harness(url, clock, secret=TOKEN_SECRET, bootstrap=False)
    campaign = Campaign(InProcessPortal(harness), clock=both_clocks(clock, clock_file(system.clock_file)),
                        enterprises=enterprises, seed=seed, province=PROVINCE, province_password=None, concurrency=1)
    try:
        campaign.open_campaign()
        campaign.clock("apply")
    finally:
        harness.store.close()
    drafted = drafts(url, enterprises, seed)
    for e in campaign.people:
        e.application_id, state = drafted[e.username]
        e.state.update(state)  # what the driver noted while filling (e.g. the attached documents' ids)
    campaign.portal = Portal(system.amqp_uri, pool_size=concurrency, **portal)
    campaign.concurrency = concurrency
    return campaign


def drafts(url: str, enterprises: int, seed: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every planned enterprise's draft, made by PROCESSES processes at once on the same store:
    username -> (application id, what the driver noted of it)."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    shares = [range(k, enterprises, PROCESSES) for k in range(PROCESSES)]
    with ProcessPoolExecutor(PROCESSES, mp_context=get_context("spawn")) as pool:
        made = pool.map(_draft_share, [url] * PROCESSES, [enterprises] * PROCESSES, [seed] * PROCESSES, shares)
        return {username: app_id for share in made for username, app_id in share.items()}


def _draft_share(url: str, enterprises: int, seed: str, indices: range) -> dict[str, tuple[str, dict[str, Any]]]:
    harness = Harness(url, FixedClock(datetime.fromisoformat(DATES["apply"])), secret=TOKEN_SECRET, bootstrap=False)
    campaign = Campaign(InProcessPortal(harness), clock=lambda instant: None, enterprises=enterprises, seed=seed,
                        province=PROVINCE, province_password=None, concurrency=1)
    try:
        for i in indices:
            draft(campaign, campaign.people[i])
        return {campaign.people[i].username: (str(campaign.people[i].application_id), campaign.people[i].state)
                for i in indices}
    finally:
        harness.store.close()


def draft(campaign: Campaign, e: Enterprise) -> None:
    """The driver's register_and_apply for one enterprise, but for its submission."""
    campaign.call(None, "application", "register_enterprise",
                  {"username": e.username, "password": e.password, "uscc": e.uscc, "name": e.name, "county_code": e.county_code},
                  key=campaign.key("register", e.username))
    account = campaign.enterprise_account(e)
    e.application_id = campaign.call(account, "application", "start_application", campaign.code,
                                     key=campaign.key("start", e.username))["application_id"]
    campaign.fill(e, account)


def submit_all(campaign: Campaign, progress: Callable[[int, int], None] = lambda done, total: None) -> dict[str, Any]:
    """The rest of the driver's register_and_apply: every prepared application submitted (the
    ineligible refused, rule named), over the broker."""
    campaign.clock("apply")
    drafted = [e for e in campaign.people if e.application_id]
    campaign.each("register_and_apply", drafted,
                  lambda e: campaign.submit(e, campaign.enterprise_account(e), "submit"), progress)
    refused: dict[str, int] = {}
    for e in campaign.people:
        for rule in e.state.get("refused", []):
            refused[rule] = refused.get(rule, 0) + 1
    campaign.results["register_and_apply"] = {"registered": len(drafted), "submitted": len(campaign.submitted),
                                              "refused_by_rule": refused}
    return campaign.results["register_and_apply"]
