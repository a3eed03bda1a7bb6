"""What does the guard cost a Channels consumer? A message round trip, with and without it.

Usage (from the repository root, in the virtualenv)::

    python benchmarks/channels_overhead.py                 # print the table
    python benchmarks/channels_overhead.py --write-docs    # and update docs/performance.md
    python benchmarks/channels_overhead.py --processes 6   # every round in 6 fresh processes

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

A ratio measured in one process carries where that process's objects landed
in memory, which favours one variant by a few points, differently in each
process (as in ``runtime_overhead.py``). ``--processes N`` runs every round in
N fresh child processes, one after another; the table's medians are over all
of their rounds, and each process's own ratios are printed below it.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.docs_section import write_section
from benchmarks.runtime_overhead import check_processes, hooks, machine, paired_ratio, spread

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


def run_processes(rounds: int, batch: int, processes: int) -> tuple[Times, list[Times]]:
    """``measure`` in ``processes`` fresh children, one after another: pooled, and each one's."""
    pooled: Times = {}
    each: list[Times] = []
    for _ in range(processes):
        done = subprocess.run(
            [sys.executable, __file__, "--child", "--rounds", str(rounds), "--batch", str(batch)],
            capture_output=True, text=True, timeout=3600,
        )  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(
                f"channels_overhead.py: child process {len(each) + 1} of {processes} exited "
                f"with {done.returncode}:\n{done.stderr[-2000:]}"
            )
        times: Times = {}
        # The last line: Django or a library may print before the child's result.
        for key, value in json.loads(done.stdout.splitlines()[-1]).items():
            consumer, variant, clock = key.split("/")
            times[(consumer, variant, clock)] = value
        each.append(times)
        for key, value in times.items():
            pooled.setdefault(key, []).extend(value)
    return pooled, each


def per_process(each: list[Times]) -> str:
    """Each process's own wall-clock ratio per consumer, and their median."""
    return "\n".join(
        spread(
            f"{consumer} consumer",
            [(t[(consumer, "guard", "wall")], t[(consumer, "bare", "wall")]) for t in each],
        )
        for consumer in CONSUMERS
    )


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


def describe(
    rounds: int, batch: int, where: str, seconds: float, command: str, processes: int = 1
) -> str:
    """The section's opening paragraph: when, where, how."""
    within = (
        "one process"
        if processes == 1
        else f"each of {processes} processes started one after another, pooled"
    )
    return (
        f"Measured {datetime.date.today().isoformat()} on {where}, in {seconds:.0f} s, "
        f"with `{command}`: {rounds} rounds of {batch} round trips per consumer, guard "
        f"and bare back to back in alternating order in {within} (the guard's hooks "
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
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        metavar="N",
        help="fresh child processes, one after another, each running every round (default 1: "
        "this process)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--write-docs", action="store_true", help=f"update {SECTION!r}")
    args = parser.parse_args(argv)
    check_processes(parser, args.processes)
    if args.child:
        times = asyncio.run(measure(args.rounds, args.batch))
        print(json.dumps({"/".join(key): value for key, value in times.items()}))
        return 0
    where = machine()
    started = time.monotonic()
    each: list[Times] = []
    if args.processes == 1:
        times = asyncio.run(measure(args.rounds, args.batch))
    else:
        times, each = run_processes(args.rounds, args.batch, args.processes)
    flags = " ".join(argv if argv is not None else sys.argv[1:])
    command = f"python benchmarks/channels_overhead.py {flags}".strip()
    opening = describe(
        args.rounds, args.batch, where, time.monotonic() - started, command, args.processes
    )
    text = f"{SECTION}\n\n{opening}\n\n{table(times)}\n"
    if each:
        text += f"\n{per_process(each)}\n"
    print(text)
    if args.write_docs:
        write_section(SECTION, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
