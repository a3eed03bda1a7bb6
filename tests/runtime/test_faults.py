"""The guard never breaks the application: faults injected into its own internals.

Each test makes one internal function of the guard raise, then runs a real
request, task, query or loop, and checks that the work succeeded and that
exactly one "async_guard internal error" line was logged for that hook, even
when the fault repeats.
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from django.contrib.auth.models import Group
from django.test import Client

import async_guard
from async_guard.runtime import coroutines, db, diagnosis, events, loops, unit
from tests.runtime import programs


class Injected(Exception):
    pass


def boom(*args, **kwargs):
    raise Injected("injected fault")


@pytest.fixture(autouse=True)
def _fresh_failure_log(monkeypatch):
    monkeypatch.setattr(events, "_failed_hooks", set())


def internal_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "internal error" in r.getMessage()]


pytestmark = pytest.mark.django_db(transaction=True)


def test_database_watch_fault_lets_the_query_run(monkeypatch, caplog):
    monkeypatch.setattr(db, "foreign_query", boom)
    programs.lost_write_asyncio_run("fault-1")
    programs.lost_write_asyncio_run("fault-2")
    assert Group.objects.filter(name__startswith="fault-").count() == 2
    lines = internal_lines(caplog)
    assert len(lines) == 1 and "database watch" in lines[0]


@pytest.mark.parametrize(
    ("target", "hook"),
    [
        ("async_guard.runtime.unit.Unit", "unit start"),
        ("async_guard.runtime.state.Unit.after", "response close hook"),
    ],
)
def test_request_unit_fault_lets_the_request_run(monkeypatch, caplog, target, hook):
    monkeypatch.setattr(target, boom)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.conf.settings.ROOT_URLCONF", "tests.runtime.urls")
        assert Client().get("/sync-orm/").status_code == 200
        assert Client().get("/sync-orm/").status_code == 200
    lines = internal_lines(caplog)
    assert len(lines) == 1 and hook in lines[0]
    assert async_guard.runtime.state.current_unit.get() is None


def test_unit_start_fault_lets_the_function_run(monkeypatch, caplog):
    monkeypatch.setattr(unit, "_get_running_loop", boom)

    @async_guard.watch("w")
    def work() -> int:
        return 1

    assert work() + work() == 2
    lines = internal_lines(caplog)
    assert len(lines) == 1 and "unit start" in lines[0]


def test_finish_fault_lets_the_unit_end(monkeypatch, caplog):
    monkeypatch.setattr(loops, "check_loops", boom)
    with async_guard.watch("w"):
        asyncio.run(programs.fetch_quote())
    assert len(internal_lines(caplog)) == 1


def test_connection_hook_fault(monkeypatch, caplog):
    from django.db import connections

    monkeypatch.setattr(db, "foreign_frames", boom)
    programs.lost_write_asyncio_run("fault-3")
    assert Group.objects.filter(name="fault-3").exists()
    assert connections["default"].is_usable()
    assert len(internal_lines(caplog)) >= 1


def test_loop_tracking_fault_lets_the_loop_run(monkeypatch, caplog):
    monkeypatch.setattr(loops, "user_frames", boom)
    with async_guard.watch("loops"):
        assert asyncio.run(programs.fetch_quote()) == {"bid": "1.25"}
    lines = internal_lines(caplog)
    assert len(lines) == 1 and "loop tracking" in lines[0]


def test_self_wait_fault(monkeypatch, caplog):
    monkeypatch.setattr(events, "report", boom)
    from asgiref.sync import async_to_sync, sync_to_async

    async def outer() -> None:
        await sync_to_async(programs.nested_loop_touching_orm)()

    with pytest.raises(RuntimeError, match="own thread"), async_guard.watch("w"):
        async_to_sync(outer)()
    assert any("self-wait" in line for line in internal_lines(caplog))


def test_diagnosis_fault_keeps_the_original_exception(monkeypatch, caplog):
    monkeypatch.setattr(diagnosis, "classify", boom)
    error = RuntimeError("Event loop is closed")
    with pytest.raises(RuntimeError) as info, async_guard.watch("w"):
        raise error
    assert info.value is error
    assert len(internal_lines(caplog)) == 1


def test_unawaited_hook_fault_keeps_python_warning(monkeypatch, caplog):
    monkeypatch.setattr(coroutines, "note_unawaited", boom)
    with pytest.warns(RuntimeWarning, match="never awaited"):
        programs.coroutine_never_awaited()
    assert len(internal_lines(caplog)) == 1


def test_celery_prerun_fault_lets_the_task_run(monkeypatch, caplog):
    from tests.runtime.test_celery_hook import good_save

    monkeypatch.setattr("async_guard.celery.begin", boom)
    assert good_save.apply(args=("fault-4",)).successful()
    assert good_save.apply(args=("fault-5",)).successful()
    assert len(internal_lines(caplog)) == 1


def test_response_close_hook_fault(monkeypatch, caplog):
    from django.http import HttpResponse

    from async_guard import middleware

    class Unwrappable(HttpResponse):
        def __setattr__(self, name, value):
            if name == "close":
                raise Injected("read-only close")
            super().__setattr__(name, value)

    entered = unit.begin("request", "GET /x", is_async=False)
    assert entered is not None
    unit.leave(entered)
    middleware.finish_when_closed(entered[0], Unwrappable("ok"))
    lines = internal_lines(caplog)
    assert len(lines) == 1 and "response close hook" in lines[0]


def test_internal_error_line_is_logged_once_per_hook(caplog):
    caplog.set_level(logging.ERROR, logger="async_guard")
    for _ in range(3):
        events.internal_error("hook-a", Injected("a"))
    events.internal_error("hook-b", Injected("b"))
    assert len(internal_lines(caplog)) == 2
