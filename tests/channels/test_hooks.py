"""The Channels hooks in the test process: units, labels, modes, and install/uninstall."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.consumer import AsyncConsumer, SyncConsumer
from django.contrib.auth.models import Group
from django.core.exceptions import SynchronousOnlyOperation

from async_guard import channels as channels_hook
from async_guard.errors import AsyncGuardError
from async_guard.runtime.state import Unit
from tests.channels.inprocess import IN_MEMORY, application, converse
from tests.runtime.conftest import codes

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _layer(settings: Any) -> None:
    settings.CHANNEL_LAYERS = IN_MEMORY


def test_installed_in_ready() -> None:
    assert channels_hook.installed()
    assert hasattr(AsyncConsumer.__dict__["dispatch"], "__wrapped__")
    assert hasattr(SyncConsumer.__dict__["dispatch"].func, "__wrapped__")


def test_handlers_and_group_messages_are_units(guard_events: list[dict[str, Any]]) -> None:
    replies = converse(
        application(),
        "/ws/sync/units/",
        {"op": "orm", "name": "in-1"},
        {"op": "group", "group_op": "loop_open", "name": ""},
    )
    assert [reply["op"] for reply in replies] == ["orm", "group"]
    assert [(e["code"], e["unit"], e["unit_kind"]) for e in guard_events] == [
        ("AGR102", "SyncLab.lab_message /ws/sync/units/", "message")
    ]
    assert Group.objects.filter(name="in-1").exists()


def test_async_handler_is_an_async_unit(guard_events: list[dict[str, Any]]) -> None:
    replies = converse(
        application(),
        "/ws/async/units/",
        {"op": "database_sync_to_async", "name": "in-2"},
        {"op": "asyncio_run", "name": "in-3"},
    )
    assert len(replies) == 2
    assert ("AGR101", "AsyncLab.websocket_receive /ws/async/units/") in [
        (e["code"], e["unit"]) for e in guard_events
    ]
    assert set(codes(guard_events)) <= {"AGR101", "AGR107"}


def test_raise_mode_fails_the_sync_handler(settings: Any) -> None:
    settings.ASYNC_GUARD = {"MODE": "raise"}
    with pytest.raises(AsyncGuardError) as info:
        converse(application(), "/ws/sync/raise/", {"op": "asyncio_run", "name": "in-4"})
    assert info.value.code == "AGR101"
    assert not Group.objects.filter(name="in-4").exists()


def test_mode_off_starts_no_unit(settings: Any, guard_events: list[dict[str, Any]]) -> None:
    settings.ASYNC_GUARD = {"MODE": "off"}
    converse(application(), "/ws/sync/off/", {"op": "asyncio_run", "name": "in-5"})
    converse(application(), "/ws/async/off/", {"op": "asyncio_run", "name": "in-6"})
    assert guard_events == []
    assert Group.objects.filter(name__in=["in-5", "in-6"]).count() == 2


def test_other_scopes_pass_through() -> None:
    seen = []

    async def inner(scope: Any, receive: Any, send: Any) -> str:
        seen.append(scope["type"])
        return "inner"

    app = channels_hook.guard(inner)
    assert async_to_sync(app)({"type": "http", "path": "/"}, None, None) == "inner"
    assert seen == ["http"]


def _label(consumer: Any, message: Any) -> str:
    """The message unit's label as an event reads it (joined from its parts)."""
    return Unit("message", channels_hook.message_label(consumer, message), True).label


def test_message_label() -> None:
    class Chat(AsyncConsumer):
        pass

    consumer = Chat()
    assert _label(consumer, {"type": "chat.message"}) == "Chat.chat_message"
    consumer.scope = {"path": "/ws/chat/"}
    assert _label(consumer, {"type": "websocket.receive"}) == "Chat.websocket_receive /ws/chat/"


def test_a_message_label_keeps_no_part_of_the_message_and_joins_once() -> None:
    class Chat(AsyncConsumer):
        scope = {"path": "/ws/chat/"}

    message = {"type": "chat.message", "text": "x" * 10_000}
    parts = channels_hook.message_label(Chat(), message)
    assert message not in parts and message["text"] not in parts
    unit = Unit("message", parts, True)
    assert unit.label == "Chat.chat_message /ws/chat/"
    assert unit.label is unit.label  # joined at the first read, then kept


def test_uninstall_restores_channels_own_dispatch() -> None:
    guarded = (AsyncConsumer.__dict__["dispatch"], SyncConsumer.__dict__["dispatch"])
    originals = {key: value[1] for key, value in channels_hook._originals.items()}
    channels_hook.uninstall()
    try:
        assert not channels_hook.installed()
        assert AsyncConsumer.__dict__["dispatch"] is originals["async"]
        assert SyncConsumer.__dict__["dispatch"] is originals["sync"]
        assert not hasattr(originals["async"], "__wrapped__")
    finally:
        channels_hook.install()
    channels_hook.install()  # idempotent
    assert channels_hook.installed()
    assert AsyncConsumer.__dict__["dispatch"] is not guarded[0]
    assert SyncConsumer.__dict__["dispatch"] is not guarded[1]


def test_raise_mode_end_of_unit_event_fails_the_handler(settings: Any) -> None:
    settings.ASYNC_GUARD = {"MODE": "raise"}
    with pytest.raises(AsyncGuardError) as info:
        converse(application(), "/ws/sync/raise-end/", {"op": "loop_open"})
    assert info.value.code == "AGR102"


def test_raise_mode_sync_unit_started_on_a_loop(settings: Any) -> None:
    settings.ASYNC_GUARD = {"MODE": "raise"}

    async def on_the_loop() -> None:
        channels_hook.start("message", False, str, "handler")

    with pytest.raises(AsyncGuardError) as info:
        async_to_sync(on_the_loop)()
    assert info.value.code == "AGR104"


def test_connection_unit_diagnoses_what_escapes_it(guard_events: list[dict[str, Any]]) -> None:
    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        Group.objects.exists()  # the sync ORM in async code, outside any consumer

    app = channels_hook.guard(middleware)
    with pytest.raises(SynchronousOnlyOperation):
        async_to_sync(app)({"type": "websocket", "path": "/ws/mw/"}, None, None)
    assert [(e["code"], e["unit"], e["unit_kind"]) for e in guard_events] == [
        ("AGR108", "websocket /ws/mw/", "websocket")
    ]


def test_shared_thread_deadlock_is_diagnosed() -> None:
    from async_guard.runtime import diagnosis

    found = diagnosis.classify(
        RuntimeError("Single thread executor already being used, would deadlock")
    )
    assert found is not None and found[0] == "AGR108" and "async_to_sync" in found[1]


def test_message_label_names_the_handler_and_the_path() -> None:
    class ChatConsumer:
        scope = {"path": "/ws/chat/"}

    assert _label(ChatConsumer(), {"type": "chat.message"}) == (
        "ChatConsumer.chat_message /ws/chat/"
    )
    assert _label(ChatConsumer(), {}) == "ChatConsumer. /ws/chat/"
