"""A unit defers what only an event needs: the owner's name and connections, the close() hook.

Starting a unit is on the path of every request and task; these tests pin
down that the deferred parts are still right when an event finally asks for
them, and that a unit with no event never pays for them.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import types
import weakref
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.http import HttpResponse
from django.test import Client, RequestFactory

from async_guard import conf
from async_guard.middleware import AsyncGuardMiddleware, check_when_closed
from async_guard.runtime import db, events, unit
from async_guard.runtime.state import Unit, current_unit
from tests.runtime import programs
from tests.runtime.conftest import codes

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh_failure_log(monkeypatch):
    # The guard logs its own failures once per process and hook.
    monkeypatch.setattr(events, "_failed_hooks", set())


def test_a_unit_without_events_never_looks_up_the_owners_connections(monkeypatch, guard_events):
    calls: list[tuple[int, str]] = []
    lookup = db.owner_connection

    def counting(ident: int, alias: str) -> Any:
        calls.append((ident, alias))
        return lookup(ident, alias)

    monkeypatch.setattr(db, "owner_connection", counting)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(django_settings, "ROOT_URLCONF", "tests.runtime.urls")
        assert Client().get("/sync-orm/").status_code == 200
        assert Client().get("/save-async-to-sync/?name=lazy-1").status_code == 200
    assert guard_events == [] and calls == []

    programs.lost_write_asyncio_run("lazy-2")
    assert codes(guard_events) == ["AGR101", "AGR107"]
    assert guard_events[0]["in_atomic_block"] is True  # looked up at the event, still right
    assert len(calls) == 1


def test_the_owner_thread_is_named_in_an_event_from_another_thread(guard_events):
    def owner() -> None:
        programs.lost_write_asyncio_run("lazy-3")

    thread = threading.Thread(target=owner, name="lazy-owner")
    thread.start()
    thread.join(timeout=60)
    first = guard_events[0]
    assert first["code"] == "AGR101"
    assert first["owner_thread"] == "lazy-owner"
    assert first["thread"] != "lazy-owner"


def test_the_owner_name_of_a_thread_that_ended():
    units: list[Unit] = []
    thread = threading.Thread(target=lambda: units.append(Unit("watch", "w", is_async=False)))
    thread.start()
    thread.join(timeout=30)
    assert units[0].owner_name == f"thread {thread.ident}"
    units[0].owner_name = "renamed"
    assert repr(units[0]) == "<Unit watch 'w' owner=renamed>"


def test_a_request_with_nothing_to_check_leaves_close_alone(guard_events):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(django_settings, "ROOT_URLCONF", "tests.runtime.urls")
        quiet = Client().get("/sync-orm/")
        leaky = Client().get("/loop-left-open/")
    assert "close" not in vars(quiet)
    assert "close" in vars(leaky)  # hooked at once: the unit had a loop when it left
    assert codes(guard_events) == ["AGR102"]


def test_a_loop_noted_after_the_unit_left_is_checked_when_the_response_closes(guard_events):
    entered = unit.begin("request", "GET /late", is_async=False)
    assert entered is not None
    late = entered[0]
    unit.leave(entered)
    response = HttpResponse("ok")
    check_when_closed(late, response)
    assert "close" not in vars(response)

    token = current_unit.set(late)  # work that kept the unit's context, after it left
    try:
        loop = asyncio.new_event_loop()
    finally:
        current_unit.reset(token)
    assert "close" in vars(response)
    try:
        response.close()
        assert codes(guard_events) == ["AGR102"]
        assert guard_events[0]["unit"] == "GET /late"
    finally:
        loop.close()


def test_a_response_gone_before_the_first_loop_is_not_hooked(guard_events):
    late = Unit("request", "GET /gone", is_async=False)
    response = HttpResponse("ok")
    late.after(response, lambda u, target: pytest.fail("hooked a dead response"))
    del response
    gc.collect()
    late.loops.append((asyncio.new_event_loop(), (), "t"))
    late.loops[0][0].close()
    assert late.waiting is None


def test_a_failing_close_hook_is_logged_once_and_the_loop_is_made(caplog):
    def broken(u: Unit, target: Any) -> None:
        raise RuntimeError("injected")

    late = Unit("request", "GET /broken", is_async=False)
    response = HttpResponse("ok")
    late.after(response, broken)
    token = current_unit.set(late)
    try:
        loop = asyncio.new_event_loop()
    finally:
        current_unit.reset(token)
    loop.close()
    lines = [r.getMessage() for r in caplog.records if "internal error" in r.getMessage()]
    assert len(lines) == 1 and "loop tracking" in lines[0]


def test_a_close_hook_under_another_middlewares_wrapper(guard_events):
    closed: list[str] = []
    late = Unit("request", "GET /wrapped", is_async=False)
    loop = asyncio.new_event_loop()
    late.loops.append((loop, (), "t"))
    response = HttpResponse("ok")
    original = response.close

    def inner_close() -> None:
        closed.append("inner")
        original()

    response.close = inner_close  # type: ignore[method-assign]
    check_when_closed(late, response)
    try:
        response.close()
        assert closed == ["inner"]
        assert codes(guard_events) == ["AGR102"]
    finally:
        loop.close()


def _hooked(label: str) -> tuple[Unit, HttpResponse]:
    """A unit with a (closed) loop to check, and a response whose close() it hooked."""
    hooked = Unit("request", label, is_async=False)
    hooked.loops.append((asyncio.new_event_loop(), (), "t"))
    hooked.loops[0][0].close()
    response = HttpResponse("ok")
    check_when_closed(hooked, response)
    assert "close" in vars(response)
    return hooked, response


def test_the_close_wrapper_does_not_keep_the_response_alive():
    _, response = _hooked("GET /cycle")
    gone = weakref.ref(response)
    gc.disable()
    try:
        del response
        assert gone() is None  # freed by reference counting: no cycle through close()
    finally:
        gc.enable()


def test_a_wrapper_called_after_its_response_died_only_finishes():
    late, response = _hooked("GET /dead")
    close = vars(response)["close"]
    del response
    close()
    assert late.pending is False


def test_mode_off_follows_every_way_the_setting_changes(settings):
    settings.ASYNC_GUARD = {"MODE": "off"}
    assert conf.off()
    settings.ASYNC_GUARD = {"MODE": "warn"}
    assert not conf.off()
    settings.ASYNC_GUARD = types.MappingProxyType({"MODE": "off"})  # a Mapping, not a dict
    assert conf.off()
    settings.ASYNC_GUARD = {"MODE": "warn"}
    django_settings.ASYNC_GUARD = {"MODE": "off"}  # a plain assignment drops Django's cache
    assert conf.off()
    del settings.ASYNC_GUARD
    assert not conf.off()  # no setting at all: the default mode


def test_connections_of_ended_threads_are_forgotten(monkeypatch):
    class Dead:
        alias = "default"

    dead = Dead()
    monkeypatch.setattr(db, "_opened", {-1: {"default": weakref.ref(dead)}})
    del dead
    gc.collect()
    assert db.owner_connection(-1, "default") is None

    alive = Dead()

    def opens() -> None:
        db.note_opened(alive)  # type: ignore[arg-type]

    thread = threading.Thread(target=opens)
    thread.start()
    thread.join(timeout=30)
    assert -1 not in db._opened


def test_events_keep_their_fields_on_a_fresh_unit(guard_events):
    fresh = Unit("watch", "fresh", is_async=False)
    events.report(fresh, "AGR104", "x", frames=())
    events.report(fresh, "AGR104", "x", frames=())  # once per unit and key
    assert codes(guard_events) == ["AGR104"]
    assert guard_events[0]["owner_thread"] == threading.current_thread().name
    assert fresh.seen == {("AGR104", None)}


def test_the_middleware_with_an_async_unit_still_checks_at_close(guard_events):
    from asgiref.sync import async_to_sync

    made: list[asyncio.AbstractEventLoop] = []

    async def leaves_a_loop(request: Any) -> HttpResponse:
        made.append(asyncio.new_event_loop())  # the mistake: not closed before the response
        return HttpResponse("ok")

    response = async_to_sync(AsyncGuardMiddleware(leaves_a_loop))(RequestFactory().get("/l"))
    assert "close" in vars(response)
    response.close()
    made[0].close()
    assert codes(guard_events) == ["AGR102"]


def test_celery_remembers_whether_a_task_is_a_coroutine(monkeypatch):
    from async_guard import celery as hook

    class Unhashable:
        __hash__ = None  # type: ignore[assignment]

        async def __call__(self) -> None:
            return None

    async def run() -> None:
        return None

    unhashable = types.SimpleNamespace(run=Unhashable())
    assert hook.coroutine_task(unhashable) is False  # an instance: not an async def itself
    task = types.SimpleNamespace(run=run)
    assert hook.coroutine_task(task) is True
    assert hook._coroutine_runs[run] is True
    assert hook.coroutine_task(task) is True  # from memory
    monkeypatch.setattr(hook, "_RUNS_LIMIT", 0)
    other = types.SimpleNamespace(run=lambda: None)
    assert hook.coroutine_task(other) is False
    assert other.run not in hook._coroutine_runs


def test_a_slot_is_taken_once():
    from async_guard.runtime import coroutines

    fresh = Unit("watch", "slot", is_async=False)
    slot = coroutines.slot_of(fresh)
    assert coroutines.slot_of(fresh) == slot
    assert coroutines.recent[slot].unit is fresh


def test_faults_in_leave_and_in_the_close_hook_are_logged(caplog):
    class Broken(Unit):
        def after(self, target: Any, hook: Any) -> None:
            raise RuntimeError("injected")

    broken = Broken("request", "GET /broken-hook", is_async=False)
    check_when_closed(broken, HttpResponse("ok"))
    unit.leave((broken, object()))  # type: ignore[arg-type]  # not a token
    lines = [r.getMessage() for r in caplog.records if "internal error" in r.getMessage()]
    assert any("response close hook" in line for line in lines)
    assert any("unit leave" in line for line in lines)


def test_an_async_units_outer_executor_waits_for_its_first_hop(guard_events):
    from asgiref.current_thread_executor import CurrentThreadExecutor
    from asgiref.sync import async_to_sync, sync_to_async

    from async_guard.runtime.state import OUTER_PENDING

    seen: dict[str, Any] = {}

    async def body() -> None:
        entered = unit.begin("watch", "hop", is_async=True)
        assert entered is not None
        seen["at start"] = entered[0].routing[0]
        seen["adopted before a hop"] = db.adopt_sync_thread(entered[0])
        try:
            await sync_to_async(Group.objects.create)(name="lazy-routing")
        finally:
            unit.end(entered)
        seen["after the hop"] = entered[0].routing[0]

    async_to_sync(body)()
    assert seen["at start"] is OUTER_PENDING
    assert seen["adopted before a hop"] is False
    # Read at the hop, in the unit's own task: the caller's executor, whose
    # thread the save then ran on, adopted without an event.
    assert isinstance(seen["after the hop"], CurrentThreadExecutor)
    assert guard_events == []


def test_a_free_executor_is_checked_once_per_thread(monkeypatch, guard_events):
    from asgiref.sync import sync_to_async

    from async_guard.runtime import loops

    checks: list[object] = []
    check = loops.check_self_wait

    def counting(unit_: Unit, executor: Any) -> None:
        checks.append(executor)
        check(unit_, executor)

    monkeypatch.setattr(loops, "check_self_wait", counting)
    monkeypatch.setattr(loops, "_free", (None, 0))

    async def hops() -> None:
        async with unit.watch("hops"):
            for n in range(3):
                await sync_to_async(Group.objects.create)(name=f"free-{n}")

    asyncio.run(hops())
    assert len(checks) == 1
    assert loops._free[0] is checks[0]
    assert guard_events == []
