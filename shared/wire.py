"""What a caller and a service must agree on over nameko's RPC, kept light so a client imports
nothing of the services: the context key that carries the token, and the typed errors registered
with nameko, so a failed call raises on the caller's side the same class the service raised."""
from __future__ import annotations

from nameko import exceptions as nameko_exceptions

from shared.errors import ALL_ERRORS

AUTH_HEADER = "auth_token"

for _cls in ALL_ERRORS:
    nameko_exceptions.registry[nameko_exceptions.get_module_path(_cls)] = _cls
