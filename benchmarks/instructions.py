"""What does the guard cost, in instructions? A count that does not move with the machine's load.

Usage (from the repository root, in the virtualenv, with valgrind installed)::

    python benchmarks/instructions.py                         # every operation
    python benchmarks/instructions.py --op sync_view --count 2000

The timed benchmarks (``runtime_overhead.py``, ``channels_overhead.py``) give
the ratios the goals are written in, but on a shared 2-core machine the same
ratio moves by several points from one run to the next. This one counts the
CPU instructions an operation executes, with and without the guard, under
``valgrind --tool=callgrind``: each variant runs in a process of its own,
once with ``--count`` operations after a warm-up and once with none, and the
difference divided by ``--count`` is the cost of one operation, start-up and
warm-up cancelled out. The count is the same from run to run within a few
tenths of a percent; what it cannot show is the time an instruction takes
(a cache miss costs more than an add), so it complements the clock rather
than replacing it.

Comparing two versions of the code needs more care than repeating a run:
the layout of a process (where its objects land in memory, how its dicts
probe) moves the count too. Three copies of the same code that ran the same
Python calls per request, differing only in one nested function's name or
in how the middleware was built, counted +23.2k, +26.1k and +27.9k per sync
request. A difference of less than about 5k per request between two
versions is not evidence; a folder path of another length moves counts as
well, so compare copies in folders whose paths have the same length.

Operations: ``sync_view`` (a minimal sync view through Django's test client),
``async_view`` (the async view of ``runtime_overhead.py``, through Django's
async test client, its dozen hops to a thread included), ``async_consumer``
and ``sync_consumer`` (an echo round trip through the whole Channels stack,
as ``channels_overhead.py`` drives it). The async view's count moves with
thread scheduling under valgrind, to about 1%; the others stay within a
thousand instructions. ``guard`` has every
hook of async_guard in place, ``bare`` has them removed (the same
``hooks(False)`` as the timed benchmarks).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROOT = Path(__file__).resolve().parents[1]
OPS = ("sync_view", "async_view", "async_consumer", "sync_consumer")
VARIANTS = ("bare", "guard")
WARM_UP = 200
_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def child(op: str, variant: str, count: int) -> int:
    """Run ``WARM_UP`` then ``count`` operations of ``op`` in this process."""
    if op in ("sync_view", "async_view"):
        _view(op, variant, count)
    else:
        _consumer(op.removesuffix("_consumer"), variant, count)
    return 0


def _view(op: str, variant: str, count: int) -> None:
    import asyncio

    os.environ.update(
        DJANGO_SETTINGS_MODULE="settings.guardlab",
        DATABASE_URL="sqlite://:memory:",
        ASYNC_GUARD_MODE="warn",
        GUARDLAB_MARKERS="0",
    )
    import django

    django.setup()
    from django.conf import settings
    from django.test import AsyncClient, Client, override_settings

    from benchmarks.runtime_overhead import ASYNC_VIEW, SYNC_VIEW, hooks

    override_settings(ROOT_URLCONF="benchmarks.overhead_views").enable()
    chain = list(settings.MIDDLEWARE)
    if variant == "bare":
        chain = [m for m in chain if not m.startswith("async_guard.")]
    hooks(variant == "guard")
    with override_settings(MIDDLEWARE=chain):
        if op == "sync_view":
            client = Client()
            for _ in range(WARM_UP + count):
                client.get(SYNC_VIEW)
            return
        async_client = AsyncClient()

        async def requests() -> None:
            for _ in range(WARM_UP + count):
                await async_client.get(ASYNC_VIEW)

        asyncio.run(requests())


def _consumer(consumer: str, variant: str, count: int) -> None:
    import asyncio

    from benchmarks.channels_overhead import round_trips, setup
    from benchmarks.runtime_overhead import hooks

    async def run() -> None:
        apps = setup()
        hooks(variant == "guard")
        await round_trips(apps[variant], consumer, WARM_UP)
        if count:
            await round_trips(apps[variant], consumer, count)

    asyncio.run(run())


def collected(output: str) -> int:
    """The instruction count callgrind prints at the end (``==pid== Collected : N``)."""
    match = _COLLECTED.search(output)
    if match is None:
        raise RuntimeError(f"no 'Collected' line in callgrind's output:\n{output[-2000:]}")
    return int(match.group(1))


def count_instructions(op: str, variant: str, count: int) -> int:
    command = [
        "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
        sys.executable, __file__, "--child", op, variant, str(count),
    ]  # fmt: skip
    # String-hash randomization off for every process: string hashing otherwise changes the
    # paths dicts and sets take, by a few thousand instructions per operation.
    env = {
        **os.environ,
        "PYTHONHASHSEED": "0",
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"{op} ({variant}) exited with {done.returncode}:\n{done.stderr[-2000:]}"
        )
    return collected(done.stderr)


def per_operation(op: str, variant: str, count: int) -> float:
    return (count_instructions(op, variant, count) - count_instructions(op, variant, 0)) / count


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--child", nargs=3, metavar=("OP", "VARIANT", "COUNT"), help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--op", action="append", choices=OPS, help="only this operation (repeatable)"
    )
    parser.add_argument("--count", type=int, default=1000, help="operations counted (default 1000)")
    args = parser.parse_args(argv)
    if args.child:
        op, variant, count = args.child
        return child(op, variant, int(count))
    if args.count < 1:
        parser.error(f"--count must be at least 1, not {args.count}")
    if shutil.which("valgrind") is None:
        print("benchmarks/instructions.py needs valgrind (apt install valgrind)", file=sys.stderr)
        return 2
    print("| operation | bare | guard | guard - bare |")
    print("|---|---:|---:|---:|")
    for op in args.op or OPS:
        print(f"{op}: counting {args.count} operations per variant ...", file=sys.stderr)
        bare, guard = (per_operation(op, variant, args.count) for variant in VARIANTS)
        print(
            f"| {op} | {bare / 1000:,.1f}k | {guard / 1000:,.1f}k "
            f"| {(guard - bare) / 1000:+,.1f}k ({(guard - bare) / bare:+.1%}) |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
