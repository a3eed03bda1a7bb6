"""AGR101 (a query on another thread) and AGR107 (its connection left open)."""

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
    assert "outside your transaction" in record.getMessage()
    data = record.async_guard
    assert data["code"] == "AGR101"
    assert data["in_atomic_block"] is True
    assert data["unit"] == "lost-write"
    assert data["thread"] != data["owner_thread"]
    assert data["db_alias"] == "default"
    assert "INSERT" in data["sql"] and "g1" not in data["sql"]
    assert data["where"]["file"].endswith("programs.py")
    leak = next(r for r in caplog.records if r.getMessage().startswith("AGR107"))
    assert leak.levelno == logging.WARNING
    assert leak.async_guard["db_alias"] == "default"


def test_the_lost_write_survives_the_callers_rollback(guard_events):
    programs.roll_back_after("asyncio.run", "escaped")
    assert Group.objects.filter(name="escaped").exists()  # the harm the event names
    assert "AGR101" in codes(guard_events)


def test_async_to_sync_write_rolls_back_with_the_caller(guard_events):
    programs.roll_back_after("async_to_sync", "kept-inside")
    assert not Group.objects.filter(name="kept-inside").exists()
    assert guard_events == []


def test_raise_mode_stops_the_write(raise_mode, guard_events):
    with pytest.raises(AsyncGuardError) as info:
        programs.lost_write_asyncio_run("g2")
    assert info.value.code == "AGR101"
    assert not Group.objects.filter(name="g2").exists()
    # The connection was opened before the query was stopped: still a leak.
    assert codes(guard_events) == ["AGR101", "AGR107"]


def test_async_to_sync_twin_is_silent(guard_events):
    programs.write_async_to_sync("g3")
    assert guard_events == []
    assert Group.objects.filter(name="g3").exists()


def test_outside_a_unit_nothing_is_checked(guard_events):
    import asyncio

    asyncio.run(programs.save_group("no-unit"))
    assert guard_events == []


def test_logged_once_per_unit_but_again_in_the_next_unit(guard_events):
    import asyncio

    import async_guard

    with async_guard.watch("twice"):
        asyncio.run(programs.save_group("a"))
        asyncio.run(programs.save_group("b"))
    assert codes(guard_events).count("AGR101") == 1
    programs.lost_write_asyncio_run("c")
    assert codes(guard_events).count("AGR101") == 2


def test_per_check_override_turns_one_event_off(settings, guard_events):
    settings.ASYNC_GUARD = {"MODE": "raise", "EVENT_MODES": {"AGR101": "off", "AGR107": "warn"}}
    programs.lost_write_asyncio_run("g4")
    assert codes(guard_events) == ["AGR107"]
    assert Group.objects.filter(name="g4").exists()


@pytest.mark.parametrize(
    "entry",
    ["tests.runtime.programs.save_group", "tests/runtime/programs.py:{line}", "programs.py:{line}"],
)
def test_allow_list_drops_the_call_site(settings, guard_events, entry):
    import inspect

    source, first = inspect.getsourcelines(programs.save_group)
    line = first + next(i for i, text in enumerate(source) if "sync_to_async" in text)
    settings.ASYNC_GUARD = {"MODE": "raise", "ALLOW": [entry.format(line=line)]}
    programs.lost_write_asyncio_run("allowed")
    assert "AGR101" not in codes(guard_events)


def test_mode_off_creates_no_unit(settings, guard_events):
    from async_guard.runtime.state import current_unit

    settings.ASYNC_GUARD = {"MODE": "off"}
    import async_guard

    with async_guard.watch("off"):
        assert current_unit.get() is None
    programs.lost_write_asyncio_run("off")
    assert guard_events == []
