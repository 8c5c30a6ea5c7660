"""A token is only as good as the account behind it: deactivation, a password change or reset, and
a provider leaving the supply pool end the tokens already issued, in the application service and in
every service that replicates accounts from its events."""
from __future__ import annotations

import pytest

from shared.errors import NotAuthenticated
from shared.identity import Principal, Role
from tests.support.review_inprocess import Both


@pytest.fixture
def both(tmp_path, clock) -> Both:
    return Both(tmp_path, clock)


def refused(call, *args) -> str:
    with pytest.raises(NotAuthenticated) as e:
        call(*args)
    return str(e.value.details["reason"])


def test_deactivation_ends_tokens_already_issued_here_and_downstream(both):
    h = both.app
    county = h.provision("changan", "county", division_code="130102")
    stale = h.login("changan", "changan-Own-pass-2018", relogin=False)
    both.sync()
    both.review(stale).worklist({})  # works while the account is active
    h.province.deactivate_account({"username": "changan", "reason": "调离岗位"})
    both.sync()
    assert refused(stale.whoami) == "account_inactive"
    assert refused(both.review(stale).worklist, {}) == "account_inactive"
    h.province.reactivate_account({"username": "changan", "reason": "复岗"})
    both.sync()
    assert refused(county.whoami) == "session_ended"  # reactivation does not revive old tokens
    assert refused(both.review(county).worklist, {}) == "session_ended"
    fresh = h.login("changan", "changan-Own-pass-2018", relogin=False)
    both.sync()
    assert fresh.whoami()["role"] == "county" and both.review(fresh).worklist({})["total"] == 0


def test_a_password_change_ends_every_earlier_token(both):
    h = both.app
    h.enterprise("steelworks")
    second = h.login("steelworks", "Secret-pass-1", relogin=False)
    first_token = h.login("steelworks", "Secret-pass-1", relogin=False)
    first_token.change_password({"old_password": "Secret-pass-1", "new_password": "Another-pass-2"})
    assert refused(second.whoami) == "session_ended"
    assert refused(first_token.my_applications) == "session_ended"
    assert h.login("steelworks", "Another-pass-2", relogin=False).whoami()["role"] == "enterprise"


def test_a_reset_ends_tokens_and_hands_out_a_password_to_replace(both):
    h = both.app
    expert = h.provision("expert-1", "expert")
    answer = h.province.reset_password({"username": "expert-1", "reason": "遗忘密码"})
    assert refused(expert.whoami) == "session_ended"
    again = h.login("expert-1", answer["initial_password"], relogin=False)
    assert again.whoami()["must_change_password"] is True


def test_a_provider_that_left_the_pool_is_cut_off_everywhere(both):
    h = both.app
    provider = h.provision("cloudco", "provider", provider_id="hbcloud-provider")
    both.sync()
    provider.list_applications({})
    h.province.remove_provider({"provider_id": "hbcloud-provider", "reason": "抽查发现弄虚作假"})
    both.sync()
    assert refused(provider.list_applications, {}) == "provider_not_in_pool"
    assert refused(both.review(provider).worklist, {}) == "provider_not_in_pool"


def test_a_signed_token_of_an_account_that_does_not_exist_is_refused(both):
    forged_but_signed = both.app.issuer.issue(Principal("no-such-account", Role.PROVINCE))
    assert refused(both.app.as_token(forged_but_signed).list_accounts) == "unknown_account"
