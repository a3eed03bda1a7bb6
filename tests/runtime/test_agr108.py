"""AGR108: async/sync errors escaping a unit, diagnosed, re-raised unchanged."""

from __future__ import annotations

import asyncio

import pytest
from django.core.exceptions import SynchronousOnlyOperation

from tests.runtime import programs
from tests.runtime.conftest import codes

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("mode", ["warn", "raise"])
def test_synchronous_only_operation(settings, guard_events, mode):
    settings.ASYNC_GUARD = {"MODE": mode}
    with pytest.raises(SynchronousOnlyOperation):
        programs.sync_orm_inside_asyncio_run()
    assert codes(guard_events) == ["AGR108"]
    event = guard_events[0]
    assert "sync_to_async" in event["message"]
    assert event["where"]["function"] == "read_groups_sync_orm"


def test_event_loop_is_closed(guard_events):
    with pytest.raises(RuntimeError, match="Event loop is closed"):
        programs.reuse_closed_loop()
    assert codes(guard_events) == ["AGR108"]
    assert "create the client inside the coroutine" in guard_events[0]["message"]


def test_async_to_sync_inside_a_loop(guard_events):
    with pytest.raises(RuntimeError, match="You cannot use AsyncToSync"):
        asyncio.run(programs.async_to_sync_in_loop())
    assert codes(guard_events) == ["AGR108"]
    assert "await the coroutine" in guard_events[0]["message"]


def test_the_exception_is_the_same_object(guard_events):
    import async_guard

    error = RuntimeError("Event loop is closed")
    with pytest.raises(RuntimeError) as info, async_guard.watch("same"):
        raise error
    assert info.value is error


def test_unrelated_errors_are_not_events(guard_events):
    import async_guard

    with pytest.raises(KeyError), async_guard.watch("other"):
        raise KeyError("x")
    assert guard_events == []


def test_cause_chain_is_searched(guard_events):
    import async_guard

    with pytest.raises(ValueError), async_guard.watch("wrapped"):
        try:
            raise SynchronousOnlyOperation("You cannot call this from an async context")
        except SynchronousOnlyOperation as exc:
            raise ValueError("wrapped") from exc
    assert codes(guard_events) == ["AGR108"]


def test_correct_twin_is_silent(guard_events):
    from asgiref.sync import async_to_sync, sync_to_async
    from django.contrib.auth.models import Group

    import async_guard

    async def count() -> int:
        return await sync_to_async(Group.objects.count)()

    with async_guard.watch("good"):
        assert async_to_sync(count)() == 0
    assert guard_events == []
