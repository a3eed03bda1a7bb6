"""AGR106: "coroutine ... was never awaited", attributed by where the coroutine was made."""

from __future__ import annotations

import gc
import warnings

import async_guard
from tests.runtime import programs
from tests.runtime.conftest import codes


def _collect_quietly(kept: list[object]) -> None:
    """Drop the kept coroutines and collect them, without Python's own warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        kept.clear()
        gc.collect()


def test_never_awaited_inside_the_unit(guard_events):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        programs.coroutine_never_awaited()
    assert codes(guard_events) == ["AGR106"]
    event = guard_events[0]
    assert event["unit"] == "fire-and-forget"
    assert event["where"]["function"] == "coroutine_never_awaited"
    assert "fetch_quote" in event["message"]


def test_bridged_twin_is_silent(guard_events):
    programs.coroutine_bridged()
    assert guard_events == []


def test_collected_after_the_unit_is_attributed_to_the_unit_that_made_it(guard_events):
    kept = []
    with async_guard.watch("maker"):
        kept.append(programs.fetch_quote())
    with async_guard.watch("innocent-async"):
        pass
    _collect_quietly(kept)
    assert codes(guard_events) == ["AGR106"]
    assert guard_events[0]["unit"] == "maker"
    assert guard_events[0]["where"]["function"] == (
        "test_collected_after_the_unit_is_attributed_to_the_unit_that_made_it"
    )


def test_collected_inside_a_later_unit_is_attributed_to_the_maker(guard_events):
    kept = []
    with async_guard.watch("maker"):
        kept.append(programs.fetch_quote())
    with warnings.catch_warnings(), async_guard.watch("later"):
        warnings.simplefilter("ignore", RuntimeWarning)
        kept.clear()
    assert codes(guard_events) == ["AGR106"]
    assert guard_events[0]["unit"] == "maker"


def test_outside_any_unit_nothing_is_reported(guard_events):
    from async_guard.runtime import coroutines

    coroutines.last_unit.slot = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        programs.fetch_quote()
    assert guard_events == []


def test_origin_tracking_is_only_on_inside_sync_units():
    import sys

    assert sys.get_coroutine_origin_tracking_depth() == 0
    with async_guard.watch("tracked"):
        assert sys.get_coroutine_origin_tracking_depth() > 0
    assert sys.get_coroutine_origin_tracking_depth() == 0


def test_collected_on_another_thread_after_other_units(guard_events):
    import threading

    kept = []
    with async_guard.watch("maker"):
        kept.append(programs.fetch_quote())
    for n in range(10):
        with async_guard.watch(f"between-{n}"):
            pass

    def collect() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            kept.clear()

    thread = threading.Thread(target=collect)
    thread.start()
    thread.join(timeout=30)
    assert codes(guard_events) == ["AGR106"]
    assert guard_events[0]["unit"] == "maker"


def test_shallow_origin_is_not_decoded():
    from async_guard.runtime import coroutines

    class Shallow:
        cr_origin = (("/app/x.py", 3, "f"), ("/app/x.py", 9, "<module>"))

    assert coroutines.creator(Shallow()) is None


def test_an_ended_unit_leaves_its_label_in_the_ring_not_itself(guard_events):
    """The ring keeps what a late event needs; the unit is revived once, for every late one."""
    import weakref

    from async_guard.runtime import coroutines

    kept = []
    with async_guard.watch("maker") as block:
        for _ in range(2):
            kept.append(programs.fetch_quote())
        made = coroutines.creator(kept[0])
    assert made is not None and made.label == "maker"
    slot = made.slot
    assert slot is not None
    ended = weakref.ref(made)
    del made, block
    gc.collect()
    place = coroutines.recent[slot]
    assert ended() is None, "the ring must not keep a unit that ended with no event"
    assert place.unit is None and place.label == "maker" and place.kind == "watch"
    _collect_quietly(kept)
    # Both were made on one line: one event for the revived unit, as for the live one.
    assert codes(guard_events) == ["AGR106"]
    assert guard_events[0]["unit"] == "maker"
    assert place.unit is not None and place.unit.label == "maker"


def test_a_label_kept_as_parts_is_joined_only_for_an_event(guard_events):
    """A Channels message's label: the ring keeps the parts; a late event joins them, once."""
    from async_guard.runtime import coroutines
    from async_guard.runtime.unit import begin, end

    joined = []

    def text(*parts):
        joined.append(parts)
        return ".".join(parts)

    entered = begin("message", (text, "Chat", "chat_message"), False)
    assert entered is not None
    kept = [programs.fetch_quote()]
    slot = entered[0].slot
    end(entered)
    del entered
    gc.collect()
    place = coroutines.recent[slot]
    assert place.unit is None and place.label == (text, "Chat", "chat_message")
    assert joined == [], "nothing named the unit yet"
    _collect_quietly(kept)
    assert codes(guard_events) == ["AGR106"]
    assert guard_events[0]["unit"] == "Chat.chat_message"
    assert joined == [("Chat", "chat_message")]


def test_a_unit_with_an_event_keeps_its_place(guard_events):
    from async_guard.runtime import coroutines

    kept = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with async_guard.watch("noisy"):
            for _ in range(2):
                coroutine = programs.fetch_quote()
                if kept:
                    del coroutine  # dropped: the unit's first event
                else:
                    kept.append(coroutine)
            unit = coroutines.creator(kept[0])
        assert unit is not None and unit.slot is not None
        assert coroutines.recent[unit.slot].unit is unit
        kept.clear()
        gc.collect()
    # The kept one was made on the dropped one's line: the unit logged it already.
    assert codes(guard_events) == ["AGR106"]


def test_an_asyncio_debug_origin_is_not_read_as_a_slot():
    """asyncio debug mode (every IsolatedAsyncioTestCase) records origins at its own depth."""
    import asyncio.constants

    from async_guard.runtime import coroutines

    for n in range(coroutines.RING):  # every length channel names some unit
        with async_guard.watch(f"filler-{n}"):
            pass

    class DebugOrigin:
        cr_origin = tuple(
            ("/app/x.py", line, f"f{line}") for line in range(asyncio.constants.DEBUG_STACK_DEPTH)
        )

    assert coroutines.creator(DebugOrigin()) is None
