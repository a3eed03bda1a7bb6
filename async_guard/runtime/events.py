"""Guard events: their codes, where they happened, and how they are reported.

Every event is one record on the ``async_guard`` logger whose message starts
with the code, with ``record.async_guard`` holding the structured fields. In
``raise`` mode :func:`report` raises :class:`~async_guard.errors.AsyncGuardError`
at the point of detection. The same event (code and key) is logged once per
unit of work; in ``raise`` mode it is raised every time, because raising is
what keeps the offending query from running.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from async_guard import conf
from async_guard.errors import AsyncGuardError
from async_guard.runtime.catalog import TITLES as TITLES  # the codes' titles, kept importable here
from async_guard.runtime.frames import Where, allowed, user_frames

if TYPE_CHECKING:
    from async_guard.runtime.state import Unit

logger = logging.getLogger("async_guard")

SQL_LIMIT = 200

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
