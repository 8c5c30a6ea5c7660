"""The README's first command as a newcomer runs it: scripts/start brings up all five services and
says when they answer; scripts/stop stops them; started again, the system has kept its data."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from shared.client import cluster
from tests.support import builders as b
from tests.support.system import ROOT, System
from services.topology import SERVICES


def run(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ROOT / "scripts" / script)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=180)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_start_says_when_all_five_answer_stop_stops_them_and_a_restart_keeps_the_data(tmp_path: Path, amqp_uri: str):
    system = System(tmp_path, amqp_uri)  # for its queue clean-up and settings; the scripts run the services
    data = tmp_path / "data"
    env = {**os.environ, "AMQP_URI": amqp_uri, "HBCLOUD_DATA_DIR": str(data),
           "HBCLOUD_PASSWORD_HASH_PROFILE": "CHEAPEST"}
    env.pop("HBCLOUD_SERVICES", None)
    try:
        started = run("start", env)
        assert started.returncode == 0, started.stderr[-3000:]
        assert "the system is up" in started.stderr and f"answering: {', '.join(SERVICES)}" in started.stderr
        pids = {s: int((data / f"{s}.pid").read_text()) for s in SERVICES}
        assert (data / "token_secret").stat().st_mode & 0o777 == 0o600
        with cluster(amqp_uri, timeout=10) as c:
            c.application.register_enterprise({"username": "kept-ent", "password": "Kept-secret-1",
                                               "uscc": b.uscc(serial=41), "name": "重启后仍在的企业", "county_code": "130102"})

        stopped = run("stop", env)
        assert stopped.returncode == 0, stopped.stderr
        assert all(f"stopped {s}" in stopped.stderr for s in SERVICES)
        assert not list(data.glob("*.pid"))
        still = [s for s, pid in pids.items() if alive(pid)]
        assert not still, f"still running once scripts/stop returned: {still}"

        again = run("start", env)
        assert again.returncode == 0, again.stderr[-3000:]
        with cluster(amqp_uri, timeout=10) as c:
            token = c.application.login({"username": "kept-ent", "password": "Kept-secret-1"})["token"]
        assert token
    finally:
        run("stop", env)
        system.close()
