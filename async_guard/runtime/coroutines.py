"""AGR106: "coroutine ... was never awaited", attributed by where the coroutine was made.

CPython reports an unawaited coroutine when it is garbage-collected, which
can be long after, in another unit of work, or in none. So the event is
attributed by the coroutine's origin: sync units turn on
``sys.set_coroutine_origin_tracking_depth`` for their own thread while they
run, and async units for their sync thread while it runs their work (a sync
view under ASGI); coroutines are rare in sync code, so the cost stays off the
hot path of async code. CPython then records the creating frames in
``cr_origin``, and calls ``warnings._warn_unawaited_coroutine(coro)`` for
every unawaited coroutine, before any warning filter applies; the hook reads
the origin there.

Which unit made it, whichever thread collects the coroutine and however
much later: every tracking unit takes a slot in a process-wide ring, and the
origin carries the slot in one of two ways.

* Requests (sync path), ``@watch()``-ed functions, Celery tasks (named when
  the worker starts, see :func:`async_guard.celery.name_task`) and an async
  unit's sync work run their body through a *trampoline*, one of ``NAMED`` tiny functions
  named ``_async_guard_unit_<slot>``; with a deep enough tracking depth the
  trampoline's frame is in ``cr_origin``, and its name is the slot.
* Every unit's tracking depth is also ``base + slot % RING``, so the length
  of ``cr_origin`` names the slot modulo ``RING``: the only channel for units
  with no frame of ours under their body (``with watch()``, a task run outside
  a worker) and a fallback for the others.

Limits: a coroutine created so high up the stack that ``cr_origin`` reaches
the thread's first frame cannot be decoded by length, and one collected after
``RING`` (length) or ``NAMED`` (trampoline) more units goes to the unit that
took its slot since. Undecodable coroutines go to the unit running when they
are collected.
"""

from __future__ import annotations

import itertools
import linecache
import sys
import threading
import traceback
import types
import warnings
from collections.abc import Callable
from typing import Any

from async_guard.runtime import events
from async_guard.runtime.frames import Where, is_user_file
from async_guard.runtime.state import Label, Unit, current_unit

# Past asyncio debug mode's own depth (10; IsolatedAsyncioTestCase runs every
# test in debug mode): an origin it recorded is never read as one of ours, and
# a unit started there tracks at its own depth, deeper than asyncio's.
ORIGIN_DEPTH = 11
RING = 16
NAMED = 256
# Deep enough to reach a trampoline under a Django view or a bridged coroutine.
TRAMPOLINE_DEPTH = 48
PREFIX = "_async_guard_unit_"


class Slot:
    """One place in the ring: its unit while the unit runs, then what a late event needs of it.

    Why not keep the unit itself: a request's unit, kept for ``NAMED`` more
    units, is freed long after, from memory no longer in the processor's
    caches, and the next unit is made in that same cold memory. Measured on a
    minimal Django view, that cost 1.5 to 2 µs of the 8 µs the guard added to
    a request. A place the ring reuses stays warm, and the label it keeps is
    all the unit that ended had to say.
    """

    __slots__ = ("is_async", "kind", "label", "owner_ident", "unit")

    def __init__(self) -> None:
        self.unit: Unit | None = None
        self.kind = ""
        self.label: Label | None = None
        self.is_async = False
        self.owner_ident = 0


# The last NAMED tracking units by slot, and for each ``slot % RING`` the last
# slot that had it. ``next(_slots)`` is atomic under the GIL.
recent: list[Slot] = [Slot() for _ in range(NAMED)]
by_length: list[int | None] = [None] * RING
_slots = itertools.cycle(range(NAMED))


def _trampolines(trampoline: Callable[..., Any]) -> tuple[Callable[..., Any], ...]:
    code = trampoline.__code__
    # pytest leaves out of a failure's traceback the frames whose globals say so.
    hidden = {"__tracebackhide__": True}
    if sys.version_info < (3, 11):  # pragma: no cover - no co_qualname (origins carry co_name)
        return tuple(
            types.FunctionType(code.replace(co_name=f"{PREFIX}{n}"), hidden) for n in range(NAMED)
        )
    return tuple(
        types.FunctionType(code.replace(co_name=f"{PREFIX}{n}", co_qualname=f"{PREFIX}{n}"), hidden)
        for n in range(NAMED)
    )


def _trampoline(func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)


def _trampoline_1(func: Callable[[Any], Any], arg: Any, /) -> Any:
    return func(arg)


