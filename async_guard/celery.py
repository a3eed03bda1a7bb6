"""The Celery hook: every task is a unit of work.

Connected from ``AppConfig.ready()`` when Celery is importable; ``install(app)``
does the same explicitly. A task is a sync unit on the thread that runs it
(prefork and solo: the child's main thread; threads: each pool thread).

In a worker, ``worker_init`` wraps every task's ``run`` so that it starts and
ends its own unit (:func:`name_task`): an exception is diagnosed there, and in
``raise`` mode an end-of-task event fails the task. Once the worker is up
(:func:`on_worker_started`), the per-task signal handlers are dropped. Elsewhere (``.apply()``
and eager mode in a process that started no worker), ``task_prerun`` starts
the unit, ``task_failure`` diagnoses the exception and ``task_postrun`` ends
it; Celery catches exceptions raised in signal handlers and logs them, so
there an end-of-task event in ``raise`` mode is a logged error, not a failed
task.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import threading
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from celery import signals

from async_guard.errors import AsyncGuardError
from async_guard.runtime import coroutines, events
from async_guard.runtime.frames import Where
from async_guard.runtime.unit import Entered, begin, end, escaped

_running: dict[str, list[Entered]] = {}
_lock = threading.Lock()


def install(app: object = None) -> None:
    """Connect the task signal handlers (idempotent; Celery signals are process-wide)."""
    connect()


def connect() -> None:
    signals.worker_init.connect(on_worker_init, dispatch_uid="async_guard.worker_init", weak=False)
    for signal in (signals.worker_process_init, signals.worker_ready):
        signal.connect(on_worker_started, dispatch_uid="async_guard.worker_started", weak=False)
    signals.task_prerun.connect(on_task_prerun, dispatch_uid="async_guard.prerun", weak=False)
    signals.task_failure.connect(on_task_failure, dispatch_uid="async_guard.failure", weak=False)
    signals.task_postrun.connect(on_task_postrun, dispatch_uid="async_guard.postrun", weak=False)


def disconnect() -> None:
    signals.worker_init.disconnect(dispatch_uid="async_guard.worker_init")
    signals.worker_process_init.disconnect(dispatch_uid="async_guard.worker_started")
    signals.worker_ready.disconnect(dispatch_uid="async_guard.worker_started")
    _disconnect_per_task()


@events.guarded("celery worker_init")
def on_worker_init(sender: Any = None, **kwargs: Any) -> None:
    """Make every task of the worker a unit by itself, before the worker builds its tracers."""
    app = getattr(sender, "app", None)
    if app is None:
        return
    for task in list(app.tasks.values()):
        name_task(task)
    if app not in _worker_apps:
        _worker_apps.append(app)


# The apps whose worker started in this process.
_worker_apps: list[Any] = []


@events.guarded("celery worker start")
def on_worker_started(sender: Any = None, **kwargs: Any) -> None:
    """Once the worker's tracers are built: drop the per-task handlers if every task is a unit.

    Celery calls every receiver of ``task_prerun`` and ``task_postrun`` with a
    fresh dict of keyword arguments, at every task, which cost a worker more
    than the unit itself; a task whose ``run`` starts its own unit needs
    neither. Sent in each process that runs tasks (``worker_process_init`` in
    a prefork child and the solo pool, ``worker_ready`` in the main process),
    after the tracers are built: a task registered since then, or one that
    resisted wrapping, keeps the handlers for all.
    """
    tasks = [task for app in _worker_apps for task in list(app.tasks.values())]
    if tasks and all(getattr(getattr(task, "run", None), NAMED_MARK, False) for task in tasks):
        _disconnect_per_task()


def _disconnect_per_task() -> None:
    signals.task_prerun.disconnect(dispatch_uid="async_guard.prerun")
    signals.task_failure.disconnect(dispatch_uid="async_guard.failure")
    signals.task_postrun.disconnect(dispatch_uid="async_guard.postrun")


def name_task(task: Any) -> bool:
    """Make ``task.run`` start and end the task's unit itself; whether the task has one now.

    The body runs under the unit's trampoline frame (AGR106 attribution):
    Celery calls the task function straight from its tracer, and without a
    frame of the guard in between, a coroutine the task leaves unawaited can
    only be traced back to its task through the origin's length, which a
    shallow stack (the threads pool) cuts short. The unit covers the task's
    body: in raise mode an end-of-task event (a loop left open) fails the
    task with ``AsyncGuardError``, as a query refused during it does.
    """
    run = getattr(task, "run", None)
    if run is None:
        return False
    if getattr(run, NAMED_MARK, False):
        return True
    is_coroutine = coroutine_task(task)
    name = getattr(task, "name", None) or repr(task)

    @functools.wraps(run)
    def named_run(*args: Any, **kwargs: Any) -> Any:
        try:
            entered = begin("task", f"{name}[{_task_id(task)}]", False, True)
        except AsyncGuardError:
            raise
        except Exception as exc:
            events.internal_error("celery task start", exc)
            entered = None
        if entered is None:
            return run(*args, **kwargs)
        unit = entered[0]
        try:
            result = coroutines.TRAMPOLINES[unit.slot or 0](run, *args, **kwargs)
        except BaseException as exc:
            end(entered, exc)
            raise
        # An async def, or a plain def that returns a coroutine: it never runs.
        if is_coroutine or (result is not None and asyncio.iscoroutine(result)):
            _report_returned_coroutine(unit, task)
        end(entered)
        return result

    setattr(named_run, NAMED_MARK, True)
    if is_coroutine:
        # Still an async def to anyone who asks (the AGR105 check and W005 included).
        markcoroutinefunction(named_run)
    task.run = named_run
    return True


@events.guarded("celery task end")
def _report_returned_coroutine(unit: Any, task: Any) -> None:
    _report_coroutine_task(unit, task)


def _task_id(task: Any) -> Any:
    """The running task's id, from Celery's request of the call (``None`` for a direct call)."""
    try:
        return task.request.id
    except Exception:
        return None


NAMED_MARK = "_async_guard_named"


def task_function(task: Any) -> Any:
    run = getattr(task, "run", None)
    return inspect.unwrap(run) if callable(run) else run


def coroutine_task(task: Any) -> bool:
    """Whether the task's function is an ``async def``: asked at every task start, so remembered."""
    run = getattr(task, "run", None)
    try:
        return _coroutine_runs[run]
    except (KeyError, TypeError):  # not seen yet, or unhashable
        pass
    func = inspect.unwrap(run) if callable(run) else run
    result = callable(func) and iscoroutinefunction(func)
    if len(_coroutine_runs) < _RUNS_LIMIT:
        with contextlib.suppress(TypeError):
            _coroutine_runs[run] = result
    return result


