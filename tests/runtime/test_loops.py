"""AGR102 (loop left open), AGR103 (closed loop left current), AGR104 (sync unit in a loop)."""

from __future__ import annotations

import asyncio
import logging

import pytest

import async_guard
from async_guard import AsyncGuardError
from tests.runtime import programs
from tests.runtime.conftest import codes


@pytest.fixture(autouse=True)
def _no_current_loop():
    yield
    asyncio.set_event_loop(None)


def test_loop_left_open(guard_events, caplog):
    caplog.set_level(logging.WARNING, logger="async_guard")
    loop = programs.loop_left_open()
    try:
        assert codes(guard_events) == ["AGR102"]
        event = guard_events[0]
        assert event["unit"] == "open-loop"
        assert event["where"]["function"] == "loop_left_open"
        assert caplog.records[0].levelno == logging.WARNING
    finally:
        loop.close()


def test_loop_closed_in_finally_and_runner_are_silent(guard_events):
    programs.loop_closed_in_finally()
    programs.runner()
    asyncio.run(programs.fetch_quote())
    assert guard_events == []


def test_raise_mode_raises_at_the_end_of_the_unit(raise_mode):
    with pytest.raises(AsyncGuardError) as info:
        programs.loop_left_open()
    assert info.value.code == "AGR102"


def test_closed_loop_left_current(guard_events):
    programs.closed_loop_left_current()
    assert codes(guard_events) == ["AGR103"]
    assert guard_events[0]["where"]["function"] == "closed_loop_left_current"


def test_loop_made_before_the_unit_is_not_blamed(guard_events):
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.close()
    with async_guard.watch("innocent"):
        pass
    assert guard_events == []


def test_sync_unit_inside_a_running_loop(guard_events):
    assert asyncio.run(programs.sync_unit_inside_loop()) == 1
    assert codes(guard_events) == ["AGR104"]
    assert guard_events[0]["unit"] == "sync-helper"


@pytest.mark.django_db(transaction=True)
def test_sync_unit_through_sync_to_async_is_silent(guard_events):
    assert asyncio.run(programs.sync_unit_through_sync_to_async()) == 1
    assert guard_events == []


def test_async_watch_in_a_loop_is_silent(guard_events):
    @async_guard.watch()
    async def job() -> int:
        await programs.fetch_quote()
        return 2

    assert asyncio.run(job()) == 2
    assert guard_events == []


def test_sync_unit_inside_a_loop_raises_in_raise_mode(raise_mode):
    with pytest.raises(AsyncGuardError) as info:
        asyncio.run(programs.sync_unit_inside_loop())
    assert info.value.code == "AGR104"


def test_many_loops_in_one_unit_keep_only_open_ones(guard_events):
    with async_guard.watch("many"):
        for _ in range(300):
            loop = asyncio.new_event_loop()
            loop.close()
        leaked = asyncio.new_event_loop()
    leaked.close()
    assert codes(guard_events) == ["AGR102"]