def _trampoline_args(func: Callable[..., Any], /, *args: Any) -> Any:
    return func(*args)


TRAMPOLINES = _trampolines(_trampoline)
# The same names, for a body that takes one argument (a request), or only
# positional ones (an executor's work item): no keyword dict to build.
TRAMPOLINES_1 = _trampolines(_trampoline_1)
TRAMPOLINES_ARGS = _trampolines(_trampoline_args)

_get_depth = sys.get_coroutine_origin_tracking_depth
_set_depth = sys.set_coroutine_origin_tracking_depth


def _trampoline_tracking(
    func: Callable[..., Any],
    /,
    *args: Any,
    depth: int = 0,
    floor: int = ORIGIN_DEPTH,
    get_depth: Callable[[], int] = _get_depth,
    set_depth: Callable[[int], None] = _set_depth,
) -> Any:
    previous = get_depth()
    if previous >= floor:
        return func(*args)  # someone already tracks deeper: leave it be
    set_depth(depth)
    try:
        return func(*args)
    finally:
        set_depth(previous)


def _tracking_trampolines() -> tuple[Callable[..., Any], ...]:
    """:data:`TRAMPOLINES_ARGS` that also track origins, as :func:`start_tracking` with ``named``.

    For an async unit's sync work, one hop to its thread at a time (a dozen
    per ASGI request): the depth is the trampoline's own default argument,
    so a hop costs one frame and two calls to set the depth.
    """
    trampolines = _trampolines(_trampoline_tracking)
    for slot, trampoline in enumerate(trampolines):
        trampoline.__kwdefaults__ = {
            "depth": TRAMPOLINE_DEPTH + slot % RING,
            "floor": ORIGIN_DEPTH,
            "get_depth": _get_depth,
            "set_depth": _set_depth,
        }
    return trampolines


TRAMPOLINES_TRACKING = _tracking_trampolines()

# Where a thread's stack starts: an origin ending here may have been cut short.
_BOTTOM_FUNCTIONS = frozenset({"<module>", "_bootstrap", "_run_module_as_main", "_run_code"})

# The slot of the last tracking unit each thread ran: a coroutine with an
# origin was made while a unit tracked this thread, and is collected after it
# ended. A slot, not the unit: see :class:`Slot`.
last_unit = threading.local()


def slot_of(unit: Unit) -> int:
    slot = unit.slot
    if slot is None:
        slot = unit.slot = next(_slots)
        recent[slot].unit = unit
        by_length[slot % RING] = slot
    return slot


def release(unit: Unit) -> None:
    """The unit has ended: its place in the ring keeps its label, not the unit (see :class:`Slot`).

    A unit that has logged an event stays, so that a late one is still logged once.
    """
    slot = unit.slot
    if slot is None:
        return
    last_unit.slot = slot
    if unit._seen:
        return
    place = recent[slot]
    if place.unit is unit:
        # The record first: a thread reading the place in between must not
        # find no unit beside an earlier unit's label.
        place.kind = unit.kind
        place.label = unit._label
        place.is_async = unit.is_async
        place.owner_ident = unit.owner_ident
        place.unit = None


def unit_at(slot: int | None) -> Unit | None:
    """The unit that took ``slot`` last, rebuilt from its place if it has ended."""
    if slot is None:
        return None
    place = recent[slot]
    unit = place.unit
    if unit is None and place.label is not None:
        unit = place.unit = Unit(place.kind, place.label, place.is_async)
        unit.owner_ident = place.owner_ident
        unit.slot = slot
    return unit


def start_tracking(unit: Unit, named: bool = False) -> int | None:
    """Turn origin tracking on for this thread; the previous depth to restore, or None.

    ``named``: the unit's body runs under :func:`run_as`, so the trampoline
    names it; else the depth itself encodes the slot.
    """
    slot = unit.slot
    if slot is None:
        slot = slot_of(unit)
    previous = _get_depth()
    if previous >= ORIGIN_DEPTH:
        return None  # someone already tracks deeper: leave it be
    # A named unit whose trampoline ends up out of reach (a tracer built
    # before the task was named) still has the length channel.
    _set_depth((TRAMPOLINE_DEPTH if named else ORIGIN_DEPTH) + slot % RING)
    return previous