# By the task's ``run``: a worker has a fixed set of tasks, so this stays small.
_coroutine_runs: dict[Any, bool] = {}
_RUNS_LIMIT = 4096


def _report_coroutine_task(unit: Any, task: Any) -> None:
    func = task_function(task)
    code = getattr(func, "__code__", None)
    name = getattr(code, "co_qualname", getattr(code, "co_name", ""))  # Python 3.10: co_name only
    frames = (Where(code.co_filename, code.co_firstlineno, name),) if code is not None else ()
    events.report(
        unit,
        "AGR105",
        f"task {getattr(task, 'name', task)!r} is an async def: Celery calls it and gets a "
        "coroutine that never runs (with a result backend it fails with EncodeError). Make the "
        "task a plain def that calls the coroutine with async_to_sync "
        "(async_guard.bridge.run_async)",
        key="task",
        frames=frames,
        can_raise=False,
    )


def on_task_prerun(
    sender: Any = None, task_id: str | None = None, task: Any = None, **kwargs: Any
) -> None:
    # Not @events.guarded, as the other hooks are: this and task_postrun run
    # for every task, and the wrapper's repacking of Celery's keyword
    # arguments is a measurable part of their cost. The same guard, inline.
    try:
        task = task if task is not None else sender
        if getattr(getattr(task, "run", None), NAMED_MARK, False):
            return  # its run() is the unit
        name = getattr(task, "name", None) or repr(task)
        entered = begin("task", f"{name}[{task_id}]", False)
        if entered is None:
            return
        with _lock:
            _running.setdefault(str(task_id), []).append(entered)
        # Detected here, from the function itself: with a result backend, storing
        # the returned coroutine fails with EncodeError before task_postrun.
        if coroutine_task(task):
            _report_coroutine_task(entered[0], task)
    except AsyncGuardError:
        raise
    except Exception as exc:
        events.internal_error("celery task_prerun", exc)


def _current(task_id: str | None) -> Entered | None:
    with _lock:
        stack = _running.get(str(task_id))
        return stack[-1] if stack else None


@events.guarded("celery task_failure")
def on_task_failure(
    sender: Any = None,
    task_id: str | None = None,
    exception: BaseException | None = None,
    **kwargs: Any,
) -> None:
    entered = _current(task_id)
    if entered is not None and exception is not None:
        escaped(entered[0], exception)


def on_task_postrun(
    sender: Any = None,
    task_id: str | None = None,
    task: Any = None,
    retval: Any = None,
    **kwargs: Any,
) -> None:
    try:  # @events.guarded, inline: see on_task_prerun
        with _lock:
            stack = _running.get(str(task_id))
            entered = stack.pop() if stack else None
            if stack is not None and not stack:
                del _running[str(task_id)]
        if entered is None:
            return
        # Most tasks return None: spare them asyncio.iscoroutine's ABC check.
        if retval is not None and asyncio.iscoroutine(retval):
            _report_coroutine_task(entered[0], task if task is not None else sender)
        end(entered)
    except AsyncGuardError:
        raise
    except Exception as exc:
        events.internal_error("celery task_postrun", exc)
