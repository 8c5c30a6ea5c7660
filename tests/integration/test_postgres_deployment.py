"""Production runs on PostgreSQL, selected by configuration alone: the same service process with
HBCLOUD_DATABASE_URL set keeps its events there, and a follower tracks them there too."""
from __future__ import annotations

import os
import uuid

import pytest

from tests.support import builders as b
from tests.support.system import wait_until


@pytest.fixture
def postgres_url_template():
    base = os.environ.get("HBCLOUD_TEST_POSTGRES_URL")
    if not base:
        if os.environ.get("CI") == "true":
            pytest.fail("scripts/test starts PostgreSQL and sets HBCLOUD_TEST_POSTGRES_URL")
        pytest.skip("no PostgreSQL (run scripts/test)")
    import psycopg2

    run = uuid.uuid4().hex[:8]
    names = {s: f"hb_{run}_{s}" for s in ("application", "tally")}
    admin = psycopg2.connect(base.replace("postgresql+psycopg2://", "postgresql://"))
    admin.autocommit = True
    for name in names.values():
        admin.cursor().execute(f"CREATE DATABASE {name}")
    try:
        yield base.rsplit("/", 1)[0] + f"/hb_{run}_{{service}}"  # one database per service
    finally:
        for name in names.values():
            admin.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def test_the_services_run_on_postgresql_by_configuration_alone(system, postgres_url_template):
    (system.tmp / "data" / "application.sqlite").unlink()  # the fixture's default store: not used here
    system.env["HBCLOUD_DATABASE_URL"] = postgres_url_template
    system.bootstrap()
    system.start_service("application")
    system.start_service("tally")
    with system.rpc(system.province_token()) as c:
        c.application.open_campaign(b.campaign_2018())
    with system.rpc() as c:
        for i in range(5):
            c.application.register_enterprise({"username": f"pg-ent-{i}", "password": "Secret-pass-1",
                                               "uscc": b.uscc(serial=300 + i), "name": f"企业{i}", "county_code": "130102"})
    with system.rpc(system.province_token()) as c:
        page = c.application.get_notifications(0, 1000)
    # PostgreSQL's sequence may leave a position unused (a rolled-back insert): positions are
    # increasing, not dense, so the follower must process every event there is, and track the last.
    expected, last = len(page["notifications"]), page["max_position"]
    stats = wait_until(lambda: (s := _stats(system))["tracked"] >= last and s, timeout=45,
                       what=f"tally to track position {last} on PostgreSQL", context=system.logs)
    assert (stats["recorded"], stats["distinct"], stats["tracked"]) == (expected, expected, last)
    assert not (system.tmp / "data" / "application.sqlite").exists()  # nothing went to the default SQLite file

    import psycopg2

    dsn = postgres_url_template.replace("postgresql+psycopg2://", "postgresql://").replace("{service}", "application")
    with psycopg2.connect(dsn) as conn:
        cur = conn.cursor()
        cur.execute("SELECT count(*) FROM application_events")
        assert cur.fetchone()[0] == expected
        cur.execute("SELECT max(id) FROM application_events")
        assert cur.fetchone()[0] == last


def _stats(system) -> dict:
    with system.rpc() as c:
        return c.tally.stats()
