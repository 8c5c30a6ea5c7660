"""Accounts: self-registration of enterprises, province-issued accounts, sign-in with throttling,
passwords, deactivation."""
from __future__ import annotations

import secrets
import string
from typing import Any
from uuid import UUID

from sqlalchemy.orm import Session

from shared.definition import Change, Context
from shared.errors import Conflict, InvalidInput, InvalidState, NotAuthenticated
from shared.identity import SYSTEM, Principal, Role, hash_password, password_matches

from services.application import projections as rm
from services.application.domain import Account, Enterprise, account_id_for, enterprise_id_for
from services.application.store import ApplicationStore

Ctx = Context[ApplicationStore]


def generated_password() -> str:
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(14))
        if any(c.isdigit() for c in candidate) and any(c.isalpha() for c in candidate):
            return candidate


def principal_of(account: Account) -> Principal:
    return Principal(account_id=str(account.id), role=Role(account.role), division_code=account.division_code,
                     provider_id=account.provider_id, enterprise_id=account.enterprise_id,
                     must_change_password=account.must_change_password, session=account.session)


def describe_account(account: Account) -> dict[str, Any]:
    return {"account_id": str(account.id), "username": account.username, "role": account.role,
            "display_name": account.display_name, "division_code": account.division_code,
            "provider_id": account.provider_id, "enterprise_id": account.enterprise_id, "active": account.active,
            "must_change_password": account.must_change_password}


def register_enterprise(ctx: Ctx, data: dict[str, Any]) -> Change:
    store = ctx.store
    account_id = account_id_for(data["username"])
    if store.find(Account, account_id) is not None:
        raise Conflict({"username": "taken"}, zh="用户名已被使用", en="The user name is taken")
    if store.find(Enterprise, enterprise_id_for(data["uscc"])) is not None:
        raise Conflict({"uscc": "registered"}, zh="该统一社会信用代码已注册", en="An account for this credit code exists")
    enterprise = Enterprise.register(ctx.now, {"id": str(account_id), "role": "enterprise"}, data["uscc"], data["name"],
                                     data["county_code"], account_id)
    account = Account.register(ctx.now, data["username"], data["name"], hash_password(data["password"]), enterprise.id)
    def project(session: Session) -> None:
        rm.project_account(session, account)
        rm.project_enterprise(session, enterprise)  # the directory the province searches

    return Change([enterprise, account], project, {"account_id": str(account.id), "enterprise_id": str(enterprise.id)})


def login(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    store, now = ctx.store, ctx.now
    username = data["username"].strip().lower()
    with store.reading() as session:
        failures = rm.failed_logins(session, username)
    locked_until = rm.locked_until(failures, now)
    if locked_until is not None:
        raise NotAuthenticated({"reason": "too_many_attempts", "retry_after": locked_until},
                               zh="登录失败次数过多，请稍后再试", en="Too many failed sign-ins; try again later")
    account = store.find(Account, account_id_for(username))
    # The same answer for an unknown user and a wrong password: nothing to learn from it. Failures
    # are counted for unknown names too, so the lock-out tells nothing either.
    matches = password_matches(account.password_hash if account else None, data["password"])  # equal work either way
    if account is None or not matches or not account.active:
        with store.transaction() as session:
            rm.count_failed_login(session, username, now)
        raise NotAuthenticated({"reason": "bad_credentials"}, zh="用户名或密码错误", en="Wrong user name or password")
    if failures is not None:
        with store.transaction() as session:
            rm.clear_failed_logins(session, username)
    return {"token": store.issuer.issue(principal_of(account)), "account": describe_account(account)}


def whoami(ctx: Ctx) -> dict[str, Any]:
    me = ctx.me
    return {"account_id": me.account_id, "role": me.role.value, "division_code": me.division_code,
            "provider_id": me.provider_id, "enterprise_id": me.enterprise_id,
            "must_change_password": me.must_change_password}


def change_password(ctx: Ctx, data: dict[str, Any]) -> Change:
    account = ctx.store.get(Account, UUID(ctx.me.account_id))
    if not password_matches(account.password_hash, data["old_password"]):
        raise NotAuthenticated({"reason": "bad_credentials"}, zh="原密码错误", en="The current password is wrong")
    if password_matches(account.password_hash, data["new_password"]):
        raise InvalidInput.fields({"new_password": ["must differ from the current password / 新密码不能与原密码相同"]})
    account.change_password(ctx.now, ctx.actor(), hash_password(data["new_password"]))
    return Change([account], lambda s: rm.project_account(s, account))


def reset_password(ctx: Ctx, data: dict[str, Any]) -> Change:
    """The province hands out a new initial password: every token of the account ends, and the
    holder must replace the password at the next sign-in."""
    account = ctx.store.get(Account, account_id_for(data["username"]))
    password = generated_password()
    account.reset_password(ctx.now, ctx.actor(), hash_password(password), data["reason"])
    return Change([account], lambda s: rm.project_account(s, account),
                  {"account_id": str(account.id), "username": account.username, "initial_password": password})


def provision_account(ctx: Ctx, data: dict[str, Any]) -> Change:
    if ctx.store.find(Account, account_id_for(data["username"])) is not None:
        raise Conflict({"username": "taken"}, zh="用户名已被使用", en="The user name is taken")
    password = data.get("password") or generated_password()
    account = Account.provision(ctx.now, ctx.actor(), data["username"], data["role"], data["display_name"],
                                hash_password(password), data.get("division_code"), data.get("provider_id"))
    # The initial password is answered once, to the province, and stored only as a hash.
    return Change([account], lambda s: rm.project_account(s, account),
                  {"account_id": str(account.id), "username": account.username, "initial_password": password})


def _set_active(ctx: Ctx, data: dict[str, Any], active: bool) -> Change:
    account = ctx.store.get(Account, account_id_for(data["username"]))
    if str(account.id) == ctx.me.account_id:
        raise InvalidState({"account": "cannot change your own account"}, zh="不能停用自己的账号",
                           en="You cannot deactivate your own account")
    change = account.reactivate if active else account.deactivate
    change(ctx.now, ctx.actor(), data["reason"])
    return Change([account], lambda s: rm.project_account(s, account))


def deactivate_account(ctx: Ctx, data: dict[str, Any]) -> Change:
    return _set_active(ctx, data, active=False)


def reactivate_account(ctx: Ctx, data: dict[str, Any]) -> Change:
    return _set_active(ctx, data, active=True)


def bootstrap_province_account(store: ApplicationStore, username: str, password: str, display_name: str) -> bool:
    """The first province account, made by the operator's start-up command (not an RPC). Does
    nothing if the account exists."""
    if store.find(Account, account_id_for(username)) is not None:
        return False
    account = Account.provision(store.clock.now(), SYSTEM.actor(), username, Role.PROVINCE.value, display_name,
                                hash_password(password), None, None)
    store.record(account, project=lambda s, _r: rm.project_account(s, account))
    return True
