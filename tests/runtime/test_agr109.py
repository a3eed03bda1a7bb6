"""AGR109: a call that waits for the very thread that waits for it.

Both real shapes: a sync view under ASGI (Django's request executor has one
thread, busy running the view) and sync code inside ``async_to_sync`` (the
outer CurrentThreadExecutor's thread is the caller's own).
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.test import override_settings

import async_guard
from async_guard import AsyncGuardError
from tests.runtime import programs
from tests.runtime.conftest import codes

pytestmark = pytest.mark.django_db(transaction=True)


async def _outer(func) -> None:
    await sync_to_async(func)()


def test_current_thread_executor_shape(guard_events):
    # asgiref itself refuses this submission; the guard explains it first.
    with (
        async_guard.watch("outer"),
        pytest.raises(RuntimeError, match="CurrentThreadExecutor from its own thread"),
    ):
        async_to_sync(_outer)(programs.nested_loop_touching_orm)
    assert "AGR109" in codes(guard_events)
    event = next(e for e in guard_events if e["code"] == "AGR109")
    assert event["where"]["function"] == "save_group"


def test_current_thread_executor_shape_raise_mode(raise_mode):
    with async_guard.watch("outer"), pytest.raises(AsyncGuardError) as info:
        async_to_sync(_outer)(programs.nested_loop_touching_orm)
    assert info.value.code == "AGR109"


def test_bridged_twin_is_silent(guard_events):
    with async_guard.watch("outer"):
        async_to_sync(_outer)(programs.sync_code_bridged_back)
    assert guard_events == []


def _asgi_get(path: str) -> dict:
    """One request through Django's real ASGI handler, in a thread bounded in time."""
    messages: list[dict] = []
    outcome: dict = {}

    received: list[bool] = []

    async def receive() -> dict:
        if not received:
            received.append(True)
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects
        raise AssertionError("unreachable")

    async def send(message: dict) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }

    def run() -> None:
        try:
            asyncio.run(ASGIHandler()(scope, receive, send))
        except BaseException as exc:  # pragma: no cover - reported below
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the ASGI request hung"
    assert "error" not in outcome, outcome
    start = next(m for m in messages if m["type"] == "http.response.start")
    return {"status": start["status"]}


@override_settings(ROOT_URLCONF="tests.runtime.urls", DEBUG_PROPAGATE_EXCEPTIONS=False)
def test_asgi_sync_view_asyncio_run_orm_raises_instead_of_hanging(raise_mode, guard_events):
    assert _asgi_get("/nested-loop/")["status"] == 500
    assert "AGR109" in codes(guard_events)
    event = next(e for e in guard_events if e["code"] == "AGR109")
    assert event["unit"] == "GET /nested-loop/"


@override_settings(ROOT_URLCONF="tests.runtime.urls")
def test_asgi_correct_views_are_silent(guard_events):
    assert _asgi_get("/sync-orm/")["status"] == 200
    assert _asgi_get("/async-orm/")["status"] == 200
    assert _asgi_get("/save-async-to-sync/")["status"] == 200
    assert guard_events == []
