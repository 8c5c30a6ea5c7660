"""The demo, run as a newcomer runs it (scripts/demo) against the five services as processes: it
plays the 2018 campaign from registration to the audit on the notice's dates, and what it prints
is what the system then holds: the announced list with one title revoked, the enterprise banned,
its provider out of the pool, its subsidy reclaimed, a ledger that verifies. Run again on the same
system, it refuses and names the fix."""
from __future__ import annotations

import os
import re
import subprocess
import time

import pytest

from tests.support.system import PROVINCE, ROOT, System

# The demo plays 60 by default; 16 still reach every unit and every story, within the test's time.
ENTERPRISES = int(os.environ.get("HBCLOUD_DEMO_TEST_ENTERPRISES", "16"))


def demo(system: System, *args: str, timeout: float = float(os.environ.get("HBCLOUD_DEMO_TEST_SECONDS", "140"))
         ) -> subprocess.CompletedProcess[str]:
    env = {**system.env, "HBCLOUD_DATA_DIR": str(system.tmp / "data"), "COLUMNS": "200", "TERM": "dumb"}
    try:
        return subprocess.run([str(ROOT / "scripts" / "demo"), "--province-password", PROVINCE[1], "--bootstrap-password", "",
                               *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    except Exception as e:  # TimeoutExpired (eventlet's green subprocess raises its own class of it)
        if not hasattr(e, "timeout"):
            raise
        raise AssertionError(f"the demo did not finish within {timeout:g} s; it printed:\n"
                             f"{_text(getattr(e, 'stdout', None))}\n{_text(getattr(e, 'stderr', None))}") from None


def _text(output: bytes | str | None) -> str:
    return output.decode(errors="replace") if isinstance(output, bytes) else output or ""


# The newcomer's system (scripts/start: SQLite files); the walk-through runs the services on PostgreSQL.
@pytest.mark.parametrize("system", ["sqlite"], indirect=True)
def test_the_demo_plays_the_2018_campaign_end_to_end_and_refuses_to_play_it_twice(system):
    system.start_services("application", "review", "scoring", "subsidy", "audit")
    started = time.monotonic()
    done = demo(system, "--enterprises", str(ENTERPRISES))
    played_in = time.monotonic() - started
    out = done.stdout
    assert done.returncode == 0, out[-6000:] + done.stderr[-6000:]

    # what the newcomer reads
    assert re.search(r"refused at submission: .*industrial_enterprise ×\d.*no_bad_record ×\d", out)
    assert re.search(r"[1-9]\d* returned for correction and resubmitted, [1-9]\d* overdue after the county deadline", out)
    assert re.search(r"[1-9]\d* lapsed at the system close", out)
    assert re.search(r"kept off [1-9]\d* applications, assigned anyway: 0", out)
    assert re.search(r"objections upheld 1, dismissed 1", out)
    announced = int(re.search(r"(\d+) announced by 冀工信两化〔2018〕600号", out).group(1))
    assert announced >= ENTERPRISES // 2
    assert "revoked: " in out and re.search(r"reclaimed \d+\.\d\d yuan", out)
    assert re.search(r"root [0-9a-f]{64}: OK", out)
    replay = out[out.index("from draft to reclaim"):]
    assert replay.index("application.started") < replay.index("audit.fraud_found") < replay.index("subsidy.reclaim_opened")

    # what the system holds
    province = system.province_token()
    with system.rpc(province) as c:
        entries = c.scoring.announced_list("2018")["entries"]
        revoked = [e for e in entries if e["revoked"]]
        assert len(entries) == announced and len(revoked) == 1
        fraud = revoked[0]
        assert c.application.bans_of(fraud["uscc"])[0]["source"] == "audit"
        assert c.subsidy.get_subsidy_case(fraud["application_id"])["status"] == "reclaimed"
        units = {e["unit_code"] for e in c.application.list_applications({"campaign_code": "2018", "page_size": 200})["items"]}
        assert len(units) == 14
        assert c.audit.verify_ledger()["ok"] is True

    again = demo(system, timeout=60)
    assert again.returncode == 3 and "scripts/demo --fresh" in again.stderr
    stages = "\n".join(line for line in out.splitlines() if re.match(r"\s+20\d\d-\d\d-\d\d \(", line))
    print(f"the demo with {ENTERPRISES} enterprises played in {played_in:.0f} s:\n{stages}")
