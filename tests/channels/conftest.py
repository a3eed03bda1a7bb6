"""The Channels tests reuse the runtime tests' fixtures."""

from tests.runtime.conftest import _close_stray_connections, guard_events
from tests.runtime_integration.conftest import lab_logs, module_db

__all__ = ["_close_stray_connections", "guard_events", "lab_logs", "module_db"]
