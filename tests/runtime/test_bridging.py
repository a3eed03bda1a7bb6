"""``async_to_sync`` makes its own coroutines untracked; the sync work it sends back stays tracked.

Origin tracking (AGR106) makes CPython walk and number every frame above each
coroutine made in a sync unit; ``async_to_sync`` always awaits the two it
makes, so the guard leaves them out, and only them.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async

import async_guard
from async_guard.runtime import bridging, coroutines
from tests.runtime import programs
from tests.runtime.conftest import codes


async def task_origin(origins: list[Any]) -> None:
    task = asyncio.current_task()
    assert task is not None
    origins.append(task.get_coro().cr_origin)  # type: ignore[union-attr]


@pytest.fixture
def without_bridging() -> Iterator[None]:
    bridging.uninstall()
    try:
        yield
    finally:
        bridging.install()


def test_async_to_sync_in_a_unit_makes_its_coroutines_without_origins():
    origins: list[Any] = []
    with async_guard.watch("bridge"):
        depth = sys.get_coroutine_origin_tracking_depth()
        async_to_sync(task_origin)(origins)
        assert sys.get_coroutine_origin_tracking_depth() == depth
    assert origins == [None]


def test_without_the_hook_they_carry_their_origin(without_bridging):
    origins: list[Any] = []
    with async_guard.watch("bridge"):
        async_to_sync(task_origin)(origins)
    assert origins[0]  # what the hook spares: a walk up the whole stack


def test_sync_work_sent_back_to_the_waiting_thread_is_still_tracked(guard_events):
    depths: list[int] = []

    def back() -> None:
        depths.append(sys.get_coroutine_origin_tracking_depth())
        programs.fetch_quote()  # type: ignore[unused-coroutine]

    async def outer() -> None:
        await sync_to_async(back)()  # thread-sensitive: runs on the waiting thread

    with warnings.catch_warnings(), async_guard.watch("bridge"):
        warnings.simplefilter("ignore", RuntimeWarning)
        async_to_sync(outer)()
        # A second bridge nested in the work sent back pauses and resumes as well.
        async_to_sync(outer)()
        gc.collect()
    assert len(depths) == 2 and min(depths) >= coroutines.ORIGIN_DEPTH
    assert codes(guard_events) == ["AGR106"]
    assert guard_events[0]["unit"] == "bridge"
    assert guard_events[0]["where"]["function"] == "back"


def test_outside_a_unit_nothing_changes():
    origins: list[Any] = []
    async_to_sync(task_origin)(origins)
    assert origins == [None] and sys.get_coroutine_origin_tracking_depth() == 0


def test_a_failing_bridge_restores_the_depth():
    async def fails() -> None:
        raise ValueError("x")

    with async_guard.watch("bridge"):
        depth = sys.get_coroutine_origin_tracking_depth()
        with pytest.raises(ValueError):
            async_to_sync(fails)()
        assert sys.get_coroutine_origin_tracking_depth() == depth


def test_install_is_idempotent():
    call = type(async_to_sync(task_origin)).__call__
    bridging.install()
    assert type(async_to_sync(task_origin)).__call__ is call
