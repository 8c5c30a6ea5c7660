"""The faults of the fault suite: a thread that SIGKILLs the services at random moments and restarts
each after a short random pause, and stops the suite's own broker once for a while; and a portal
that keeps calling during the broker's outage, recording what it saw. Every choice comes from one
seeded `random.Random`, so a seed replays the same schedule (the moments shift with the machine's
speed; the order and the pauses do not)."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.own_broker import OwnBroker
from tests.support.system import ROOT, System

BROKER = "broker"
STARTUP = 120.0  # seconds a restarted service may take to answer (a loaded machine takes tens)


class Chaos(threading.Thread):
    """First round: every service killed once, in a random order, with the broker outage at a random
    place among the first kills (so it comes mid-campaign); then random kills until `stop()`. Each
    kill is followed by a pause of `pause` seconds (uniform) and a restart awaited until the service
    answers; `gap` seconds (uniform) pass between the first round's faults, `later_gap` between later ones."""

    def __init__(self, system: System, broker: OwnBroker, processes: dict[str, subprocess.Popen[bytes]], rng: random.Random,
                 gap: tuple[float, float] = (0.5, 3.0), pause: tuple[float, float] = (0.2, 2.5),
                 outage: tuple[float, float] = (10.0, 15.0), later_gap: tuple[float, float] = (3.0, 10.0),
                 probe: "PortalProbe | None" = None) -> None:
        super().__init__(name="chaos", daemon=True)
        self.system, self.broker, self.processes, self.rng = system, broker, processes, rng
        self.gap, self.pause, self.outage, self.later_gap, self.probe = gap, pause, outage, later_gap, probe
        first = list(processes)
        rng.shuffle(first)
        first.insert(rng.randint(1, 2), BROKER)
        self.first_round = first
        self.began = time.monotonic()
        self.schedule: list[str] = []  # "12.3 s: what", as it happened
        self.killed: Counter[str] = Counter()
        self.outage_span: tuple[float, float] | None = None  # (down, listening again), seconds since began
        self.error: BaseException | None = None
        self._halt = threading.Event()

    def now(self) -> float:
        return time.monotonic() - self.began

    def note(self, what: str) -> None:
        self.schedule.append(f"{self.now():.1f} s: {what}")

    def stop(self) -> None:
        """No new fault after the one in progress (a killed service is restarted first)."""
        self._halt.set()

    def run(self) -> None:
        try:
            for target in self.first_round:
                self._sleep(self.rng.uniform(*self.gap))
                self._broker_outage() if target == BROKER else self._kill(target)
            while not self._halt.is_set():  # sparser: each restart costs the campaign seconds of CPU
                self._sleep(self.rng.uniform(*self.later_gap))
                if not self._halt.is_set():
                    self._kill(self.rng.choice(sorted(self.processes)))
        except BaseException as e:  # the test reports it, with the schedule so far
            self.error = e
            self.note(f"chaos failed: {type(e).__name__}: {e}")

    def _sleep(self, seconds: float) -> None:
        time.sleep(seconds)  # not interrupted by stop(): the seed's schedule is kept whole

    def _kill(self, name: str) -> None:
        self.system.stop(self.processes[name], kill=True)
        self.killed[name] += 1
        pause = self.rng.uniform(*self.pause)
        self.note(f"{name} SIGKILLed; restart in {pause:.1f} s ({self.system.queue_depths()})")
        time.sleep(pause)
        self.processes[name] = self.system.start_service(name, wait=STARTUP)
        self.note(f"{name} answers again")

    def _broker_outage(self) -> None:
        seconds = self.rng.uniform(*self.outage)
        if self.probe is not None:
            self.probe.start()
            deadline = time.monotonic() + 60  # a busy machine takes long to import it
            while not self.probe.calls and time.monotonic() < deadline:  # the portal is calling
                time.sleep(0.1)
        self.note(f"broker SIGKILLed for {seconds:.1f} s ({self.system.queue_depths()})")
        down = self.now()
        self.broker.kill()
        time.sleep(seconds)
        self.broker.start()
        self.outage_span = (down, self.now())
        self.note("broker listening again")
        if self.probe is not None:
            time.sleep(3)  # what a portal sees while the services reconnect
            self.probe.stop()


@dataclass
class Call:
    began: float  # seconds since the probe started
    seconds: float
    outcome: str  # "ok" or the exception's class name
    typed: bool = True  # a ServiceError, the client's RpcTimeout, or the broker's absence as its library types it
    error: str = ""


class PortalProbe:
    """A portal, as a process of its own (tests/faults/portal.py), calling one cheap RPC in a loop
    with a client timeout, from just before the broker dies until a few seconds after it is back:
    what it saw (outcomes, the longest call)."""

    def __init__(self, amqp_uri: str, base: Path, timeout: float = 5.0) -> None:
        self.amqp_uri, self.timeout = amqp_uri, timeout
        self.out, self.stop_file = base / "portal-probe.jsonl", base / "portal-probe.stop"
        self.process: subprocess.Popen[bytes] | None = None
        self.hung = False  # still running long after it was told to stop

    def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "tests.faults.portal", self.amqp_uri, str(self.timeout),
                                         str(self.out), str(self.stop_file)], cwd=ROOT,
                                        env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=subprocess.STDOUT,
                                        stdout=open(self.out.with_suffix(".log"), "ab"))

    def stop(self) -> None:
        self.stop_file.touch()
        assert self.process is not None
        try:
            self.process.wait(timeout=self.timeout + 15)
        except subprocess.TimeoutExpired:
            self.hung = True
            self.process.kill()
            self.process.wait()

    def close(self) -> None:
        """Stopped if still running (the test ended before the outage did)."""
        if self.process is not None and self.process.poll() is None:
            self.stop()

    @property
    def calls(self) -> list[Call]:
        if not self.out.exists():
            return []
        return [Call(**json.loads(line)) for line in self.out.read_text().splitlines() if line.strip()]

    def summary(self) -> str:
        calls = self.calls
        counts = Counter(c.outcome for c in calls)
        longest = max(calls, key=lambda c: c.seconds, default=None)
        untyped = sorted({c.outcome for c in calls if not c.typed})
        return (f"{len(calls)} calls ({', '.join(f'{k}: {v}' for k, v in sorted(counts.items()))}); longest "
                + (f"{longest.seconds:.2f} s ({longest.outcome}, at {longest.began:.1f} s)" if longest else "none")
                + (f"; untyped errors: {untyped}" if untyped else "") + ("; HUNG: did not stop" if self.hung else ""))


def describe(chaos: Chaos, extra: dict[str, Any] | None = None) -> str:
    return "\n".join([f"first round: {', '.join(chaos.first_round)}", *chaos.schedule,
                      *(f"{k}: {v}" for k, v in (extra or {}).items())])
