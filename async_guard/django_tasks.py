"""The ``django.tasks`` hook: every task run is a unit of work, whatever backend runs it.

Django's tasks framework (``django.tasks``, Django 6.0+; the ``django-tasks``
backport before that) makes every backend send two signals from the thread
that runs the task: ``task_started`` just before it calls the task function
and ``task_finished`` after the function returned or raised. When it raised,
``task_finished`` is sent from inside the backend's ``except`` block, so
``sys.exc_info()`` is the task's exception. The immediate backend runs the
task in the thread that called ``enqueue()``; a worker (``manage.py
db_worker`` of a database backend, or any other) in its own process. Hooking
the signals, not a backend, guards them all.

``task_started`` starts a sync unit owned by that thread, ``task_finished``
ends it: the checks are the Celery hook's (AGR101 to AGR109). An ``async
def`` task is not a mistake here: ``Task.call`` runs it with
``async_to_sync`` on the unit's own thread when the backend supports async
tasks, and a backend that does not refuses it at ``enqueue()``. A plain
``def`` that *returns* a coroutine is one (AGR105): the backend fails to store
the coroutine as the result and it never runs.

Django does not catch what a signal receiver raises, so in ``raise`` mode:
an event inside the task (AGR101, AGR109) fails the task like its own
exception would; AGR104, raised at ``task_started``, comes out of
``enqueue()`` on the immediate backend and fails the task in a worker; an
end-of-task event (AGR102, AGR103, AGR107) of a task that succeeded is raised
from ``task_finished``: the immediate backend raises it from ``enqueue()``
after the task ran, a worker records it as the task's failure and goes on. A
task that already failed keeps its own exception: its end-of-task events are
only logged, since raising from a backend's failure path could stop a worker.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import sys
import threading
from types import ModuleType
from typing import Any

from async_guard.errors import AsyncGuardError
from async_guard.runtime import events
from async_guard.runtime.frames import Where
from async_guard.runtime.unit import Entered, begin, end

# Django's own framework, and the backport that its users add to INSTALLED_APPS.
FRAMEWORK = "django.tasks"
BACKPORT = "django_tasks"

_running: dict[str, list[Entered]] = {}
_lock = threading.Lock()


def signal_modules() -> list[ModuleType]:
    """The ``signals`` modules of the tasks frameworks this project has."""
    from django.apps import apps

    found = []
    if importlib.util.find_spec(FRAMEWORK) is not None:
        found.append(importlib.import_module(f"{FRAMEWORK}.signals"))
    if apps.is_installed(BACKPORT):
        found.append(importlib.import_module(f"{BACKPORT}.signals"))
    return found


def connect() -> list[str]:
    """Connect to every tasks framework present (idempotent); the names of those connected."""
    modules = signal_modules()
    for module in modules:
        uid = f"async_guard.{module.__name__}"
        module.task_started.connect(on_task_started, dispatch_uid=f"{uid}.started", weak=False)
        module.task_finished.connect(on_task_finished, dispatch_uid=f"{uid}.finished", weak=False)
    return [module.__name__.rpartition(".")[0] for module in modules]


def disconnect() -> None:
    for module in signal_modules():
        uid = f"async_guard.{module.__name__}"
        module.task_started.disconnect(dispatch_uid=f"{uid}.started")
        module.task_finished.disconnect(dispatch_uid=f"{uid}.finished")


def task_label(task_result: Any) -> str:
    task = getattr(task_result, "task", None)
    path = getattr(task, "module_path", None) or repr(task)
    return f"{path}[{getattr(task_result, 'id', '?')}]"


@events.guarded("django.tasks task_started")
def on_task_started(sender: Any = None, task_result: Any = None, **kwargs: Any) -> None:
    entered = begin("task", task_label(task_result), is_async=False)
    if entered is None:
        return
    with _lock:
        _running.setdefault(str(getattr(task_result, "id", None)), []).append(entered)


@events.guarded("django.tasks task_finished")
def on_task_finished(sender: Any = None, task_result: Any = None, **kwargs: Any) -> None:
    key = str(getattr(task_result, "id", None))
    with _lock:
        stack = _running.get(key)
        entered = stack.pop() if stack else None
        if stack is not None and not stack:
            del _running[key]
    if entered is None:
        # Never started here (the guard was off), or already ended: a worker
        # that records an end-of-task event as the failure sends it again.
        return
    if getattr(task_result, "status", None) != "FAILED":
        end(entered)
        return
    exc = sys.exc_info()[1]
    if exc is not None:
        _report_returned_coroutine(entered[0], task_result, exc)
        end(entered, exc)
        return
    with contextlib.suppress(AsyncGuardError):  # logged already; the task failed on its own
        end(entered)


def _report_returned_coroutine(unit: Any, task_result: Any, exc: BaseException) -> None:
    """AGR105: the backend failed on a coroutine that never started, the task's return value."""
    func = getattr(getattr(task_result, "task", None), "func", None)
    code = getattr(func, "__code__", None)
    if not isinstance(exc, TypeError) or code is None or not _failed_on_coroutine(exc, code):
        return
    events.report(
        unit,
        "AGR105",
        f"task {task_label(task_result)!r} returned a coroutine that never ran: the backend "
        "cannot store it as the result and nothing awaits it. Make the task an async def "
        "(django.tasks runs it with async_to_sync on backends that support async tasks), or "
        "call the coroutine with async_to_sync (async_guard.bridge.run_async) and return its "
        "result",
        key="task",
        frames=(Where(code.co_filename, code.co_firstlineno, code.co_name),),
        can_raise=False,
    )


def _failed_on_coroutine(exc: BaseException, task_code: Any) -> bool:
    """Whether ``exc`` was raised after the task function returned, on a coroutine never started.

    The task function's frame is not in the traceback (it had returned), and
    the frame that raised (the backend's JSON encoding) holds a coroutine that
    never ran: what the function returned. Only that innermost frame's locals
    are read: reading the backend's frame, which holds the exception, would
    tie the exception and its frames into a cycle that only the collector frees.
    """
    tb = exc.__traceback__
    if tb is None:
        return False
    while True:
        if tb.tb_frame.f_code is task_code:
            return False
        if tb.tb_next is None:
            break
        tb = tb.tb_next
    return any(
        inspect.iscoroutine(value) and inspect.getcoroutinestate(value) == inspect.CORO_CREATED
        for value in tb.tb_frame.f_locals.values()
    )