def run_as(unit: Unit, func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """Call ``func`` under the unit's trampoline frame."""
    slot = unit.slot
    return TRAMPOLINES[slot_of(unit) if slot is None else slot](func, *args, **kwargs)


def creator(coro: Any) -> Unit | None:
    origin = getattr(coro, "cr_origin", None)
    if not origin:
        return None
    for _file, _line, function in origin:
        if function.startswith(PREFIX):
            return unit_at(int(function[len(PREFIX) :]))
    if origin[-1][2] in _BOTTOM_FUNCTIONS:
        return None  # the stack was shallower than the depth asked for
    for base in (TRAMPOLINE_DEPTH, ORIGIN_DEPTH):
        if 0 <= len(origin) - base < RING:
            return unit_at(by_length[len(origin) - base])
    return None


_original: list[Callable[[Any], None]] = []


def install() -> None:
    """Hook Python's never-awaited warning (idempotent).

    CPython calls ``warnings._warn_unawaited_coroutine(coro)`` straight from
    C, and that function warns with ``stacklevel=2``: the frame that was
    running when the coroutine was dropped, the user's line. A wrapper calling
    it would itself be that frame, and every warning would point into this
    module. So the hook warns itself, from the same depth and with CPython's
    own text; a hook someone else installed first is still called instead.
    """
    if _original or not hasattr(warnings, "_warn_unawaited_coroutine"):
        return
    original = warnings._warn_unawaited_coroutine
    _original.append(original)
    pythons = is_pythons(original)

    def _warn_unawaited_coroutine(coro: Any) -> None:
        try:
            note_unawaited(coro)
        except Exception as exc:
            events.internal_error("unawaited coroutine hook", exc)
        if pythons:
            try:
                text = never_awaited_text(coro)
            except Exception as exc:
                events.internal_error("never-awaited warning", exc)
            else:
                warnings.warn(text, RuntimeWarning, stacklevel=2, source=coro)
                return
        original(coro)

    warnings._warn_unawaited_coroutine = _warn_unawaited_coroutine


def uninstall() -> None:
    if _original:
        warnings._warn_unawaited_coroutine = _original.pop()  # type: ignore[attr-defined]


def is_pythons(hook: Callable[[Any], None]) -> bool:
    """Whether ``hook`` is the standard library's own (not a wrapper of it)."""
    code = getattr(hook, "__code__", None)
    return code is not None and code.co_filename == getattr(warnings, "__file__", None)


def never_awaited_text(coro: Any) -> str:
    """CPython's warning text (the same in 3.10 to 3.13), its origin cut to user code.

    Without the guard the origin is there only when the user tracks it
    (asyncio debug mode); a sync unit of work tracks it for the guard's own
    attribution, as deep as 63 frames of the server, the test runner and the
    guard. So only the user's frames are listed, if any.
    """
    lines = [f"coroutine '{coro.__qualname__}' was never awaited\n"]
    origin = [entry for entry in coro.cr_origin or () if is_user_file(entry[0])]
    if origin:
        lines.append("Coroutine created at (most recent call last)\n")
        lines += traceback.format_list(
            [
                (filename, line, function, linecache.getline(filename, line))
                for filename, line, function in reversed(origin)
            ]
        )
    return "".join(lines).rstrip("\n")


def origin_of(coro: Any) -> tuple[Where, ...]:
    """User frames where ``coro`` was created, else where its function is defined."""
    origin = getattr(coro, "cr_origin", None) or ()
    frames = tuple(
        Where(filename, line, function)
        for filename, line, function in origin
        if is_user_file(filename)
    )
    if frames:
        return frames
    code = getattr(coro, "cr_code", None)
    if code is None:
        return ()
    name = getattr(code, "co_qualname", code.co_name)  # Python 3.10: co_name only
    return (Where(code.co_filename, code.co_firstlineno, name),)


def note_unawaited(coro: Any) -> None:
    unit = creator(coro) or current_unit.get()
    if unit is None and getattr(coro, "cr_origin", None):
        unit = unit_at(getattr(last_unit, "slot", None))
    if unit is None:
        return
    frames = origin_of(coro)
    name = getattr(coro, "__qualname__", repr(coro))
    where = f" (created at {frames[0]})" if frames else ""
    label = f" during {unit.label!r}"
    events.report(
        unit,
        "AGR106",
        f"coroutine {name} was never awaited{where}{label}: its body never ran. Await it, "
        "or from sync code run it with async_to_sync (async_guard.bridge.run_async)",
        key=frames[0] if frames else name,
        frames=frames,
        can_raise=False,
    )
