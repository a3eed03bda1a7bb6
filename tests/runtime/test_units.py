"""Units of work: async units and their sync thread, nesting, contexts, the hooks' plumbing."""

from __future__ import annotations

import asyncio
import contextvars
import sys

import pytest
from asgiref.sync import async_to_sync, iscoroutinefunction, sync_to_async
from django.contrib.auth.models import Group
from django.core.handlers.base import BaseHandler
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory, override_settings

import async_guard
from async_guard.middleware import AsyncGuardMiddleware, on_request_exception
from async_guard.runtime import coroutines, db, events, loops, unit
from async_guard.runtime.state import current_unit
from tests.runtime import programs
from tests.runtime.conftest import codes
from tests.runtime.test_agr109 import _asgi_get

pytestmark = pytest.mark.django_db(transaction=True)


@async_guard.watch("async-main")
async def async_main(thread_sensitive: bool) -> None:
    save = Group(name=f"ts-{thread_sensitive}").save
    await sync_to_async(save, thread_sensitive=thread_sensitive)()


def test_async_unit_adopts_the_thread_sensitive_thread(guard_events):
    asyncio.run(async_main(True))
    assert guard_events == []


def test_async_unit_flags_thread_insensitive_queries(guard_events):
    asyncio.run(async_main(False))
    assert codes(guard_events)[0] == "AGR101"
    assert guard_events[0]["unit"] == "async-main"


def test_async_unit_under_async_to_sync_adopts_the_callers_thread(guard_events):
    async_to_sync(async_main)(True)
    assert guard_events == []


@override_settings(ROOT_URLCONF="tests.runtime.urls")
def test_asgi_sync_view_thread_insensitive_save_is_outside_the_views_atomic(guard_events):
    assert _asgi_get("/save-thread-insensitive/")["status"] == 200
    event = next(e for e in guard_events if e["code"] == "AGR101")
    assert event["unit"] == "GET /save-thread-insensitive/"
    assert event["in_atomic_block"] is True
    assert event["level"] == "ERROR"


def test_owner_thread_connections_carry_no_wrapper(guard_events):
    programs.write_async_to_sync("owner")
    assert db.watch_query not in connection.execute_wrappers


def test_executor_thread_is_watched_after_foreign_work():
    programs.lost_write_asyncio_run("foreign")

    def wrappers() -> bool:
        from django.db import connections

        return db.thread_state.watched and db.watch_query in (
            connections["default"].execute_wrappers
        )

    from asgiref.sync import SyncToAsync

    assert SyncToAsync.single_thread_executor.submit(wrappers).result(timeout=30)


def test_nested_units_restore_the_outer_one():
    with async_guard.watch("outer"):
        outer = current_unit.get()
        with async_guard.watch("inner"):
            assert current_unit.get().label == "inner"
        assert current_unit.get() is outer
    assert current_unit.get() is None


def test_unit_left_in_another_context_restores_the_previous_value():
    entered = contextvars.copy_context().run(unit.begin, "watch", "elsewhere", is_async=False)
    assert entered is not None
    unit.leave(entered)
    assert current_unit.get() is None


def test_existing_origin_tracking_is_left_alone():
    sys.set_coroutine_origin_tracking_depth(30)
    try:
        with async_guard.watch("debug"):
            assert sys.get_coroutine_origin_tracking_depth() == 30
        assert sys.get_coroutine_origin_tracking_depth() == 30
    finally:
        sys.set_coroutine_origin_tracking_depth(0)


def test_install_and_uninstall_are_idempotent():
    loops.install()
    coroutines.install()
    loops.uninstall()
    coroutines.uninstall()
    try:
        with async_guard.watch("unhooked"):
            loop = asyncio.new_event_loop()
        loop.close()
    finally:
        loops.install()
        coroutines.install()
        loops.install()
        coroutines.install()
    assert loops._originals and coroutines._original


def test_other_executors_are_not_self_waits(guard_events):
    from concurrent.futures import ThreadPoolExecutor

    async def use(executor) -> int:
        return await asyncio.get_running_loop().run_in_executor(executor, int, "3")

    with async_guard.watch("pool"), ThreadPoolExecutor(max_workers=2) as pool:
        assert asyncio.run(use(pool)) == 3
        assert asyncio.run(use(None)) == 3
    assert guard_events == []


def test_unitless_events_are_deduplicated_process_wide(monkeypatch, guard_events):
    monkeypatch.setattr(events, "_UNITLESS_LIMIT", 2)
    monkeypatch.setattr(events, "_unitless_seen", set())
    for key in ("a", "a", "b", "c"):
        events.report(None, "AGR106", "test", key=key, frames=(), can_raise=False)
    assert codes(guard_events) == ["AGR106"] * 3
    events.unsubscribe(print)  # not subscribed: nothing happens


def test_allow_entries_that_do_not_match(settings, guard_events):
    settings.ASYNC_GUARD = {"ALLOW": ["programs.py:1", "other.func", "programs.py:x"]}
    programs.loop_left_open().close()
    assert codes(guard_events) == ["AGR102"]


def test_request_exception_signal_outside_an_except_block(guard_events):
    on_request_exception(sender=None, request=None)
    assert guard_events == []


