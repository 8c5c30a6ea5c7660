"""The README's walk-through, as a newcomer types it: the command-line client takes an enterprise
from registration to a submitted application against the running service, on the 2018 dates."""
from __future__ import annotations

import json
import subprocess
import sys

from tests.support.system import PROVINCE, ROOT, System


def hbcloud(system: System, *args: str, expect: int = 0) -> dict:
    env = {**system.env, "HBCLOUD_TOKEN_FILE": str(system.tmp / "token")}
    done = subprocess.run([sys.executable, "-m", "cli.hbcloud", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == expect, done.stdout + done.stderr
    return json.loads(done.stdout) if done.stdout.strip().startswith(("{", "[")) else {}


def test_the_client_walks_an_enterprise_to_a_submitted_application(system):
    system.start_application()
    hbcloud(system, "clock", "2018-12-03T09:00:00+08:00")
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
