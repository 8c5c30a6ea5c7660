"""The application service's entrypoints called in-process (no broker): the real validation,
authorization and error mapping of service.py over a real SQLite store."""
from __future__ import annotations

from typing import Any, Callable

from nameko.testing.services import worker_factory

from services.application.app import ApplicationService
from services.application.service import ApplicationRpc
from shared.clock import FixedClock
from shared.errors import NotAuthenticated
from shared.identity import TokenIssuer
from shared.rpc import Caller

from tests.support import builders as b

PROVINCE = ("province-admin", "Province-admin-2018")
PROVINCE_INITIAL = "Initial-province-2018"  # what the operator's bootstrap sets; changed at first sign-in


class Session:
    """Calls made with one token (or none)."""

    def __init__(self, service: ApplicationRpc, issuer: TokenIssuer, token: str | None,
                 relogin: Callable[[], str] | None = None) -> None:
        self._service, self._issuer, self.token, self._relogin = service, issuer, token, relogin

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._service, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            if self._relogin is not None and self.token is not None:
                try:
                    self._issuer.verify(self.token)
                except NotAuthenticated:
                    self.token = self._relogin()  # the portal signs in again after the clock moved on
            self._service.caller = Caller(self.token, self._issuer)
            return method(*args, **kwargs)

        return call


class Harness:
    def __init__(self, url: str, clock: FixedClock, secret: str = "unit-test-secret-at-least-32-bytes-long") -> None:
        self.clock = clock
        self.issuer = TokenIssuer(secret, clock)
        self.store = ApplicationService(url, clock, self.issuer)
        self.service = worker_factory(ApplicationRpc, store=self.store)
        self.anonymous = Session(self.service, self.issuer, None)
        self.store.bootstrap_province_account(PROVINCE[0], PROVINCE_INITIAL, "河北省工业和信息化厅")
        self.province = self.first_sign_in(PROVINCE[0], PROVINCE_INITIAL, PROVINCE[1])

    def login(self, username: str, password: str, relogin: bool = True) -> Session:
        def token() -> str:
            return self.anonymous.login({"username": username, "password": password})["token"]

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
