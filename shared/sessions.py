"""A token is only as good as the account behind it. Every service keeps what it needs to know of
accounts (their session and whether active) and of providers (whether in the supply pool): the
service that owns accounts writes it with its own changes; every other service replicates it from
that service's public account and pool events. The pipeline checks every token against it."""
from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.bookkeeping import Bookkeeping
from shared.contract import Envelope
from shared.definition import Change, EventHandler
from shared.errors import NotAuthenticated
from shared.identity import Principal, Role
from shared.readmodels import upsert
from shared.store import ServiceStore


def session_row(account_id: str, account_session: int, active: bool) -> dict[str, Any]:
    """An account's row in the sessions table."""
    return {"account_id": account_id, "session": account_session, "active": int(active)}


def record_account(session: Session, books: Bookkeeping, account_id: str, account_session: int, active: bool) -> None:
    upsert(session, books.sessions, "account_id", session_row(account_id, account_session, active))


def record_provider(session: Session, books: Bookkeeping, provider_id: str, in_pool: bool) -> None:
    upsert(session, books.providers, "provider_id", {"provider_id": provider_id, "in_pool": int(in_pool)})


def check(store: ServiceStore, principal: Principal, owns_accounts: bool) -> None:
    """Refuse a validly signed token whose account has since been deactivated, changed or reset its
    password, or (for a provider) left the supply pool. An account a replicating service has not
    heard of yet is accepted (its events are on their way); the owning service knows every account."""
    if principal.role is Role.SERVICE:
        return  # the system itself: signed with the installation's secret, no account behind it
    books = store.books
    with store.reading() as session:
        account = session.execute(select(books.sessions.c.session, books.sessions.c.active)
                                  .where(books.sessions.c.account_id == principal.account_id)).first()
        standing = None
        if principal.role is Role.PROVIDER and principal.provider_id:
            standing = session.execute(select(books.providers.c.in_pool)
                                       .where(books.providers.c.provider_id == principal.provider_id)).scalar()
    if account is None:
        if owns_accounts:
            raise NotAuthenticated({"reason": "unknown_account"})
    elif not account.active:
        raise NotAuthenticated({"reason": "account_inactive"}, zh="账号已停用", en="The account is deactivated")
    elif account.session != principal.session:
        raise NotAuthenticated({"reason": "session_ended"}, zh="登录已失效，请重新登录",
                               en="The session has ended (password changed or reset); sign in again")
    if standing == 0:
        raise NotAuthenticated({"reason": "provider_not_in_pool"}, zh="服务商已不在供给资源池中",
                               en="The provider has left the supply pool")


# ------------------------------------------------------------------ replication from the owner's events
def _known(session: Session, books: Bookkeeping, account_id: str) -> Any:
    return session.execute(select(books.sessions).where(books.sessions.c.account_id == account_id)).first()


def _account_event(new_session: bool, active: bool | None) -> EventHandler:
    def handle(store: ServiceStore, envelope: Envelope) -> Change:
        account_id = envelope["aggregate_id"]

        def project(session: Session) -> None:
            row = _known(session, store.books, account_id)
            current, was_active = (row.session, bool(row.active)) if row else (0, True)
            record_account(session, store.books, account_id, current + (1 if new_session else 0),
                           was_active if active is None else active)

        return Change(project=project)

    return handle


def _provider_event(in_pool: bool) -> EventHandler:
    def handle(store: ServiceStore, envelope: Envelope) -> Change:
        provider_id = str(envelope["data"]["provider_id"])
        return Change(project=lambda session: record_provider(session, store.books, provider_id, in_pool))

    return handle


def replication_handlers(owner: str) -> Mapping[str, EventHandler]:
    """What a service adds to its handler table for the service that owns accounts. The session
    counts the owner's session-ending events in log order, exactly as the owner's aggregate does."""
    return {
        f"{owner}.account_registered": _account_event(new_session=False, active=True),
        f"{owner}.account_provisioned": _account_event(new_session=False, active=True),
        f"{owner}.account_password_changed": _account_event(new_session=True, active=None),
        f"{owner}.account_password_reset": _account_event(new_session=True, active=None),
        f"{owner}.account_deactivated": _account_event(new_session=True, active=False),
        f"{owner}.account_reactivated": _account_event(new_session=False, active=True),
        f"{owner}.provider_added_to_pool": _provider_event(True),
        f"{owner}.provider_removed_from_pool": _provider_event(False),
    }
