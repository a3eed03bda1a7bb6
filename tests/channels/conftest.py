"""The Channels tests reuse the runtime integration tests' module-scoped fixtures."""

from tests.runtime_integration.conftest import lab_logs, module_db

__all__ = ["lab_logs", "module_db"]
