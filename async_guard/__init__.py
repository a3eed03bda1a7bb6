"""django-async-guard: find and stop async/sync mixing bugs in Django and Celery.

The public names are imported lazily so that ``import async_guard`` (which
Django does for INSTALLED_APPS, and the ``async-guard`` command does before it
knows whether Django is configured) stays cheap and side-effect free.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["AsyncGuardError", "__version__", "watch"]

if TYPE_CHECKING:
    from async_guard.errors import AsyncGuardError
    from async_guard.runtime.unit import watch


def __getattr__(name: str) -> Any:
    if name == "AsyncGuardError":
        from async_guard.errors import AsyncGuardError

        return AsyncGuardError
    if name == "watch":
        from async_guard.runtime.unit import watch

        return watch
    raise AttributeError(f"module 'async_guard' has no attribute {name!r}")
