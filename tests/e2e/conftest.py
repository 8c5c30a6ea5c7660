"""Services as processes on the real broker: fixtures from tests/support/system.py."""
from tests.support.system import amqp_uri, system  # noqa: F401
