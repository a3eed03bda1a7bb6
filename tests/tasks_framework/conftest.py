from __future__ import annotations

# The runtime tests' fixtures: guard_events, raise_mode, and closing the
# connections the misbehaving programs leave open on asgiref's shared thread;
# and the integration tests' module-scoped database access and log folder.
from tests.runtime.conftest import (  # noqa: F401
    _close_stray_connections,
    guard_events,
    raise_mode,
)
from tests.runtime_integration.conftest import lab_logs, module_db  # noqa: F401
