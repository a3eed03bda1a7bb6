"""Runtime guards: a unit of work in a context variable, and the hooks that watch it.

A request (the middleware), a Celery task (the signal handlers) or a
``watch()`` block starts a *unit of work*: a :class:`~async_guard.runtime.unit.Unit`
held in a :class:`contextvars.ContextVar`. asgiref copies context variables
into the thread that runs a ``sync_to_async`` call, so a query that lands on
the wrong thread still sees the unit it belongs to, and the database watch can
compare the two threads. Nothing here is connected at import time:
:mod:`async_guard.apps` installs the hooks in ``AppConfig.ready()``.
"""
