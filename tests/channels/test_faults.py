"""The guard never breaks a consumer: faults injected into the Channels hooks.

Each test makes one internal of the hooks raise, then runs real consumers
through the guard's middleware: every message is still handled, and the
guard logs its own failure once per hook.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest
from django.contrib.auth.models import Group

from async_guard import channels as channels_hook
from async_guard.runtime import events
from async_guard.runtime.state import current_unit
from tests.channels.inprocess import IN_MEMORY, application, converse
from tests.runtime.test_faults import boom, internal_lines

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    monkeypatch.setattr(events, "_failed_hooks", set())
    settings.CHANNEL_LAYERS = IN_MEMORY


def _hooks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return sorted(line.split(" in ", 1)[1].split(":")[0] for line in internal_lines(caplog))


def _every_message_goes_on() -> None:
    for round_no in range(2):
        replies = converse(
            application(),
            f"/ws/sync/fault-{round_no}/",
            {"op": "orm", "name": f"sync-{round_no}"},
            {"op": "group", "group_op": "orm", "name": f"group-{round_no}"},
        )
        assert [reply["op"] for reply in replies] == ["orm", "group"]
        replies = converse(
            application(),
            f"/ws/async/fault-{round_no}/",
            {"op": "sync_to_async", "name": f"async-{round_no}"},
        )
        assert replies == [{"op": "sync_to_async", "done": True}]
    assert Group.objects.count() == 6


def test_unit_start_fault(monkeypatch: pytest.MonkeyPatch, caplog: Any) -> None:
    monkeypatch.setattr(channels_hook, "begin", boom)
    _every_message_goes_on()
    assert _hooks(caplog) == ["channels message start", "channels websocket start"]


def test_label_fault(monkeypatch: pytest.MonkeyPatch, caplog: Any) -> None:
    monkeypatch.setattr(channels_hook, "message_label", boom)
    monkeypatch.setattr(channels_hook, "connection_label", boom)
    _every_message_goes_on()
    assert _hooks(caplog) == ["channels message start", "channels websocket start"]


def test_unit_end_fault(monkeypatch: pytest.MonkeyPatch, caplog: Any) -> None:
    monkeypatch.setattr(channels_hook, "end", boom)
    _every_message_goes_on()
    assert _hooks(caplog) == ["channels message end", "channels websocket end"]
    # The units were left all the same: nothing of them stays on this thread.
    assert sys.get_coroutine_origin_tracking_depth() == 0
    assert current_unit.get() is None


def test_install_fault_leaves_channels_alone(monkeypatch: pytest.MonkeyPatch, caplog: Any) -> None:
    channels_hook.uninstall()
    try:
        with monkeypatch.context() as patch:
            patch.setattr(channels_hook.importlib, "import_module", boom)
            channels_hook.install()
            channels_hook.install()
        assert not channels_hook.installed()
        assert _hooks(caplog) == ["channels install"]
        _every_message_goes_on()
    finally:
        channels_hook.install()


@pytest.mark.slow
def test_broken_hooks_under_a_server_leave_every_message_alone(
    lab_logs: Any, module_db: Any
) -> None:
    """From outside: a real server whose Channels hooks cannot start a unit."""
    from tests.channels.support import channels_env, channels_server, name, talk
    from tests.runtime_integration.support import guard_records

    with module_db():
        env = channels_env("warn", GUARDLAB_FAULTS="async_guard.channels:begin")
    names = [name() for _ in range(4)]
    with channels_server(lab_logs, env) as server:
        sessions = [
            talk(server, "sync", {"op": "asyncio_run", "name": names[0]},
                 {"op": "group", "group_op": "orm", "name": names[1]}),
            talk(server, "async", {"op": "database_sync_to_async", "name": names[2]}),
            talk(server, "async", {"op": "async_orm", "name": names[3]}),
        ]  # fmt: skip
        log = server.log()
    assert [len(session.replies) for session in sessions] == [2, 1, 1]
    assert Group.objects.filter(name__in=names).count() == 4
    internal = [r["message"] for r in guard_records(log) if "internal error" in r["message"]]
    assert sorted(line.split(" in ", 1)[1].split(":")[0] for line in internal) == [
        "channels message start",
        "channels websocket start",
    ]
    assert all(session.events == [] for session in sessions)