def _view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def test_middleware_exception_that_escapes_get_response(guard_events):
    def get_response(request: HttpRequest) -> HttpResponse:
        raise RuntimeError("Event loop is closed")

    middleware = AsyncGuardMiddleware(get_response)
    with pytest.raises(RuntimeError):
        middleware(RequestFactory().get("/x"))
    assert codes(guard_events) == ["AGR108"]


def test_sync_middleware_paths(settings, guard_events):
    """The sync request's own start and end: the unit is current in the view, and gone after."""
    seen: list[object] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(current_unit.get())
        seen.append(sys.get_coroutine_origin_tracking_depth())
        return HttpResponse("ok")

    middleware = AsyncGuardMiddleware(view)
    assert middleware(RequestFactory().get("/s")).status_code == 200
    request_unit, depth = seen
    assert request_unit.label == "GET /s" and not request_unit.is_async
    assert depth >= coroutines.TRAMPOLINE_DEPTH
    assert current_unit.get() is None and sys.get_coroutine_origin_tracking_depth() == 0
    settings.ASYNC_GUARD = {"MODE": "off"}
    seen.clear()
    assert middleware(RequestFactory().get("/s")).status_code == 200
    assert seen == [None, 0]
    settings.ASYNC_GUARD = {"MODE": "warn"}
    seen.clear()
    sys.set_coroutine_origin_tracking_depth(30)  # asyncio debug mode's, say: left alone
    try:
        middleware(RequestFactory().get("/s"))
        assert seen[1] == 30 and sys.get_coroutine_origin_tracking_depth() == 30
    finally:
        sys.set_coroutine_origin_tracking_depth(0)
    assert guard_events == []


@pytest.mark.parametrize("is_async", [False, True])
def test_django_loads_the_middleware_as_it_is_in_either_chain(settings, is_async):
    """Sync- and async-capable: no chain adapts it, so an ASGI request is an async unit."""
    settings.MIDDLEWARE = ["async_guard.middleware.AsyncGuardMiddleware"]
    handler = BaseHandler()
    handler.load_middleware(is_async=is_async)
    guard = handler._middleware_chain.__wrapped__  # under Django's convert_exception_to_response
    assert guard.__module__ == "async_guard.middleware"
    assert iscoroutinefunction(guard) is is_async


def test_sync_middleware_in_a_running_loop_reports_agr104(guard_events):
    async def serve() -> int:
        middleware = AsyncGuardMiddleware(lambda request: HttpResponse("ok"))
        return middleware(RequestFactory().get("/in-loop")).status_code

    assert asyncio.run(serve()) == 200
    assert codes(guard_events) == ["AGR104"]
    assert guard_events[0]["unit"] == "GET /in-loop"
    assert current_unit.get() is None


def test_async_middleware_paths(settings, guard_events):
    async def ok(request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")

    async def fails(request: HttpRequest) -> HttpResponse:
        raise RuntimeError("Event loop is closed")

    request = RequestFactory().get("/a")
    response = async_to_sync(AsyncGuardMiddleware(ok))(request)
    response.close()
    with pytest.raises(RuntimeError):
        async_to_sync(AsyncGuardMiddleware(fails))(request)
    assert codes(guard_events) == ["AGR108"]
    settings.ASYNC_GUARD = {"MODE": "off"}
    assert async_to_sync(AsyncGuardMiddleware(ok))(request).status_code == 200


def test_celery_prerun_with_the_guard_off(settings, guard_events):
    from tests.runtime.test_celery_hook import bad_save

    settings.ASYNC_GUARD = {"MODE": "off"}
    assert bad_save.apply(args=("off",)).successful()
    assert guard_events == []


def test_celery_disconnect_and_connect():
    from celery import signals

    from async_guard import celery as hook

    before = len(signals.task_prerun.receivers)
    hook.disconnect()
    assert len(signals.task_prerun.receivers) == before - 1
    hook.connect()
    assert len(signals.task_prerun.receivers) == before


def test_origin_of_without_user_frames():
    class Fake:
        cr_origin = (("<frozen>", 1, "x"),)
        cr_code = None

    assert coroutines.origin_of(Fake()) == ()
    assert coroutines.creator(Fake()) is None


@override_settings(ROOT_URLCONF="tests.runtime.urls")
def test_asgi_sync_view_coroutine_is_attributed_to_its_request(guard_events):
    import gc
    import logging
    import warnings

    logger = logging.getLogger("django.request")
    logger.disabled = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            assert _asgi_get("/returns-coroutine/")["status"] == 500
            with async_guard.watch("later"):
                gc.collect()
    finally:
        logger.disabled = False
    by_code = {event["code"]: event for event in guard_events}
    assert by_code["AGR105"]["unit"] == "GET /returns-coroutine/"
    assert by_code["AGR106"]["unit"] == "GET /returns-coroutine/"


def test_watch_decorator_with_the_guard_off_and_on_errors(settings, guard_events):
    @async_guard.watch("decorated")
    def fails() -> None:
        raise RuntimeError("Event loop is closed")

    with pytest.raises(RuntimeError):
        fails()
    assert codes(guard_events) == ["AGR108"]
    settings.ASYNC_GUARD = {"MODE": "off"}
    with pytest.raises(RuntimeError):
        fails()
    assert codes(guard_events) == ["AGR108"]
