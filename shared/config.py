"""Settings from the environment: one place, documented in docs/operations.md."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from shared.clock import Clock, clock_from_setting


class ConfigurationError(RuntimeError):
    """The installation is not configured to run safely; the service refuses to start."""


def _read_secret(path: str | None) -> str | None:
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8").strip() or None
    except OSError as e:
        raise ConfigurationError(f"cannot read {path}: {e}") from None


@dataclass(frozen=True)
class Settings:
    amqp_uri: str
    data_dir: Path
    database_url: str | None  # e.g. postgresql+psycopg2://u:p@host/hbcloud_{service}
    token_secret: str | None  # HBCLOUD_TOKEN_SECRET, or read from HBCLOUD_TOKEN_SECRET_FILE; never a default
    clock_setting: str
    catch_up_seconds: float  # how often followers pull even without a prompt
    relay_seconds: float  # how often the outbox relay looks for unpublished events
    deadline_scan_seconds: float  # how often deadlines are checked against the clock
    ledger_checkpoint_interval: int = 100  # the audit ledger records a Merkle root every this many entries
    quorum_queues: bool = False  # followers' event queues are quorum queues (shared/queues.py)
    relay_lease_seconds: float = 10.0  # a standby replica takes over relaying after this long unrenewed

    def store_url(self, service: str) -> str:
        """SQLite file per service by default; PostgreSQL by configuration alone."""
        if self.database_url:
            return self.database_url.replace("{service}", service)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.data_dir / (service + '.sqlite')}"

    def signing_secret(self) -> str:
        """The installation's token secret. There is no default: a published one would let anyone
        who reads the repository sign a province token (scripts/start generates one per installation)."""
        if not self.token_secret:
            raise ConfigurationError("no token secret: set HBCLOUD_TOKEN_SECRET or HBCLOUD_TOKEN_SECRET_FILE, or keep "
                                     "one in <data dir>/token_secret (scripts/start generates it)")
        return self.token_secret

    def clock(self) -> Clock:
        return clock_from_setting(self.clock_setting)

    def nameko_config(self) -> dict[str, object]:
        return {"AMQP_URI": self.amqp_uri, "serializer": "json"}


def _whole_number(env: dict[str, str], name: str, default: str) -> int:
    raw = env.get(name) or default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigurationError(f"{name} must be a whole number of at least 1, not {raw!r}")
    return value


def settings_from_env(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    data_dir = Path(env.get("HBCLOUD_DATA_DIR", ".data")).resolve()
    # What scripts/start generated for this installation, unless the environment says otherwise.
    kept_uri, kept_secret = data_dir / "amqp_uri", data_dir / "token_secret"
    return Settings(
        amqp_uri=env.get("AMQP_URI") or (_read_secret(str(kept_uri)) if kept_uri.exists() else None)
        or "amqp://guest:guest@127.0.0.1:5672//",
        data_dir=data_dir,
        database_url=env.get("HBCLOUD_DATABASE_URL") or None,
        token_secret=env.get("HBCLOUD_TOKEN_SECRET") or _read_secret(env.get("HBCLOUD_TOKEN_SECRET_FILE"))
        or (_read_secret(str(kept_secret)) if kept_secret.exists() else None),
        clock_setting=env.get("HBCLOUD_CLOCK", "system"),
        catch_up_seconds=float(env.get("HBCLOUD_CATCH_UP_SECONDS", "5")),
        relay_seconds=float(env.get("HBCLOUD_RELAY_SECONDS", "0.2")),
        deadline_scan_seconds=float(env.get("HBCLOUD_DEADLINE_SCAN_SECONDS", "10")),
        ledger_checkpoint_interval=_whole_number(env, "HBCLOUD_LEDGER_CHECKPOINT_INTERVAL", "100"),
        quorum_queues=env.get("HBCLOUD_QUORUM_QUEUES", "0") == "1",
        relay_lease_seconds=float(_whole_number(env, "HBCLOUD_RELAY_LEASE_SECONDS", "10")),
    )
