"""Guard events: their codes, where they happened, and how they are reported.

Every event is one record on the ``async_guard`` logger whose message starts
with the code, with ``record.async_guard`` holding the structured fields. In
``raise`` mode :func:`report` raises :class:`~async_guard.errors.AsyncGuardError`
at the point of detection. The same event (code and key) is logged once per
unit of work; in ``raise`` mode it is raised every time, because raising is
what keeps the offending query from running.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import sys
import sysconfig
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

from async_guard import conf
from async_guard.errors import AsyncGuardError

if TYPE_CHECKING:
    from async_guard.runtime.state import Unit

logger = logging.getLogger("async_guard")

TITLES: dict[str, str] = {
    "AGR101": "query on a thread other than the unit of work's own thread",
    "AGR102": "event loop created during the unit of work was not closed",
    "AGR103": "the thread's current event loop is closed at the end of the unit of work",
    "AGR104": "sync unit of work started while an event loop runs in its thread",
    "AGR105": "a task or sync view returned a coroutine that never ran",
    "AGR106": "coroutine was never awaited",
    "AGR107": "database connection opened on another thread is still open",
    "AGR108": "async/sync error escaped the unit of work",
    "AGR109": "call can never complete: it waits for the thread that is waiting for it",
}

SQL_LIMIT = 200

# Frames in these directories are never "user code": the event's ``where`` is
# the first frame outside them (asgiref, Django, Celery, servers, stdlib, us).
_FRAMEWORK_PACKAGES = (
    "asgiref",
    "django",
    "celery",
    "kombu",
    "billiard",
    "vine",
    "gunicorn",
    "uvicorn",
    "_pytest",
    "pytest",
    "pluggy",
    "pytest_django",
    "async_guard",
)


def _framework_dirs() -> tuple[str, ...]:
    dirs = {sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"]}
    for name in _FRAMEWORK_PACKAGES:
        module = sys.modules.get(name)
        file = getattr(module, "__file__", None)
        if file:
            dirs.add(os.path.dirname(file))
    return tuple(sorted(d.rstrip(os.sep) + os.sep for d in dirs))


@functools.lru_cache(maxsize=4096)
def is_user_file(filename: str) -> bool:
    if filename.startswith("<"):
        return False
    return not filename.startswith(_framework_dirs_cached())


@functools.lru_cache(maxsize=1)
def _framework_dirs_cached() -> tuple[str, ...]:
    return _framework_dirs()


@dataclass(frozen=True)
class Where:
    """A frame in user code: what ``where`` reports and ``ALLOW`` matches."""

    file: str
    line: int
    function: str
    module: str = ""

    @classmethod
    def of(cls, frame: FrameType, line: int | None = None) -> Where:
        code = frame.f_code
        return cls(
            code.co_filename,
            frame.f_lineno if line is None else line,
            getattr(code, "co_qualname", code.co_name),
            str(frame.f_globals.get("__name__", "")),
        )

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "function": self.function}

    def __str__(self) -> str:
        return f"{self.file}:{self.line} in {self.function}"


def user_frames(frame: FrameType | None, limit: int = 6) -> tuple[Where, ...]:
    """The innermost ``limit`` frames of user code, walking outward from ``frame``."""
    found: list[Where] = []
    while frame is not None and len(found) < limit:
        if is_user_file(frame.f_code.co_filename):
            found.append(Where.of(frame))
        frame = frame.f_back
    return tuple(found)


def thread_frames(ident: int) -> tuple[Where, ...]:
    """User frames of another thread's stack (the owner blocked in ``asyncio.run``)."""
    return user_frames(sys._current_frames().get(ident))


def awaiting_frames(loop: object) -> tuple[Where, ...]:
    """User frames of the coroutines suspended on ``loop`` (another thread's), innermost first.

    A ``sync_to_async(obj.save)`` call runs ``save`` with no user frame on the
    worker's stack; the user's line is the ``await`` in the coroutine that
    waits for it on the loop's thread.
    """
    if not isinstance(loop, asyncio.AbstractEventLoop):
        return ()
    found: list[Where] = []
    for task in list(asyncio.all_tasks(loop)):
        chain: list[Where] = []
        awaitable: Any = task.get_coro()
        while awaitable is not None and len(chain) < 32:
            frame = getattr(awaitable, "cr_frame", None) or getattr(awaitable, "gi_frame", None)
            if frame is not None and is_user_file(frame.f_code.co_filename):
                chain.append(Where.of(frame))
            awaitable = getattr(awaitable, "cr_await", None) or getattr(
                awaitable, "gi_yieldfrom", None
            )
        found.extend(reversed(chain))
    return tuple(found[:6])


