"""Sync tests. test_bad_<code>_* must fail in strict mode with that event; test_good_* pass."""

import asyncio

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


def test_good_awaited():
    assert asyncio.run(signup.fetch_quote()) == 1


def test_bad_agr102_loop_left_open():
    asyncio.new_event_loop()


def test_good_events_taken(async_guard_events, transactional_db):
    with pytest.raises(async_guard.AsyncGuardError):
        signup.signup("frank")
    assert async_guard_events[0]["code"] == "AGR101"
