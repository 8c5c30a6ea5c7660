"""A campaign through all five services, as processes on the suite's own broker, while every service
is SIGKILLed at random moments and restarted, and the broker is SIGKILLed once for a while. Then,
once quiet: nothing lost, nothing done twice, the ledger verifies and reconciles, and a portal that
called during the broker's outage got typed errors and never waited past its client timeout. The
seed is printed first; HBCLOUD_FAULT_SEED=<seed> replays the same schedule of faults."""
from __future__ import annotations

import os
import random
import time
from pathlib import Path
from typing import Any, Callable

from services.topology import SERVICES
from tests.faults import proofs
from tests.faults.chaos import STARTUP, Chaos, PortalProbe, describe
from tests.faults.prepare import prepared_campaign, submit_all
from tests.support.own_broker import OwnBroker
from tests.support.system import System, wait_until

APPLICATIONS = int(os.environ.get("HBCLOUD_FAULT_APPLICATIONS", "200"))
CONCURRENCY = 8  # portals at once
PORTAL_TIMEOUT = 5.0
PORTAL_SLACK = 3.0  # connecting and declaring the reply queue, beyond the client's timeout


class Played:
    """The campaign driver (tools/play) playing the 2018 campaign with `enterprises` enterprises: the
    opening and the drafts in-process (tests/faults/prepare.py), then every stage from submission on
    through the running services, under the faults; `stages` notes when each began and ended
    (seconds on the chaos's clock) and what it did."""

    def __init__(self, system: System, enterprises: int, seed: int) -> None:
        # More attempts than a portal's default: a call may meet a restarting service and then the
        # broker's outage (tens of seconds on a busy machine) before it goes through.
        self.campaign = prepared_campaign(system, enterprises, f"faults-{seed}", CONCURRENCY, timeout=20, attempts=14)
        self.stages: list[str] = []

    def run(self, now: Callable[[], float]) -> dict[str, Any]:
        from tools.play.campaign import STAGES

        stages: list[tuple[str, Callable[[], Any]]] = [("submit", lambda: submit_all(self.campaign))]
        after = STAGES[STAGES.index("register_and_apply") + 1:]  # the opening and the drafts are prepared
        stages += [(stage, getattr(self.campaign, stage)) for stage in after]
        try:
            for name, stage in stages:
                began = now()
                done = stage()
                self.stages.append(f"{name} {began:.1f}-{now():.1f} s: {done}")
        finally:
            self.campaign.portal.close()
        return self.campaign.results

    def outcome(self) -> dict[str, Any]:
        portal = self.campaign.portal
        return {"failures": self.campaign.failures[:10], "portal": portal.stats.as_dict()}


def test_a_campaign_survives_killed_services_and_a_killed_broker(tmp_path: Path, fault_broker: OwnBroker, fault_seed: int) -> None:
    rng = random.Random(fault_seed)
    began = time.monotonic()
    base = tmp_path / "system"
    base.mkdir()
    system = System(base, fault_broker.uri)
    system.bootstrap()
    played = Played(system, APPLICATIONS, fault_seed)
    timings: dict[str, float] = {"prepared": time.monotonic() - began}
    processes = dict(zip(SERVICES, system.start_services(*SERVICES, wait=STARTUP)))
    timings["started"] = time.monotonic() - began
    probe = PortalProbe(fault_broker.uri, tmp_path, timeout=PORTAL_TIMEOUT)
    chaos = Chaos(system, fault_broker, processes, rng, probe=probe)
    outcome: dict[str, Any] = {}

    def report() -> str:
        return (f"fault seed {fault_seed} (replay: HBCLOUD_FAULT_SEED={fault_seed})\n"
                + describe(chaos, {"stages": played.stages, "portal during the outage": probe.summary(), "timings": timings,
                                   "campaign": played.outcome(), "outcome": outcome, "killed": dict(chaos.killed)}))

    def failed(what: str) -> str:
        """A failure's message: what failed, the seed, the schedule of faults, what the campaign and
        the portal saw, and the diagnosis (processes, queue depths, stacks, the tail of every log)."""
        return f"{what}\n{report()}\n{system.diagnosis()}"

    try:
        chaos.start()
        outcome["campaign"] = played.run(chaos.now)
        assert not played.campaign.failures, failed(f"the campaign failed: {played.campaign.failures[:10]}")
        campaign_done = chaos.now()
        timings["campaign"] = time.monotonic() - began
        chaos.stop()
        chaos.join(timeout=300)
        assert not chaos.is_alive() and chaos.error is None, failed("the faults did not run to the end")
        assert set(chaos.killed) == set(SERVICES), failed("not every service was killed")
        assert chaos.outage_span and chaos.outage_span[0] < campaign_done, failed("the broker outage was not mid-campaign")
        processes = chaos.processes
        assert all(p.poll() is None for p in processes.values()), failed("a service is down")

        token = system.province_token()
        last: dict[str, Any] = {}
        seen = wait_until(lambda: proofs.quiet(system.amqp_uri, token, last), timeout=120, interval=1,
                          what="every follower at its upstream's head, and the logs still",
                          context=lambda: f"still behind: {last.get('behind')}\n{report()}\n{system.diagnosis()}")
        timings["quiet"] = time.monotonic() - began
        problems = proofs.nothing_lost(seen)
        twice, outcome["counts"] = proofs.nothing_twice(proofs.logs(system.amqp_uri, token))
        problems += twice
        ledger_problems, outcome["ledger"] = proofs.ledger(system.amqp_uri, token)
        problems += ledger_problems
        for p in processes.values():
            system.stop(p)  # a graceful stop: the stores are compared at rest
        rebuilt, outcome["read_model_rows"] = proofs.read_models_match_rebuild(
            base / "data", tmp_path / "rebuilt", system.settings(HBCLOUD_DATA_DIR=str(tmp_path / "rebuilt")))
        problems += rebuilt
        timings["proved"] = time.monotonic() - began
        calls = probe.calls
        if not calls or probe.hung or any(not c.typed for c in calls) or max(c.seconds for c in calls) > PORTAL_TIMEOUT + PORTAL_SLACK:
            problems.append(f"the portal during the outage: {probe.summary()} (bound {PORTAL_TIMEOUT + PORTAL_SLACK:g} s)")
        assert not problems, failed("\n".join(problems))
        print(report())
    except AssertionError:
        raise
    except Exception as e:  # the campaign or a proof stopped with an error: the same report
        raise AssertionError(failed(f"{type(e).__name__}: {e}")) from e
    finally:
        chaos.stop()
        if chaos.is_alive():  # the test failed under way: no service is restarted after the system is closed
            chaos.join(timeout=STARTUP + 60)
        probe.close()
        system.close()
