"""What does the guard cost a Channels consumer? A message round trip, with and without it.

Usage (from the repository root, in the virtualenv)::

    python benchmarks/channels_overhead.py                 # print the table
    python benchmarks/channels_overhead.py --write-docs    # and update docs/performance.md

One process, one event loop, the whole Channels stack: a ``ProtocolTypeRouter``
routing WebSocket connections to an echo consumer, driven through asgiref's
``ApplicationCommunicator`` (the ASGI messages a server would send, without the
network). A round trip is one ``websocket.receive`` in and the consumer's
``websocket.send`` out. Two consumers: an ``AsyncWebsocketConsumer`` (each
message an async unit) and a sync ``WebsocketConsumer`` (each message a sync
unit on asgiref's thread, which Channels reaches through ``database_sync_to_async``).

Variants, alternating round by round in the same process:

- ``guard``: the router wrapped in ``AsyncGuardChannelsMiddleware``, the
  consumers' ``dispatch`` hooks, the loop and coroutine hooks installed, ``MODE=warn``;
- ``bare``: the same router with every one of those hooks removed.

Each round times a batch of round trips on one connection per variant; the
table gives the median time per round trip and the median of the rounds' own
guard / bare ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.docs_section import write_section
from benchmarks.runtime_overhead import hooks, machine, paired_ratio

SECTION = "## Channels overhead"
GOAL = "<= 1.05x"
CONSUMERS = ("async", "sync")


def setup() -> dict[str, Any]:
    """Django and the two routers (``guard`` and ``bare``) around the echo consumers."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
    os.environ["ASYNC_GUARD_MODE"] = "warn"
    os.environ["DATABASE_URL"] = "sqlite://:memory:"
    import django

    django.setup()
    from channels.generic.websocket import AsyncWebsocketConsumer, WebsocketConsumer
    from channels.routing import ProtocolTypeRouter, URLRouter
    from django.urls import path

    from async_guard.channels import AsyncGuardChannelsMiddleware

    class AsyncEcho(AsyncWebsocketConsumer):
        async def receive(self, text_data: Any = None, bytes_data: Any = None) -> None:
            await self.send(text_data=text_data)

    class SyncEcho(WebsocketConsumer):
        def receive(self, text_data: Any = None, bytes_data: Any = None) -> None:
            self.send(text_data=text_data)

    router = ProtocolTypeRouter(
        {
            "websocket": URLRouter(
                [path("async/", AsyncEcho.as_asgi()), path("sync/", SyncEcho.as_asgi())]
            )
        }
    )
    return {"guard": AsyncGuardChannelsMiddleware(router), "bare": router}


async def round_trips(app: Any, consumer: str, count: int) -> tuple[float, float]:
    """Seconds per round trip over ``count`` messages on one connection: wall, and CPU.

    CPU time is the process's (every thread): what the round trips cost this
    process, whatever else the machine runs meanwhile.
    """
    from asgiref.testing import ApplicationCommunicator

    scope = {"type": "websocket", "path": f"/{consumer}/", "headers": [],
             "query_string": b"", "subprotocols": []}  # fmt: skip
    communicator = ApplicationCommunicator(app, scope)
    await communicator.send_input({"type": "websocket.connect"})
    assert (await communicator.receive_output(10))["type"] == "websocket.accept"
    text = json.dumps({"op": "echo"})
    cpu = time.process_time()
    start = time.perf_counter()
    for _ in range(count):
        await communicator.send_input({"type": "websocket.receive", "text": text})
        reply = await communicator.receive_output(10)
        assert reply["text"] == text, reply
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    await communicator.send_input({"type": "websocket.disconnect", "code": 1000})
    await communicator.wait(10)
    return seconds / count, cpu / count


Times = dict[tuple[str, str, str], list[float]]


async def measure(rounds: int, batch: int) -> Times:
    apps = setup()
    times: Times = {}
    for consumer in CONSUMERS:  # warm-up: imports, the executor thread, first connections
        for variant in apps:
            hooks(variant == "guard")
            await round_trips(apps[variant], consumer, batch)
    for round_no in range(rounds):
        for consumer in CONSUMERS:
            order = ["guard", "bare"] if round_no % 2 == 0 else ["bare", "guard"]
            for variant in order:
                hooks(variant == "guard")
                wall, cpu = await round_trips(apps[variant], consumer, batch)
                times.setdefault((consumer, variant, "wall"), []).append(wall)
                times.setdefault((consumer, variant, "cpu"), []).append(cpu)
    hooks(True)
    return times


def table(times: Times) -> str:
    names = {
        "async": "AsyncWebsocketConsumer echo",
        "sync": "WebsocketConsumer (sync) echo",
    }
    lines = [
        "| message round trip | clock | bare | guard | guard - bare | guard / bare | goal |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for consumer in CONSUMERS:
        for clock in ("wall", "cpu"):
            bare, guard = times[(consumer, "bare", clock)], times[(consumer, "guard", clock)]
            lines.append(
                f"| {names[consumer]} | {'wall' if clock == 'wall' else 'CPU (process)'} "
                f"| {statistics.median(bare) * 1e6:.1f} µs "
                f"| {statistics.median(guard) * 1e6:.1f} µs "
                f"| {(statistics.median(guard) - statistics.median(bare)) * 1e6:.1f} µs "
                f"| {paired_ratio(guard, bare):.3f}x | {GOAL if clock == 'wall' else '-'} |"
            )
    return "\n".join(lines)


def describe(rounds: int, batch: int, where: str, seconds: float, command: str) -> str:
    """The section's opening paragraph: when, where, how."""
    return (
        f"Measured {datetime.date.today().isoformat()} on {where}, in {seconds:.0f} s, "
        f"with `{command}`: {rounds} rounds of {batch} round trips per consumer, guard "
        "and bare back to back in alternating order in one process (the guard's hooks "
        "installed and removed between them); a round trip is one `websocket.receive` into "
        "the whole Channels stack (ProtocolTypeRouter, URLRouter, the consumer) and the "
        "consumer's `websocket.send` out, through asgiref's `ApplicationCommunicator`. Times "
        "are medians per round trip, ratios the median of the rounds' own ratios; CPU time "
        "(all threads of the process) is what the round trips cost the process whatever "
        "else runs on the machine."
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30, help="rounds (default 30)")
    parser.add_argument("--batch", type=int, default=500, help="round trips per round")
    parser.add_argument("--write-docs", action="store_true", help=f"update {SECTION!r}")
    args = parser.parse_args(argv)
    where = machine()
    started = time.monotonic()
    times = asyncio.run(measure(args.rounds, args.batch))
    flags = " ".join(argv if argv is not None else sys.argv[1:])
    command = f"python benchmarks/channels_overhead.py {flags}".strip()
    opening = describe(args.rounds, args.batch, where, time.monotonic() - started, command)
    text = f"{SECTION}\n\n{opening}\n\n{table(times)}\n"
    print(text)
    if args.write_docs:
        write_section(SECTION, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
