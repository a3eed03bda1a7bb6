"""A second import path for the bridge: ``from services.utils.async_utils import run_async``.

Existing service layers often import their bridge from a module of their own; this one
shows that such a module needs to be no more than a re-export of async_guard's.
"""

from async_guard.bridge import BridgeError, run_async, sync_twin

__all__ = ["BridgeError", "run_async", "sync_twin"]
