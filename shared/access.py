"""Jurisdiction, written once: which applications each role may see (docs/architecture.md: a county bureau
acts only on its county's applications, a provider only on those naming it, an enterprise only on
its own, an expert only on those assigned to it). Every service describes what it holds about an application as a `Subject` and asks
`may_see`; list queries ask `scope` for the same rule as column filters."""
from __future__ import annotations

from dataclasses import dataclass

from shared.errors import Forbidden
from shared.identity import SEES_ALL_APPLICATIONS, Principal, Role


@dataclass(frozen=True)
class Subject:
    """What jurisdiction depends on, of one application (or a record about one)."""

    enterprise_id: str | None
    county_code: str
    unit_code: str
    provider_ids: frozenset[str]
    submitted: bool  # reviewers see an application once it was submitted, never a draft
    evaluator_ids: frozenset[str] = frozenset()  # the experts the scoring service assigned to it


def may_see(principal: Principal, subject: Subject) -> bool:
    if principal.role in SEES_ALL_APPLICATIONS:
        return True
    if principal.role is Role.ENTERPRISE:
        return principal.enterprise_id is not None and subject.enterprise_id == principal.enterprise_id
    if not subject.submitted:
        return False
    if principal.role is Role.COUNTY:
        return subject.county_code == principal.division_code
    if principal.role is Role.CITY:
        return subject.unit_code == principal.division_code
    if principal.role is Role.PROVIDER:
        return principal.provider_id is not None and principal.provider_id in subject.provider_ids
    if principal.role is Role.EXPERT:
        return principal.account_id in subject.evaluator_ids
    return False


@dataclass(frozen=True)
class Scope:
    """The same rule as `may_see`, as equality filters on a list's columns. `everything` means no
    filter; otherwise `column` must equal `value`, and drafts are excluded unless `drafts`."""

    everything: bool = False
    column: str = ""
    value: str | None = None
    drafts: bool = False


SCOPE_COLUMN = {Role.COUNTY: "county_code", Role.CITY: "unit_code", Role.PROVIDER: "provider_id"}


def scope(principal: Principal) -> Scope:
    """Raises Forbidden for a role that sees no application at all."""
    if principal.role in SEES_ALL_APPLICATIONS:
        return Scope(everything=True)
    if principal.role is Role.ENTERPRISE:
        return Scope(column="enterprise_id", value=principal.enterprise_id or "", drafts=True)
    if principal.role in SCOPE_COLUMN:
        value = principal.provider_id if principal.role is Role.PROVIDER else principal.division_code
        return Scope(column=SCOPE_COLUMN[principal.role], value=value or "")
    raise Forbidden()
