"""Sync tests. test_bad_<code>_* must fail in strict mode with that event; test_good_* pass."""

import asyncio
import gc

import pytest
from django.contrib.auth.models import Group
from shop import signup

import async_guard


@pytest.mark.django_db(transaction=True)
def test_bad_agr101_signup():
    signup.signup("alice")


@pytest.mark.django_db(transaction=True)
def test_good_signup_bridged():
    signup.signup_bridged("bob")
    assert Group.objects.filter(name="bob").exists()


def test_bad_agr101_inside_the_db_transaction(db):
    signup.signup("carol")


def test_good_inside_the_db_transaction(db):
    signup.signup_bridged("dave")
    assert Group.objects.filter(name="dave").exists()


def test_bad_agr101_swallowed(transactional_db):
    try:
        signup.signup("erin")
    except Exception:
        pass


def test_bad_agr106_dropped():
    signup.refresh_quotes()


def test_bad_agr106_in_a_cycle():
    holder = [signup.fetch_quote()]
    holder.append(holder)


def test_bad_agr106_in_an_aged_cycle():
    holder = [signup.fetch_quote()]
    holder.append(holder)
    # Python collects its middle generation while these are made: the cycle,
    # alive then, moves to the oldest, which only a full collection looks at.
    made = [[] for _ in range(30_000)]
    del holder
    assert len(made) == 30_000


_aged: list[object] = []


def test_good_keeps_a_coroutine_past_its_end():
    # No event here: the coroutine is alive when the test ends.
    holder = [signup.fetch_quote()]
    holder.append(holder)
    _aged.append(holder)


def test_good_not_failed_for_an_earlier_tests_coroutine():
    # The cycle above is collected here; its event names the test that made it.
    _aged.clear()
    gc.collect()


def test_good_awaited():
    assert asyncio.run(signup.fetch_quote()) == 1


def test_bad_agr102_loop_left_open():
    asyncio.new_event_loop()


def test_good_events_taken(async_guard_events, transactional_db):
    with pytest.raises(async_guard.AsyncGuardError):
        signup.signup("frank")
    assert async_guard_events[0]["code"] == "AGR101"
