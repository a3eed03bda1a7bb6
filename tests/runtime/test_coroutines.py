"""AGR106: "coroutine ... was never awaited", attributed by where the coroutine was made."""

from __future__ import annotations

import gc
import warnings

import async_guard
from tests.runtime import programs
from tests.runtime.conftest import codes


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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        kept.clear()
        gc.collect()
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

    coroutines.last_unit.unit = None
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
