"""Channels consumers under a real server (uvicorn) and a real WebSocket client.

One server in ``warn`` mode serves the whole module; every test opens its own
connections (a fresh path each) and reads the events of their units from the
server's log. A second server runs in ``raise`` mode.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group

from tests.channels.support import Session, channels_env, channels_server, name, talk
from tests.support.processes import Process

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def server(lab_logs: Path, module_db: Callable[[], Any]) -> Iterator[Process]:
    with module_db():
        env = channels_env("warn")
    with channels_server(lab_logs, env) as process:
        yield process


def units(session: Session, code: str) -> list[tuple[str, str]]:
    return [(e.unit, e["unit_kind"]) for e in session.events if e.code == code]


def saved(*names: str) -> set[str]:
    return set(Group.objects.filter(name__in=names).values_list("name", flat=True))


def test_asyncio_run_in_a_sync_handler_is_agr101(server: Process) -> None:
    first, second = name(), name()
    session = talk(server, "sync", {"op": "asyncio_run", "name": first},
                   {"op": "asyncio_run", "name": second})  # fmt: skip
    assert [reply["done"] for reply in session.replies] == [True, True]
    handler = f"SyncLab.websocket_receive {session.path}"
    # Each message is a unit of its own: the event is logged for each.
    assert units(session, "AGR101") == [(handler, "message")] * 2
    agr101 = next(e for e in session.events if e.code == "AGR101")
    assert agr101["where"]["file"].endswith("tests/channels/consumers.py")
    assert agr101["owner_thread"] != agr101["thread"]
    # The connection it opened on the loop's pool thread outlives the handler.
    assert set(session.codes) <= {"AGR101", "AGR107"}
    assert saved(first, second) == {first, second}  # warn mode: logged, not stopped


def test_correct_sync_handlers_are_not_flagged(server: Process) -> None:
    names = [name() for _ in range(3)]
    session = talk(
        server,
        "sync",
        {"op": "orm", "name": names[0]},
        {"op": "async_to_sync", "name": names[1]},
        {"op": "group", "group_op": "async_to_sync", "name": names[2]},
    )
    assert [reply["op"] for reply in session.replies] == ["orm", "async_to_sync", "group"]
    assert session.events == []
    assert saved(*names) == set(names)


def test_a_group_message_is_a_unit_of_its_own(server: Process) -> None:
    session = talk(server, "sync", {"op": "group", "group_op": "asyncio_run", "name": name()})
    assert session.replies == [{"op": "group", "done": True}]
    assert units(session, "AGR101") == [(f"SyncLab.lab_message {session.path}", "message")]


def test_loop_checks_apply_to_sync_handlers(server: Process) -> None:
    session = talk(server, "sync", {"op": "loop_open"}, {"op": "closed_loop_current"})
    assert len(session.replies) == 2
    handler = f"SyncLab.websocket_receive {session.path}"
    assert units(session, "AGR102") == [(handler, "message")]
    assert units(session, "AGR103") == [(handler, "message")]
    assert sorted(session.codes) == ["AGR102", "AGR103"]


@pytest.mark.parametrize(
    ("kind", "op"),
    [
        ("async", "database_sync_to_async"),
        ("async", "sync_to_async"),
        ("async", "async_orm"),
        ("text", "sync_to_async"),
        ("raw", "database_sync_to_async"),
    ],
)
def test_async_consumers_bridging_correctly_are_not_flagged(
    server: Process, kind: str, op: str
) -> None:
    first, second = name(), name()
    session = talk(server, kind, {"op": op, "name": first}, {"op": op, "name": second})
    assert len(session.replies) == 2 and session.closed is None
    assert session.events == []
    assert saved(first, second) == {first, second}


def test_group_message_of_an_async_consumer(server: Process) -> None:
    group_name = name()
    session = talk(
        server, "async", {"op": "group", "group_op": "database_sync_to_async", "name": group_name}
    )
    assert session.replies == [{"op": "group", "done": True}]
    assert session.events == []
    assert saved(group_name) == {group_name}


def test_asyncio_run_under_an_async_handler_is_agr101(server: Process) -> None:
    session = talk(server, "async", {"op": "asyncio_run", "name": name()})
    assert session.replies == [{"op": "asyncio_run", "done": True}]
    handler = f"AsyncLab.websocket_receive {session.path}"
    assert units(session, "AGR101") == [(handler, "message")]
    assert set(session.codes) <= {"AGR101", "AGR107"}


def test_sync_orm_in_an_async_handler_is_diagnosed_once(server: Process) -> None:
    session = talk(server, "async", {"op": "sync_orm", "name": name()})
    assert session.replies == [] and session.closed is not None  # the server dropped it
    # The exception ends the connection too; it is diagnosed by the handler's unit only.
    assert units(session, "AGR108") == [(f"AsyncLab.websocket_receive {session.path}", "message")]
    assert session.codes == ["AGR108"]


def test_the_connection_is_a_unit(server: Process) -> None:
    session = talk(server, "bad-middleware", {"op": "sync_to_async", "name": name()})
    assert session.refused == 500
    assert units(session, "AGR108") == [(f"websocket {session.path}", "websocket")]


def test_raise_mode_fails_the_handler_before_the_write(
    lab_logs: Path, module_db: Callable[[], Any]
) -> None:
    with module_db():
        env = channels_env("raise")
    bad, good = name(), [name() for _ in range(3)]
    with channels_server(lab_logs, env) as raising:
        failed = talk(raising, "sync", {"op": "orm", "name": good[0]},
                      {"op": "asyncio_run", "name": bad})  # fmt: skip
        async_ok = talk(raising, "async", {"op": "database_sync_to_async", "name": good[1]},
                        {"op": "sync_to_async", "name": good[2]})  # fmt: skip
        log = raising.log()
    assert failed.replies == [{"op": "orm", "done": True}]
    assert failed.closed is not None
    assert "AsyncGuardError: AGR101" in log
    assert units(failed, "AGR101") == [(f"SyncLab.websocket_receive {failed.path}", "message")]
    assert len(async_ok.replies) == 2 and async_ok.events == []
    assert saved(bad, *good) == set(good)


def test_asyncio_run_over_thread_sensitive_work_in_a_sync_handler(server: Process) -> None:
    """On asgiref's shared thread, which runs sync handlers under a server, asgiref
    refuses the nested thread-sensitive call at once; the guard explains it."""
    session = talk(server, "sync", {"op": "asyncio_run_thread_sensitive", "name": name()})
    assert session.replies == [] and session.closed is not None
    assert units(session, "AGR108") == [(f"SyncLab.websocket_receive {session.path}", "message")]
    (agr108,) = session.events
    assert "would deadlock" in agr108.message and "async_to_sync" in agr108.message
    assert agr108["where"]["file"].endswith("tests/channels/consumers.py")
