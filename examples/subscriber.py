"""An example subscriber for other government systems: plain AMQP with kombu, without nameko and
without this repository, following docs/events.md ("Catching up"). It keeps a register of the
benchmark enterprises (上云标杆企业) and of the enterprises banned from informatization projects
(三年内不得申报), from the events `scoring.awarded`, `scoring.award_revoked` and
`audit.enterprise_banned`.

    python examples/subscriber.py AMQP_URI USERNAME PASSWORD STATE.json [--until-idle SECONDS]

USERNAME is a `subscriber` account the province issued. STATE.json holds the register and, per
source, the last position processed, written together (one atomic file replace), so a restart
resumes exactly where it stopped. Without --until-idle it runs until interrupted."""
from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

from kombu import Connection, Exchange, Queue

sys.path.insert(0, str(Path(__file__).resolve().parent))
from plain_rpc_client import call  # noqa: E402  (the sibling example: one RPC over plain AMQP)

FOLLOWED = {"scoring": ["scoring.awarded", "scoring.award_revoked"], "audit": ["audit.enterprise_banned"]}
PAGE = 500


class Register:
    """The subscriber's own state: what it learned, and how far it read each source."""

    def __init__(self, path: Path) -> None:
        self.path = path
        saved = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        self.positions: dict[str, int] = saved.get("positions", {})
        self.benchmarks: dict[str, Any] = saved.get("benchmarks", {})
        self.bans: dict[str, list[Any]] = saved.get("bans", {})

    def last(self, source: str) -> int:
        return self.positions.get(source, 0)

    def apply(self, envelope: dict[str, Any]) -> None:
        """One event, and the position it was read at (saved together by `save`)."""
        kind, data = envelope["type"], envelope["data"]
        if kind == "scoring.awarded":
            self.benchmarks[envelope["application_id"]] = {
                "uscc": data["uscc"], "enterprise_name": data["enterprise_name"], "campaign_code": data["campaign_code"],
                "document_number": data["document_number"], "revoked": None}
        elif kind == "scoring.award_revoked" and envelope["application_id"] in self.benchmarks:
            self.benchmarks[envelope["application_id"]]["revoked"] = {"at": envelope["occurred_at"],
                                                                       "reason": data["reason"]}
        elif kind == "audit.enterprise_banned":
            self.bans.setdefault(data["uscc"], []).append({
                "starts_on": data["starts_on"], "ends_on": data["ends_on"], "reason": data["reason"],
                "event_id": envelope["event_id"]})
        self.positions[envelope["source"]] = envelope["position"]

    def save(self) -> None:
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"positions": self.positions, "benchmarks": self.benchmarks, "bans": self.bans},
                                        ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(temporary, self.path)  # atomic: the register and its positions change together


def catch_up(amqp_uri: str, token: str, register: Register, source: str) -> None:
    """Every event of the source after the last one processed, in position order (docs/events.md, 3)."""
    while True:
        reply = call(amqp_uri, source, "get_notifications", [], {"after": register.last(source), "limit": PAGE}, token)
        if reply["error"]:
            raise RuntimeError(f"{source}.get_notifications: {reply['error']}")
        page = reply["result"]["notifications"]
        for envelope in page:
            if envelope["position"] > register.last(source):
                register.apply(envelope)  # every type moves the position; only the followed ones change the register
        register.save()  # the page's events and the position after them, in one atomic replace
        if len(page) < PAGE:
            return


def main(argv: list[str]) -> int:
    amqp_uri, username, password, state = argv[:4]
    until_idle = float(argv[argv.index("--until-idle") + 1]) if "--until-idle" in argv else None
    login = call(amqp_uri, "application", "login", [{"username": username, "password": password}], {})
    if login["error"]:
        print(json.dumps(login["error"], ensure_ascii=False), file=sys.stderr)
        return 1
    token = login["result"]["token"]
    register = Register(Path(state))
    with Connection(amqp_uri) as conn:
        # 1. Our own durable queue, bound before the first pull so nothing published meanwhile is missed.
        queue = Queue(f"subscriber-{username}", durable=True, bindings=[])
        channel = conn.channel()
        queue = queue(channel)
        queue.declare()
        for source, kinds in FOLLOWED.items():
            exchange = Exchange(f"{source}.events", type="topic", durable=True)
            exchange(channel).declare()
            for kind in kinds:
                queue.bind_to(exchange=exchange, routing_key=kind)
        # 2. and 3. Catch up each source from where we stopped.
        for source in FOLLOWED:
            catch_up(amqp_uri, token, register, source)

        # 4. Then each message: a duplicate is skipped, the next one processed, a gap pulled.
        def on_message(body: Any, message: Any) -> None:
            envelope = body if isinstance(body, dict) else json.loads(body)
            source, position = envelope.get("source"), envelope.get("position")
            if source in FOLLOWED and isinstance(position, int) and position > register.last(source):
                # Pull rather than trust the body (anyone on the virtual host could publish one):
                # this brings the event, and any before it we have not seen, from the source's own log.
                catch_up(amqp_uri, token, register, source)
            message.ack()

        with conn.Consumer(queue, callbacks=[on_message], accept=["json"]):
            while True:
                try:
                    conn.drain_events(timeout=until_idle or 60)
                except socket.timeout:
                    if until_idle is not None:
                        break
                    for source in FOLLOWED:  # now and then anyway: a lost message loses nothing
                        catch_up(amqp_uri, token, register, source)
    print(json.dumps({"positions": register.positions, "benchmarks": len(register.benchmarks),
                      "bans": len(register.bans)}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
