"""The seeds' import path for the bridge: ``from services.utils.async_utils import run_async``."""

from async_guard.bridge import BridgeError, run_async, sync_twin

__all__ = ["BridgeError", "run_async", "sync_twin"]
