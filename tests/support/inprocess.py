"""Services called in-process (no broker): the kit's real pipeline (authentication, roles,
validation, idempotency, one commit, typed errors) over a real SQLite store, built from the same
declaration nameko runs."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from services.application.definition import DEFINITION as APPLICATION
from services.application.handlers.identity import bootstrap_province_account
from services.application.store import ApplicationStore
from shared.clock import SHANGHAI, FixedClock
from shared.definition import Runtime, S, ServiceDefinition
from shared.errors import NotAuthenticated
from shared.identity import TokenIssuer
from shared.pipeline import Pipeline
from shared.relay import OutboxRelay

from tests.support import builders as b

PROVINCE = ("province-admin", "Province-admin-2018")
PROVINCE_INITIAL = "Initial-province-2018"  # what the operator's bootstrap sets; changed at first sign-in
SECRET = "unit-test-secret-at-least-32-bytes-long"


def in_process(definition: ServiceDefinition[S], store: S, issuer: TokenIssuer) -> Pipeline[S]:
    """A service from its declaration, without nameko. Its relay never publishes here (no broker);
    tests add followers to `pipeline.runtime.followers`."""
    relay = OutboxRelay(store, definition.contract, "memory://")
    return Pipeline(definition, Runtime(store, definition.contract, relay), issuer)


class Session:
    """Calls made with one token (or none), as a portal makes them."""

    def __init__(self, pipeline: Pipeline[Any], issuer: TokenIssuer, token: str | None,
                 relogin: Callable[[], str] | None = None) -> None:
        self._pipeline, self._issuer, self.token, self._relogin = pipeline, issuer, token, relogin

    def __getattr__(self, name: str) -> Any:
        if name not in self._pipeline.operations:
            raise AttributeError(name)

        def call(*args: Any, **kwargs: Any) -> Any:
            if self._relogin is not None and self.token is not None:
                try:
                    self._issuer.verify(self.token)
                except NotAuthenticated:
                    self.token = self._relogin()  # the portal signs in again after the clock moved on
            return self._pipeline.call(name, self.token, args, kwargs)

        return call

    def on(self, pipeline: Pipeline[Any]) -> "Session":
        """The same account, calling another service."""
        return Session(pipeline, self._issuer, self.token, self._relogin)


class Harness:
    def __init__(self, url: str, clock: FixedClock, secret: str = SECRET, bootstrap: bool = True) -> None:
        """bootstrap=False: on a store another harness bootstrapped already (no `province` here)."""
        self.clock = clock
        self.issuer = TokenIssuer(secret, clock)
        self.store = ApplicationStore(url, clock, self.issuer)
        self.service = in_process(APPLICATION, self.store, self.issuer)
        self.anonymous = Session(self.service, self.issuer, None)
        if bootstrap:
            bootstrap_province_account(self.store, PROVINCE[0], PROVINCE_INITIAL, "河北省工业和信息化厅")
            self.province = self.first_sign_in(PROVINCE[0], PROVINCE_INITIAL, PROVINCE[1])

    def as_token(self, token: str | None) -> Session:
        return Session(self.service, self.issuer, token)

    def login(self, username: str, password: str, relogin: bool = True) -> Session:
        def token() -> str:
            answer: str = self.anonymous.login({"username": username, "password": password})["token"]
            return answer

        return Session(self.service, self.issuer, token(), token if relogin else None)

    def first_sign_in(self, username: str, initial: str, chosen: str) -> Session:
        """An issued account signs in with the password handed out and sets its own."""
        self.login(username, initial, relogin=False).change_password({"old_password": initial, "new_password": chosen})
        return self.login(username, chosen)

    def provision(self, username: str, role: str, **extra: Any) -> Session:
        answer = self.province.provision_account({"username": username, "role": role, "display_name": username, **extra})
        return self.first_sign_in(username, answer["initial_password"], f"{username}-Own-pass-2018")

    def open_2018(self, provider_id: str = "hbcloud-provider") -> None:
        self.province.open_campaign(b.campaign_2018())
        self.province.add_provider({"provider_id": provider_id, "name": "某云服务有限公司", "uscc": b.uscc("130100", 999)})

    def enterprise(self, username: str, serial: int = 1, region: str = "130102", county: str = "130102",
                   name: str = "石家庄某钢结构有限公司") -> Session:
        self.anonymous.register_enterprise({"username": username, "password": "Secret-pass-1", "uscc": b.uscc(region, serial),
                                            "name": name, "county_code": county})
        return self.login(username, "Secret-pass-1")


LOAD_INSTANT = datetime(2018, 12, 3, 10, 0, tzinfo=SHANGHAI)  # in the 2018 campaign's submission period


def prepared_applications(data_dir: Path, n: int, secret: str, prefix: str = "load", first_serial: int = 7000,
                          processes: int = 1) -> list[tuple[str, str]]:
    """n complete, unsubmitted applications of the 2018 campaign, made in-process on the store a
    service will open (with the harness's province account): (enterprise token, application id).
    With processes > 1 they are made by that many processes at once on the same SQLite file (the
    province and the campaign first, by this one): about 0.2 s of CPU each."""
    data_dir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{data_dir / 'application.sqlite'}"
    h = Harness(url, FixedClock(LOAD_INSTANT), secret=secret)
    h.open_2018()
    if processes <= 1:
        prepared = _prepare(h, prefix, first_serial, range(n))
        h.store.close()
        return prepared
    h.store.close()
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    shares = [range(k * n // processes, (k + 1) * n // processes) for k in range(processes)]
    with ProcessPoolExecutor(processes, mp_context=get_context("spawn")) as pool:
        made = pool.map(_prepare_share, [url] * processes, [secret] * processes, [prefix] * processes,
                        [first_serial] * processes, shares)
        return [p for share in made for p in share]  # in order


def _prepare_share(url: str, secret: str, prefix: str, first_serial: int, indices: range) -> list[tuple[str, str]]:
    h = Harness(url, FixedClock(LOAD_INSTANT), secret=secret, bootstrap=False)
    try:
        return _prepare(h, prefix, first_serial, indices)
    finally:
        h.store.close()


def _prepare(h: Harness, prefix: str, first_serial: int, indices: range) -> list[tuple[str, str]]:
    from tests.support.builders import fill_complete

    prepared = []
    for i in indices:
        ent = h.enterprise(f"{prefix}-{i:04d}", serial=first_serial + i)
        app_id = ent.start_application("2018")["application_id"]
        fill_complete(ent, app_id)
        prepared.append((str(ent.token), app_id))
    return prepared
