"""Frames of user code: where an event happened, and what ``ALLOW`` matches.

Kept apart from the event reporting so that the unit of work (which records
where its loops and connections were made) can name :class:`Where` without
importing the reporter.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sys
import sysconfig
from collections.abc import Iterable
from dataclasses import dataclass
from types import FrameType
from typing import Any

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
    "channels",
    "daphne",
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