def allowed(frames: Iterable[Where], allow: tuple[str, ...]) -> bool:
    for where in frames:
        for entry in allow:
            site, sep, line = entry.rpartition(":")
            if sep and line.isdigit():
                if int(line) == where.line and _same_file(where.file, site):
                    return True
            elif entry in (f"{where.module}.{where.function}", where.function):
                return True
    return False


def _same_file(path: str, site: str) -> bool:
    path = path.replace(os.sep, "/")
    site = site.replace(os.sep, "/").lstrip("./")
    return path == site or path.endswith("/" + site)


# Listeners see every event that is not off or allowed, whatever the logger's
# level: the pytest plugin records events through this.
_listeners: list[Callable[[dict[str, Any]], None]] = []


def subscribe(listener: Callable[[dict[str, Any]], None]) -> None:
    _listeners.append(listener)


def unsubscribe(listener: Callable[[dict[str, Any]], None]) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


# Events with no unit (a warning after every unit ended) are deduplicated
# process-wide; bounded so a long-lived process cannot grow it without end.
_unitless_seen: set[tuple[str, object]] = set()
_UNITLESS_LIMIT = 10_000


def report(
    unit: Unit | None,
    code: str,
    message: str,
    *,
    key: object = None,
    frames: tuple[Where, ...] | None = None,
    db_alias: str | None = None,
    in_atomic_block: bool | None = None,
    sql: str | None = None,
    owner_thread: str | None = None,
    level: int = logging.WARNING,
    can_raise: bool = True,
) -> bool:
    """Log event ``code`` (once per unit and key) and raise it in ``raise`` mode.

    Returns whether the event counts (it is not off and not allowed), so that
    a caller passing ``can_raise=False`` can raise later, after its other checks.
    """
    action = conf.action(code)
    if action == "off":
        return False
    if frames is None:
        frames = user_frames(sys._getframe(1))
    if allowed(frames, conf.allow_list()):
        return False
    seen = unit.seen if unit is not None else _unitless_seen
    if (code, key) not in seen:
        if unit is None and len(seen) >= _UNITLESS_LIMIT:
            seen.clear()
        seen.add((code, key))
        data: dict[str, Any] = {
            "code": code,
            "unit": unit.label if unit is not None else None,
            "unit_kind": unit.kind if unit is not None else None,
            "thread": threading.current_thread().name,
            "owner_thread": owner_thread
            if owner_thread is not None
            else (unit.owner_name if unit is not None else None),
            "db_alias": db_alias,
            "in_atomic_block": in_atomic_block,
            "sql": sql[:SQL_LIMIT] if sql is not None else None,
            "where": frames[0].as_dict() if frames else None,
        }
        text = f"{code} {message}"
        if frames:
            text += f" [at {frames[0]}]"
        logger.log(level, "%s", text, extra={"async_guard": data})
        event = dict(data, level=logging.getLevelName(level), message=text)
        for listener in tuple(_listeners):
            listener(event)
    if action == "raise" and can_raise:
        raise AsyncGuardError(code, message)
    return True


def deferred(unit: Unit | None, code: str, message: str, **fields: Any) -> AsyncGuardError | None:
    """Report an end-of-unit event now; hand back the error to raise after the other checks."""
    if report(unit, code, message, can_raise=False, **fields) and conf.action(code) == "raise":
        return AsyncGuardError(code, message)
    return None


# -- the guard never breaks the application ---------------------------------

_failed_hooks: set[str] = set()
_failed_lock = threading.Lock()


def internal_error(hook: str, exc: BaseException) -> None:
    """Log a failure of the guard itself, once per process and hook; never raise."""
    with _failed_lock:
        if hook in _failed_hooks:
            return
        _failed_hooks.add(hook)
    with contextlib.suppress(Exception):  # a broken logging setup must not break the app
        logger.error(
            "async_guard internal error in %s: %r; the guard skips this check and "
            "the application goes on",
            hook,
            exc,
            exc_info=(type(exc), exc, exc.__traceback__),
        )


F = TypeVar("F", bound=Callable[..., Any])


def guarded(hook: str) -> Callable[[F], F]:
    """Run a hook body so that its own failure is logged once and swallowed.

    ``AsyncGuardError`` passes through: raising it is the hook's job in raise mode.
    """

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except AsyncGuardError:
                raise
            except Exception as exc:
                internal_error(hook, exc)
                return None

        return wrapper  # type: ignore[return-value]

    return decorate
