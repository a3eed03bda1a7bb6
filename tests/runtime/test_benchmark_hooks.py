"""The overhead benchmarks' ``bare`` variant really is the project without the guard's hooks.

``benchmarks/runtime_overhead.py`` and ``benchmarks/channels_overhead.py`` time
the guard against the same process with its hooks removed; a hook that
``ready()`` installs but ``hooks(False)`` leaves in place would be timed on
both sides and vanish from the ratio.
"""

from __future__ import annotations

import asyncio.base_events
import warnings

from django.core.signals import got_request_exception
from django.db.backends.signals import connection_created

from async_guard import channels, middleware
from async_guard.runtime import bridging, db
from benchmarks.runtime_overhead import hooks


def _installed(channels_dispatch: object) -> dict[str, bool]:
    from channels.consumer import AsyncConsumer

    loop = asyncio.base_events.BaseEventLoop
    return {
        "run_in_executor": loop.run_in_executor.__module__ == "async_guard.runtime.loops",
        "loop __init__": loop.__init__.__module__ == "async_guard.runtime.loops",
        "never-awaited hook": warnings._warn_unawaited_coroutine.__module__  # type: ignore[attr-defined]
        == "async_guard.runtime.coroutines",
        "async_to_sync origins": bridging.installed(),
        "channels dispatch": AsyncConsumer.__dict__["dispatch"] is not channels_dispatch,
        "connection_created": any(
            ref() is db.on_connection_created for _key, ref, *_ in connection_created.receivers
        ),
        "got_request_exception": any(
            ref() is middleware.on_request_exception
            for _key, ref, *_ in got_request_exception.receivers
        ),
    }


def test_bare_removes_every_hook_and_guard_puts_them_back():
    assert channels.installed()
    channels_dispatch = channels._originals["async"][1]  # Channels' own
    assert all(_installed(channels_dispatch).values()), _installed(channels_dispatch)
    try:
        hooks(False)
        assert not any(_installed(channels_dispatch).values()), _installed(channels_dispatch)
    finally:
        hooks(True)
    assert all(_installed(channels_dispatch).values()), _installed(channels_dispatch)
