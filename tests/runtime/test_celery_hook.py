"""The Celery hook's logic on eagerly run tasks (real workers: tests/runtime_integration)."""

from __future__ import annotations

import asyncio
import gc
import warnings
import weakref

import pytest
from asgiref.sync import async_to_sync
from celery import Celery
from django.db import transaction

from tests.runtime import programs
from tests.runtime.conftest import codes

pytestmark = pytest.mark.django_db(transaction=True)

app = Celery("async-guard-runtime-tests", set_as_current=False)
app.conf.task_always_eager = True
app.conf.task_store_eager_result = False


@app.task(name="runtime.bad_save", shared=False)
def bad_save(name: str) -> None:
    with transaction.atomic():
        asyncio.run(programs.save_group(name))


@app.task(name="runtime.good_save", shared=False)
def good_save(name: str) -> None:
    with transaction.atomic():
        async_to_sync(programs.save_group)(name)


@app.task(name="runtime.async_task", shared=False)
async def async_task() -> None:
    await programs.fetch_quote()


@app.task(name="runtime.sync_orm_in_async", shared=False)
def sync_orm_in_async() -> int:
    return asyncio.run(programs.read_groups_sync_orm())


def test_asyncio_run_task(guard_events):
    result = bad_save.apply(args=("t1",))
    assert result.successful()
    assert codes(guard_events) == ["AGR101", "AGR107"]
    assert guard_events[0]["unit"] == f"runtime.bad_save[{result.id}]"
    assert guard_events[0]["unit_kind"] == "task"
    assert guard_events[0]["in_atomic_block"] is True


def test_async_to_sync_task_is_silent(guard_events):
    assert good_save.apply(args=("t2",)).successful()
    assert guard_events == []


def assert_async_task_is_caught(guard_events):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        async_task.apply()
        gc.collect()
    assert codes(guard_events) == ["AGR105", "AGR106"]
    assert guard_events[0]["where"]["function"] == "async_task"


def test_async_def_task_is_caught_at_prerun(guard_events):
    assert_async_task_is_caught(guard_events)


def test_failure_is_diagnosed(guard_events):
    result = sync_orm_in_async.apply()
    assert result.failed()
    assert codes(guard_events) == ["AGR108"]


def test_raise_mode_stops_the_write(raise_mode, guard_events):
    from django.contrib.auth.models import Group

    result = bad_save.apply(args=("t3",))
    assert result.failed()
    assert not Group.objects.filter(name="t3").exists()


def test_install_is_idempotent():
    from celery import signals

    from async_guard import celery as hook

    before = len(signals.task_prerun.receivers)
    hook.install(app)
    hook.install(app)
    assert len(signals.task_prerun.receivers) == before


def test_unmatched_postrun_and_failure_are_ignored(guard_events):
    from async_guard import celery as hook

    hook.on_task_postrun(task_id="never-started")
    hook.on_task_failure(task_id="never-started", exception=RuntimeError("Event loop is closed"))
    assert guard_events == []


_pending: list = []


@app.task(name="runtime.leave_pending", shared=False)
def leave_pending() -> None:
    _pending.append(programs.fetch_quote())


def connected(signal, handler) -> bool:
    """Whether ``handler`` receives ``signal`` (Celery keeps weak=False receivers as they are)."""
    for _key, receiver in signal.receivers:
        if isinstance(receiver, weakref.ReferenceType):
            receiver = receiver()
        if receiver is handler:
            return True
    return False


@pytest.fixture
def worker_started():
    """What ``worker_init`` does to this module's app; the per-task handlers come back after."""
    from types import SimpleNamespace

    from async_guard import celery as hook

    hook.on_worker_init(sender=SimpleNamespace(app=app))
    hook.on_worker_started()
    try:
        yield hook
    finally:
        hook.connect()
        hook._worker_apps.clear()


def test_named_task_attributes_a_late_coroutine_to_itself(worker_started, guard_events):
    from types import SimpleNamespace

    hook = worker_started
    hook.on_worker_init(sender=SimpleNamespace(app=app))  # idempotent
    assert getattr(leave_pending.run, hook.NAMED_MARK)
    assert hook.coroutine_task(async_task)
    result = leave_pending.apply()
    import async_guard

    for n in range(40):  # more than the origin-length ring holds
        with async_guard.watch(f"between-{n}"):
            pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _pending.clear()
    assert codes(guard_events) == ["AGR106"]
    assert guard_events[0]["unit"] == f"runtime.leave_pending[{result.id}]"
    assert guard_events[0]["where"]["function"] == "leave_pending"


def test_in_a_worker_each_task_is_its_own_unit_without_the_signals(worker_started, guard_events):
    from celery import signals

    hook = worker_started
    for signal, handler in (
        (signals.task_prerun, hook.on_task_prerun),
        (signals.task_postrun, hook.on_task_postrun),
        (signals.task_failure, hook.on_task_failure),
    ):
        assert not connected(signal, handler)
    result = bad_save.apply(args=("w1",))
    assert result.successful()
    assert codes(guard_events) == ["AGR101", "AGR107"]
    assert guard_events[0]["unit"] == f"runtime.bad_save[{result.id}]"
    guard_events.clear()
    assert sync_orm_in_async.apply().failed()
    assert codes(guard_events) == ["AGR108"]
    guard_events.clear()
    assert_async_task_is_caught(guard_events)
    guard_events.clear()
    assert returns_a_coroutine.apply().successful()
    assert codes(guard_events)[:1] == ["AGR105"]


@app.task(name="runtime.loop_left_open", shared=False)
def loop_left_open() -> None:
    _loops.append(asyncio.new_event_loop())


@app.task(name="runtime.returns_a_coroutine", shared=False)
def returns_a_coroutine():  # type: ignore[no-untyped-def]
    coroutine = programs.fetch_quote()
    coroutine.close()  # closed, so no AGR106: only what Celery got back counts
    return coroutine


_loops: list = []


def test_in_a_worker_raise_mode_fails_the_task_at_its_end(worker_started, raise_mode):
    from async_guard.errors import AsyncGuardError

    try:
        result = loop_left_open.apply()
    finally:
        for loop in _loops:
            loop.close()
        _loops.clear()
    assert result.failed()
    assert isinstance(result.result, AsyncGuardError) and result.result.code == "AGR102"


@pytest.mark.parametrize("late", ["unwrappable", "registered after worker_init"])
def test_a_task_without_its_own_unit_keeps_the_signals(late):
    from types import SimpleNamespace

    from celery import signals

    from async_guard import celery as hook

    late_app = Celery("async-guard-late-task", set_as_current=False)

    @late_app.task(name="late.first", shared=False)
    def first() -> None:
        pass

    if late == "unwrappable":
        late_app.tasks["late.odd"] = SimpleNamespace(name="late.odd")
    hook.on_worker_init(sender=SimpleNamespace(app=late_app))
    if late != "unwrappable":

        @late_app.task(name="late.second", shared=False)
        def second() -> None:
            pass

    assert connected(signals.task_prerun, hook.on_task_prerun)
    before = len(signals.task_prerun.receivers)
    try:
        hook.on_worker_started()
        assert len(signals.task_prerun.receivers) == before
        assert getattr(first.run, hook.NAMED_MARK)
    finally:
        hook._worker_apps.clear()
