"""The Channels lab under a real server (uvicorn), driven by a real WebSocket client.

The server runs ``tests.channels.asgi:application`` with ``tests.channels.settings``
on the current test database; its log holds the guard's JSON events and a
``guardlab-finished websocket <path>`` marker per connection, written once the
connection and every unit in it ended (see ``tests/runtime_integration/support.py``).
"""

from __future__ import annotations

import contextlib
import json
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.runtime_integration.support import Event, Lab
from tests.support.processes import Process, free_port, running, subprocess_env


def channels_env(mode: str = "warn", **extra: str) -> dict[str, str]:
    return subprocess_env(
        DJANGO_SETTINGS_MODULE="tests.channels.settings", ASYNC_GUARD_MODE=mode, **extra
    )


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/health/", timeout=1.0) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextlib.contextmanager
def channels_server(log_dir: Path, env: dict[str, str]) -> Iterator[Process]:
    port = free_port()
    cmd = [
        sys.executable, "-m", "uvicorn", "tests.channels.asgi:application",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "info",
        "--lifespan", "off",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with running("uvicorn-channels", cmd, env=env, log_dir=log_dir, ready=lambda p: _up(url)) as p:
        p.info["ws"] = f"ws://127.0.0.1:{port}"
        yield p


@dataclass
class Session:
    """One WebSocket connection: the replies to its commands and how it ended."""

    path: str
    replies: list[Any] = field(default_factory=list)
    closed: int | None = None  # the close code, when the server ended the connection
    refused: int | None = None  # the HTTP status, when the handshake was refused
    events: list[Event] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        return [event.code for event in self.events]


def talk(server: Process, kind: str, *commands: dict[str, Any]) -> Session:
    """Open ``/ws/<kind>/<fresh tag>/``, send each command, read each reply, close.

    Waits until the connection's marker is in the log, then collects the events
    of every unit of the connection (their labels carry its unique path).
    """
    session = Session(f"/ws/{kind}/{uuid.uuid4().hex[:10]}/")
    try:
        with connect(server.info["ws"] + session.path, open_timeout=20) as ws:
            for command in commands:
                ws.send(json.dumps(command))
                session.replies.append(json.loads(ws.recv(timeout=30)))
    except ConnectionClosed as closed:
        session.closed = closed.rcvd.code if closed.rcvd is not None else 1006
    except InvalidStatus as refused:
        session.refused = refused.response.status_code
    lab = Lab(server)
    lab.wait_finished([f"websocket {session.path}"])
    session.events = lab.events_of(session.path)
    return session


def name() -> str:
    """A fresh ``Group`` name for a command to write."""
    return f"ws-{uuid.uuid4().hex[:12]}"
