"""Celery's eager mode and pytest-django's live_server."""

import urllib.error
import urllib.request

import pytest
from django.contrib.auth.models import Group
from shop import tasks

from async_guard.runtime.state import current_unit


@pytest.mark.django_db(transaction=True)
def test_good_eager_task():
    test = current_unit.get()
    assert tasks.join.delay("t1").successful()
    # The task was a unit nested in the test's, which is current again.
    assert current_unit.get() is test is not None
    assert Group.objects.filter(name="t1").exists()


@pytest.mark.django_db(transaction=True)
def test_bad_agr101_eager_task():
    tasks.join_badly.delay("t2")


def test_good_live_server(live_server):
    with urllib.request.urlopen(f"{live_server.url}/groups/", timeout=30) as response:
        assert response.read() == b"0"


def test_bad_agr101_live_server(live_server):
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"{live_server.url}/join/?name=x", timeout=30)
