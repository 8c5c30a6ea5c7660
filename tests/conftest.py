"""Test configuration shared by every layer. eventlet must patch before anything else imports
sockets or threads (nameko needs it; plain pytest hangs otherwise)."""
import os

# Password hashing at test strength, for this process and the services the tests start (they
# inherit the environment). Set before shared.identity is imported.
os.environ.setdefault("HBCLOUD_PASSWORD_HASH_PROFILE", "CHEAPEST")
# No green DNS (dnspython) for this process and the services and CLI calls it starts: scripts/common.sh.
os.environ.setdefault("EVENTLET_NO_GREENDNS", "yes")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import uuid  # noqa: E402
from datetime import datetime  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Iterator  # noqa: E402

import pytest  # noqa: E402

from shared.clock import SHANGHAI, FixedClock  # noqa: E402
from tests.support.system import backends  # noqa: E402


@pytest.fixture
def clock() -> FixedClock:
    """2018-12-03 10:00 in Shanghai: the 2018 campaign is open for submissions."""
    return FixedClock(datetime(2018, 12, 3, 10, 0, tzinfo=SHANGHAI))


def _postgres_url() -> str | None:
    url = os.environ.get("HBCLOUD_TEST_POSTGRES_URL")
    if not url and os.environ.get("CI") == "true":
        pytest.fail("CI must run PostgreSQL tests: scripts/test sets HBCLOUD_TEST_POSTGRES_URL")
    return url


@pytest.fixture(params=backends())
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: an SQLite file, or a new PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
        return
    base = _postgres_url()
    if not base:
        pytest.skip("no PostgreSQL (run scripts/test)")
    import psycopg2

    name = "hbtest_" + uuid.uuid4().hex[:12]
    dsn = base.replace("postgresql+psycopg2://", "postgresql://")
    admin = psycopg2.connect(dsn)
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {name}")
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()
