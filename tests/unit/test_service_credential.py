"""A service's own credential is renewed by the injected clock before it expires."""
from __future__ import annotations

from shared.identity import ServiceCredential, TokenIssuer

SECRET = "unit-test-secret-at-least-32-bytes-long"


def test_the_service_credential_is_renewed_before_it_expires(clock):
    issuer = TokenIssuer(SECRET, clock)
    credential = ServiceCredential(issuer)
    first = credential.token()
    clock.advance(hours=1)
    assert credential.token() == first  # still young: kept
    clock.advance(hours=8)  # the first token has expired by now
    renewed = credential.token()
    assert renewed != first and issuer.verify(renewed).role.value == "service"
