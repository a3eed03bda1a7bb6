"""Requests as units of work, through Django's test client (WSGI) and AsyncClient."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import Group
from django.test import AsyncClient, Client, override_settings

from async_guard import AsyncGuardError
from tests.runtime.conftest import codes

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("tests.runtime.urls"),
]


def test_sync_view_asyncio_run_in_atomic(guard_events):
    response = Client().get("/save-asyncio-run/?name=v1")
    assert response.status_code == 200
    assert codes(guard_events) == ["AGR101", "AGR107"]
    first = guard_events[0]
    assert first["unit"] == "GET /save-asyncio-run/"
    assert first["unit_kind"] == "request"
    assert first["in_atomic_block"] is True
    assert first["level"] == "ERROR"


def test_sync_view_async_to_sync_is_silent(guard_events):
    assert Client().get("/save-async-to-sync/?name=v2").status_code == 200
    assert Client().get("/sync-orm/").status_code == 200
    assert guard_events == []
    assert Group.objects.filter(name="v2").exists()


def test_raise_mode_stops_the_write_and_fails_the_request(raise_mode, guard_events):
    with pytest.raises(AsyncGuardError):
        Client().get("/save-asyncio-run/?name=v3")
    assert not Group.objects.filter(name="v3").exists()


def test_escaped_synchronous_only_operation(guard_events):
    response = Client(raise_request_exception=False).get("/sync-orm-in-async-def/")
    assert response.status_code == 500
    assert codes(guard_events) == ["AGR108"]
    assert guard_events[0]["unit"] == "GET /sync-orm-in-async-def/"


def test_sync_view_returning_a_coroutine(guard_events, monkeypatch):
    import gc
    import logging
    import warnings

    # django.request logs the 500 with its traceback, and pytest keeps that
    # record (and so the coroutine) alive until the test ends.
    monkeypatch.setattr(logging.getLogger("django.request"), "disabled", True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        client = Client(raise_request_exception=False)
        response = client.get("/returns-coroutine/")
        status = response.status_code
        del client, response
        gc.collect()
    assert status == 500
    assert codes(guard_events) == ["AGR105", "AGR106"]
    assert guard_events[0]["unit"] == "GET /returns-coroutine/"


def test_loop_left_open_in_a_view(guard_events):
    assert Client().get("/loop-left-open/").status_code == 200
    assert codes(guard_events) == ["AGR102"]


def test_async_views_and_sync_views_under_the_async_client_are_silent(guard_events):
    async def run() -> list[int]:
        client = AsyncClient()
        return [
            (await client.get("/async-orm/")).status_code,
            (await client.get("/sync-orm/")).status_code,
            (await client.get("/save-async-to-sync/?name=v4")).status_code,
        ]

    assert async_to_sync(run)() == [200, 200, 200]
    assert guard_events == []


def test_mode_off_leaves_requests_alone(settings, guard_events):
    settings.ASYNC_GUARD = {"MODE": "off"}
    assert Client().get("/save-asyncio-run/?name=v5").status_code == 200
    assert guard_events == []


@override_settings(MIDDLEWARE=[])
def test_without_the_middleware_no_unit_no_event(guard_events):
    assert Client().get("/save-asyncio-run/?name=v6").status_code == 200
    assert guard_events == []
