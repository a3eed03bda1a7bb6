from __future__ import annotations

import logging

import pytest
from django.contrib.auth.models import Group

from async_guard import AsyncGuardError
from tests.runtime import programs
from tests.runtime.conftest import codes

pytestmark = pytest.mark.django_db(transaction=True)


def test_asyncio_run_in_atomic_is_an_error_with_the_transaction_state(guard_events, caplog):
    caplog.set_level(logging.WARNING, logger="async_guard")
    programs.lost_write_asyncio_run("g1")
    assert codes(guard_events) == ["AGR101", "AGR107"]
    record = next(r for r in caplog.records if r.getMessage().startswith("AGR101"))
    assert record.levelno == logging.ERROR
    data = record.async_guard
    assert data["in_atomic_block"] is True
    assert data["unit"] == "lost-write"
    assert data["thread"] != data["owner_thread"]
    assert data["db_alias"] == "default"
    assert "INSERT" in data["sql"] and "g1" not in data["sql"]
    assert data["where"]["file"].endswith("programs.py")


def test_raise_mode_stops_the_write(raise_mode, guard_events):
    with pytest.raises(AsyncGuardError) as info:
        programs.lost_write_asyncio_run("g2")
    assert info.value.code == "AGR101"
    assert not Group.objects.filter(name="g2").exists()


def test_async_to_sync_twin_is_silent(guard_events):
    programs.write_async_to_sync("g3")
    assert guard_events == []
    assert Group.objects.filter(name="g3").exists()
