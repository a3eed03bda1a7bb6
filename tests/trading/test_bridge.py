"""async_guard.bridge: run_async and sync_twin, on the real database of the leg."""

from __future__ import annotations

import asyncio
import functools
import gc
import threading
import warnings
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction

from async_guard import AsyncGuardError
from async_guard.bridge import BridgeError, run_async, sync_twin

pytestmark = pytest.mark.async_guard_strict


async def _add(a: int, b: int = 0) -> int:
    await asyncio.sleep(0)
    return a + b


def test_runs_a_coroutine_function_with_arguments() -> None:
    assert run_async(_add, 2, b=3) == 5


def test_runs_a_coroutine_object() -> None:
    assert run_async(_add(4, 5)) == 9


def test_runs_a_callable_that_returns_an_awaitable() -> None:
    assert run_async(functools.partial(_add, 1), 1) == 2
    assert run_async(lambda a: _add(a, 10), 1) == 11


def test_exceptions_come_back_unchanged() -> None:
    async def boom() -> None:
        raise KeyError("broker said no")

    with pytest.raises(KeyError, match="broker said no"):
        run_async(boom)


def test_coroutine_object_with_extra_arguments_is_a_type_error_and_is_closed() -> None:
    coro = _add(1, 2)
    with pytest.raises(TypeError, match="takes no further arguments"):
        run_async(coro, 3)  # type: ignore[call-overload]
    assert coro.cr_frame is None  # closed, never started


def test_not_awaitable_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="needs a coroutine or a coroutine function"):
        run_async(42)  # type: ignore[call-overload]


def test_running_loop_in_thread_is_a_bridge_error_without_never_awaited_warning() -> None:
    seen: dict[str, Any] = {}

    async def inside_loop() -> None:
        coro = _add(1)
        # The mistake AG104 describes, made on purpose: the bridge must refuse it.
        with pytest.raises(BridgeError, match="already running an event loop") as info:
            run_async(coro)  # async-guard: ignore[AG104]
        seen["coro"] = coro
        seen["error"] = info.value
        with pytest.raises(BridgeError):
            run_async(_add, 1)  # async-guard: ignore[AG104]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        asyncio.run(inside_loop())
        seen.pop("coro")
        gc.collect()
    assert isinstance(seen["error"], RuntimeError)
    assert "await" in str(seen["error"])
    assert not [w for w in caught if "never awaited" in str(w.message)]


def test_the_loop_of_each_call_is_closed_and_not_left_current() -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    async def grab() -> None:
        loops.append(asyncio.get_running_loop())

    run_async(grab)
    run_async(grab)
    assert loops[0] is not loops[1]
    assert all(loop.is_closed() for loop in loops)


def test_sync_code_inside_sync_to_async_inside_run_async_can_bridge_again() -> None:
    caller = threading.get_ident()
    threads: list[int] = []

    def sync_layer() -> int:
        threads.append(threading.get_ident())
        return run_async(_add, 20, 1)

    async def outer() -> int:
        return await sync_to_async(sync_layer)()

    assert run_async(outer) == 21
    assert threads == [caller]


# --- the reason the bridge exists: the ORM work comes back to the caller's thread ---


@pytest.mark.django_db(transaction=True)
def test_orm_work_inside_the_bridge_runs_on_the_callers_thread_and_transaction() -> None:
    user_model = get_user_model()
    caller = threading.get_ident()
    seen: dict[str, Any] = {}

    def sync_write() -> None:
        seen["thread"] = threading.get_ident()
        seen["atomic"] = connection.in_atomic_block
        user_model.objects.create(username="via-sync-to-async")

    async def work() -> None:
        await sync_to_async(sync_write)()
        await user_model.objects.acreate(username="via-async-orm")
        seen["count_inside"] = await user_model.objects.filter(username__startswith="via-").acount()

    with pytest.raises(RuntimeError, match="roll back"):
        with transaction.atomic():
            run_async(work)
            # The caller sees both rows inside its own transaction...
            assert user_model.objects.filter(username__startswith="via-").count() == 2
            raise RuntimeError("roll back")
    # ...and its rollback undid both: they were written on its connection.
    assert seen == {"thread": caller, "atomic": True, "count_inside": 2}
    assert not user_model.objects.filter(username__startswith="via-").exists()

    run_async(work)
    assert user_model.objects.filter(username__startswith="via-").count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_runtime_guard_sees_asyncio_run_and_not_run_async(
    async_guard_events: list[dict[str, Any]],
) -> None:
    user_model = get_user_model()

    async def work(name: str) -> None:
        await sync_to_async(user_model.objects.create)(username=name)

    with transaction.atomic():
        run_async(work, "bridged")
        assert async_guard_events == []
        with pytest.raises(AsyncGuardError) as info:
            asyncio.run(work("escaped"))
    assert info.value.code == "AGR101"
    assert "AGR101" in {event["code"] for event in async_guard_events}
    # That thread opened a connection of its own (AGR107): close it there, as nothing else will.
    asyncio.run(sync_to_async(connections.close_all)())
    # raise mode: the escaping query never ran; the bridged one committed with the caller.
    assert set(user_model.objects.values_list("username", flat=True)) == {"bridged"}


def test_asyncio_run_sends_the_same_work_to_another_thread() -> None:
    """The bug, measured: why asyncio.run is not a bridge (no query is made here)."""
    caller = threading.get_ident()
    threads: list[int] = []

    async def work() -> None:
        await sync_to_async(lambda: threads.append(threading.get_ident()))()

    asyncio.run(work())
    run_async(work)
    assert threads[0] != caller
    assert threads[1] == caller


# --- sync_twin ---


class Service:
    def __init__(self, factor: int) -> None:
        self.factor = factor

    async def scale(self, value: int, *, offset: int = 0) -> int:
        """Multiply by the factor."""
        await asyncio.sleep(0)
        return value * self.factor + offset

    scale_sync = sync_twin(scale)

    @sync_twin
    async def thread_of_sync_part(self) -> int:
        return await sync_to_async(threading.get_ident)()


def test_sync_twin_assignment_form() -> None:
    service = Service(3)
    assert service.scale_sync(2, offset=1) == 7
    assert Service.scale_sync(service, 5) == 15
    assert isinstance(Service.__dict__["scale_sync"], sync_twin)
    assert service.scale_sync.__name__ == "scale_sync"
    assert "Multiply by the factor." in (service.scale_sync.__doc__ or "")
    assert asyncio.iscoroutinefunction(Service.scale)
    assert not asyncio.iscoroutinefunction(service.scale_sync)


def test_sync_twin_decorator_form_keeps_the_async_method_and_adds_the_twin() -> None:
    service = Service(1)
    assert asyncio.iscoroutinefunction(Service.thread_of_sync_part)
    assert service.thread_of_sync_part_sync() == threading.get_ident()  # type: ignore[attr-defined]


def test_sync_twin_called_from_a_running_loop_is_a_bridge_error() -> None:
    async def inside() -> None:
        with pytest.raises(BridgeError):
            Service(2).scale_sync(1)

    asyncio.run(inside())


def test_sync_twin_needs_an_async_method() -> None:
    def plain(self: object) -> None:
        pass

    with pytest.raises(TypeError, match="needs an 'async def' method"):
        sync_twin(plain)  # type: ignore[arg-type]
