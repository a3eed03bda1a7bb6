"""A local fake of the tastytrade REST API for tests, demos and ``manage.py tastytrade_sandbox``."""

from trading.sandbox.server import Fault, SandboxBroker, SandboxServer

__all__ = ["Fault", "SandboxBroker", "SandboxServer"]
