"""What does leaving the runtime guard on cost? Medians, with and without it, in one run.

Usage (from the repository root, in the virtualenv, with PostgreSQL and Redis
on 127.0.0.1)::

    python benchmarks/runtime_overhead.py                 # print the table
    python benchmarks/runtime_overhead.py --write-docs    # and update docs/performance.md
    python benchmarks/runtime_overhead.py --only sync_view --no-worker --processes 8

The Django measurements run in a long-lived child process per database (the
database is a process-wide setting), on ``settings.guardlab`` (the reference
project plus the lab's views, ``MODE=warn``). Every variant of an operation
runs in that same process, alternating round after round, so that a slow
patch of the (noisy, 2-core) machine favours no variant. Where a process's
objects land in memory still favours one a little, and differently in each
process: a minimal sync request's ratio has moved by several points from
one process to the next. ``--processes N`` runs every round in N fresh
processes per database, one after another, and takes the medians over all of
them. The variants:

- ``guard``: every hook async_guard installs is in place, and requests go
  through a handler whose middleware chain starts with the guard's;
- ``bare``: the hooks are removed (the loop and coroutine hooks, the Channels
  dispatch, the signal receivers), and requests go through a second handler,
  loaded from the same ``MIDDLEWARE`` without the guard's middleware;
- ``asyncio debug`` (the async view only): ``bare`` with the event loop in
  debug mode, the tool people turn on today (it changes nothing without a loop);
- ``guard, outside a unit`` (queries only): the hooks in place, the queries
  run outside any unit of work.

Operations: a minimal sync view through Django's test client, an async view
through the async test client, an ORM ``get()`` by primary key on PostgreSQL
and ``SELECT 1`` on SQLite in memory (both inside a unit of work, a
``watch()`` block, where the guard is active). The worker measurement runs
real Celery workers (solo pool, real Redis), a fresh one per round, on a
queue filled with 2,000 trivial tasks before it starts, timed by the worker's
own clock from a first to a last marker task: a worker is a process of its
own, so there the two variants are two kinds of worker, alternating.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.docs_section import write_section

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "performance.md"
SECTION = "## Runtime overhead"
OUTSIDE = "guard, outside a unit"
POSTGRES = "postgres://postgres@127.0.0.1:5432/async_guard_bench"
SQLITE_MEMORY = "sqlite://:memory:"

DEBUG = "asyncio debug"
# The worker's two kinds of process.
WORKER_VARIANTS: dict[str, dict[str, str]] = {
    "guard": {"ASYNC_GUARD_MODE": "warn"},
    "bare": {"GUARDLAB_WITHOUT_GUARD": "1"},
}


@dataclass
class Measure:
    """One operation: how the child runs it, on which database, how many per batch, the goal."""

    name: str
    op: str
    database: str
    batch: int
    goal: str
    variants: tuple[str, ...] = ("guard", "bare")
    times: dict[str, list[float]] = field(default_factory=dict)


# asyncio debug mode changes nothing without a loop; "outside" runs the same
# queries with the hooks in place but outside any unit of work.
QUERIES = ("guard", "bare", OUTSIDE)
MEASURES = [
    Measure("minimal sync view, test client", "sync_view", SQLITE_MEMORY, 200, "<= 1.03x"),
    Measure("view making 20 SELECT 1, SQLite in memory", "select_20_view", SQLITE_MEMORY, 100,
            "<= 1.05x"),
    Measure("async view, async test client", "async_view", SQLITE_MEMORY, 100, "<= 1.05x",
            ("guard", "bare", DEBUG)),
    Measure("ORM get() by pk, PostgreSQL", "orm_get", POSTGRES, 200, "<= 1.02x", QUERIES),
    Measure("SELECT 1, SQLite in memory", "select_1", SQLITE_MEMORY, 2000, "<= 1.10x", QUERIES),
]  # fmt: skip


# The two views the request rows time (benchmarks/instructions.py counts them too).
SYNC_VIEW = "/health/"
ASYNC_VIEW = "/guardlab/async/async-to-sync/good/0/"

# -- the child: one variant, one database ---------------------------------------------


def hooks(on: bool) -> None:
    """Put in place (``guard``) or remove (``bare``) every hook async_guard installs in ready().

    Celery's and the tasks framework's receivers are left alone: nothing here
    sends their signals.
    """
    from django.core.signals import got_request_exception
    from django.db.backends.signals import connection_created

    from async_guard import channels, middleware
    from async_guard.runtime import bridging, coroutines, db, loops

    for module in (channels, loops, coroutines, bridging):
        module.install() if on else module.uninstall()
    receivers = (
        (connection_created, db.on_connection_created, "async_guard.db"),
        (got_request_exception, middleware.on_request_exception,
         "async_guard.request_exception"),
    )  # fmt: skip
    for signal, receiver, uid in receivers:
        if on:
            signal.connect(receiver, dispatch_uid=uid)
        else:
            signal.disconnect(receiver, dispatch_uid=uid)


def child() -> int:
    """Serve ``<op> <variant> <count>`` requests on stdin with the seconds they took."""
    import asyncio

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import AsyncClient, Client, override_settings

    from async_guard import watch

    override_settings(ROOT_URLCONF="benchmarks.overhead_views").enable()
    pk = _position() if connection.vendor == "postgresql" else 0
    full = list(settings.MIDDLEWARE)
    chains = {"guard": full, "bare": [m for m in full if not m.startswith("async_guard.")]}
    if chains["guard"] == chains["bare"]:
        raise RuntimeError("settings.MIDDLEWARE has no async_guard middleware to compare")
    clients: dict[str, tuple[Client, AsyncClient]] = {}
    for name, chain in chains.items():
        # A test client's handler reads MIDDLEWARE at its first request and
        # keeps that chain: one handler per variant, both loaded here.
        with override_settings(MIDDLEWARE=chain):
            client, async_client = Client(), AsyncClient()
            client.get(SYNC_VIEW)
            asyncio.run(async_client.get(SYNC_VIEW))
        clients[name] = (client, async_client)

    def sync_view(variant: str, count: int) -> None:
        client = clients[variant][0]
        for _ in range(count):
            client.get(SYNC_VIEW)

    def select_20_view(variant: str, count: int) -> None:
        client = clients[variant][0]
        for _ in range(count):
            client.get("/bench/select-20/")

    def async_view(variant: str, count: int) -> None:
        async_client = clients["bare" if variant == DEBUG else variant][1]

        async def requests() -> None:
            for _ in range(count):
                await async_client.get(ASYNC_VIEW)

        asyncio.run(requests(), debug=variant == DEBUG)

    def scope(variant: str) -> Any:
        return watch("bench") if variant == "guard" else contextlib.nullcontext()

    def orm_get(variant: str, count: int) -> None:
        from trading.models import Position

        with scope(variant):
            for _ in range(count):
                Position.objects.get(pk=pk)

    def select_1(variant: str, count: int) -> None:
        with scope(variant), connection.cursor() as cursor:
            for _ in range(count):
                cursor.execute("SELECT 1")
                cursor.fetchone()

    ops: dict[str, Callable[[str, int], None]] = {
        f.__name__: f for f in (sync_view, select_20_view, async_view, orm_get, select_1)
    }
    print("ready", flush=True)
    for line in sys.stdin:
        op, variant, count = _request(line)
        hooks(variant != "bare" and variant != DEBUG)
        start = time.perf_counter()
        ops[op](variant, int(count))
        print(time.perf_counter() - start, flush=True)
    hooks(True)
    return 0


def _request(line: str) -> tuple[str, str, str]:
    """``op|variant|count`` (a variant's name has spaces)."""
    op, variant, count = line.rstrip("\n").split("|")
    return op, variant, count


def _position() -> int:
    from decimal import Decimal

    from django.contrib.auth import get_user_model

    from trading.models import Position, TradingAccount

    user, _ = get_user_model().objects.get_or_create(username="bench")
    account, _ = TradingAccount.objects.get_or_create(user=user, account_number="BENCH")
    position = Position.objects.filter(user=user).first() or Position.objects.create(
        user=user, account=account, symbol="SPY", opening_credit=Decimal("1.00")
    )
    return int(position.pk)


# -- the parent ----------------------------------------------------------------------


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONASYNCIODEBUG",)}
    env.update(
        DJANGO_SETTINGS_MODULE="settings.guardlab",
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
        CELERY_TASK_ALWAYS_EAGER="0",
        GUARDLAB_MARKERS="0",
    )
    env.update(extra)
    return env


class Child:
    """One child process on ``database``, running every variant of its operations."""

    def __init__(self, database: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--child"],
            cwd=ROOT,
            env=_env(DATABASE_URL=database, ASYNC_GUARD_MODE="warn"),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        if self._read() != "ready":
            raise RuntimeError(f"benchmark child on {database} did not start")

    def _read(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"benchmark child exited with {self.proc.wait(timeout=10)}")
        return line.strip()

    def time(self, op: str, variant: str, count: int) -> float:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{op}|{variant}|{count}\n")
        self.proc.stdin.flush()
        return float(self._read())

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


def prepare_postgres() -> None:
    """Create and migrate the benchmark's own PostgreSQL database (never the tests' one)."""
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        if not c.execute(
            "SELECT 1 FROM pg_database WHERE datname = 'async_guard_bench'"
        ).fetchone():
            c.execute("CREATE DATABASE async_guard_bench")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT, env=_env(DATABASE_URL=POSTGRES, GUARDLAB_WITHOUT_GUARD="1"), check=True,
    )  # fmt: skip


def run_django(rounds: int, measures: list[Measure], processes: int = 1) -> None:
    """Time ``measures`` in ``processes`` fresh children per database, one after another.

    Every child's rounds go into the same lists (why: see the module's docstring).
    """
    for _ in range(processes):
        _run_children(rounds, measures)


def _run_children(rounds: int, measures: list[Measure]) -> None:
    children: dict[str, Child] = {}
    try:
        for measure in measures:
            if measure.database not in children:
                children[measure.database] = Child(measure.database)
            for variant in measure.variants:  # warm-up
                children[measure.database].time(measure.op, variant, measure.batch)
        for round_no in range(rounds):
            for measure in measures:
                order = list(measure.variants)
                if round_no % 2:
                    order.reverse()
                for variant in order:
                    seconds = children[measure.database].time(measure.op, variant, measure.batch)
                    measure.times.setdefault(variant, []).append(seconds / measure.batch)
    finally:
        for child_process in children.values():
            child_process.close()


def run_worker(rounds: int, tasks: int) -> dict[str, list[float]]:
    """Seconds per task on a real solo worker, with and without the guard, rounds alternating."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
    import django

    django.setup()
    from settings.celery import app
    from tests.support.processes import celery_worker

    results: dict[str, list[float]] = {"guard": [], "bare": []}
    with tempfile.TemporaryDirectory() as logs:
        for round_no in range(rounds):
            order = ["guard", "bare"] if round_no % 2 == 0 else ["bare", "guard"]
            for variant in order:
                queue = f"bench-{uuid.uuid4().hex[:10]}"
                first = app.send_task("guardlab.clock", queue=queue)
                with app.producer_or_acquire() as producer:
                    for _ in range(tasks):
                        app.send_task(
                            "guardlab.ping", queue=queue, ignore_result=True, producer=producer
                        )
                last = app.send_task("guardlab.clock", queue=queue)
                env = _env(DATABASE_URL=SQLITE_MEMORY, **WORKER_VARIANTS[variant])
                with celery_worker(Path(logs), pool="solo", env=env, queue=queue) as worker:
                    start, end = first.get(timeout=120), last.get(timeout=300)
                    worker.stop(timeout=5)
                results[variant].append((end - start) / tasks)
    return results


def paired_ratio(numerator: list[float], denominator: list[float]) -> float:
    """Median of the round-by-round ratios: each pair ran back to back, under the same load."""
    return statistics.median(n / d for n, d in zip(numerator, denominator, strict=True))


def paired_difference(numerator: list[float], denominator: list[float]) -> float:
    """Median of the round-by-round differences: the guard's own cost per operation."""
    return statistics.median(n - d for n, d in zip(numerator, denominator, strict=True))


def spread(name: str, pairs: Sequence[tuple[list[float], list[float]]]) -> str:
    """A line of each process's own guard / bare ratio, from its rounds, and their median.

    The pooled ratio of the table hides how far apart the processes were;
    this line shows it.
    """
    ratios = [paired_ratio(guard, bare) for guard, bare in pairs]
    listed = ", ".join(f"{ratio:.3f}" for ratio in ratios)
    median = statistics.median(ratios)
    return f"- {name}, each process: {listed} (median of processes {median:.3f}x)"


def spreads(measures: list[Measure], rounds: int, processes: int) -> str:
    """:func:`spread` for each measure: every process appended ``rounds`` times per variant."""
    lines = []
    for m in measures:
        pairs = [
            (m.times["guard"][i : i + rounds], m.times["bare"][i : i + rounds])
            for i in range(0, rounds * processes, rounds)
        ]
        lines.append(spread(m.name, pairs))
    return "\n".join(lines)


def table(measures: list[Measure], worker: dict[str, list[float]] | None, tasks: int) -> str:
    lines = [
        "| operation | bare | guard | guard / bare | goal | guard cost per operation "
        "| guard in a unit / outside, same process | asyncio debug / bare |",
        "|---|---:|---:|---:|---|---:|---:|---:|",
    ]
    for m in measures:
        bare, guard = m.times["bare"], m.times["guard"]
        debug, outside = m.times.get(DEBUG), m.times.get(OUTSIDE)
        lines.append(
            f"| {m.name} | {statistics.median(bare) * 1e6:.1f} µs "
            f"| {statistics.median(guard) * 1e6:.1f} µs | {paired_ratio(guard, bare):.3f}x "
            f"| {m.goal} | {paired_difference(guard, bare) * 1e6:+.1f} µs "
            f"| {f'{paired_ratio(guard, outside):.3f}x' if outside else '-'} "
            f"| {f'{paired_ratio(debug, bare):.3f}x' if debug else '-'} |"
        )
    if worker:
        bare, guard = worker["bare"], worker["guard"]
        lines.append(
            f"| worker throughput, {tasks:,} trivial tasks (Redis, solo pool) "
            f"| {1 / statistics.median(bare):,.0f} tasks/s "
            f"| {1 / statistics.median(guard):,.0f} tasks/s "
            f"| {paired_ratio(bare, guard):.3f}x throughput | >= 0.97x "
            f"| {paired_difference(guard, bare) * 1e6:+.1f} µs per task | - | - |"
        )
    return "\n".join(lines)


def check_processes(parser: argparse.ArgumentParser, count: int) -> None:
    """Refuse ``--processes`` below 1 by name (both overhead scripts take the option)."""
    if count < 1:
        parser.error(f"--processes must be at least 1, not {count}")


def _processes(count: int) -> str:
    if count == 1:
        return "one process (one per database)"
    return f"each of {count} processes per database, started one after another"


def machine() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} cores, {platform.machine()}, Linux {platform.release()}, "
        f"Python {platform.python_version()}, load average {load} at the start"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=30, help="Django rounds (default 30)")
    parser.add_argument("--worker-rounds", type=int, default=4, help="worker rounds per variant")
    parser.add_argument("--tasks", type=int, default=2000, help="tasks per worker round")
    parser.add_argument("--no-worker", action="store_true", help="skip the worker measurement")
    parser.add_argument(
        "--only",
        metavar="OP",
        action="append",
        choices=[m.op for m in MEASURES],
        help="measure only this Django operation (repeatable; not with --write-docs)",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        metavar="N",
        help="fresh child processes per database, one after another, each running every round "
        "(default 1)",
    )
    parser.add_argument("--write-docs", action="store_true", help=f"update {SECTION!r}")
    args = parser.parse_args(argv)
    if args.child:
        return child()
    check_processes(parser, args.processes)
    if args.only and args.write_docs:
        parser.error("--write-docs records the whole table: leave out --only")
    measures = [m for m in MEASURES if not args.only or m.op in args.only]

    prepare_postgres()
    where = machine()
    started = time.monotonic()
    run_django(args.rounds, measures, args.processes)
    worker = None if args.no_worker else run_worker(args.worker_rounds, args.tasks)
    result = table(measures, worker, args.tasks)
    command = "python benchmarks/runtime_overhead.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    section = "\n".join(
        [
            SECTION,
            "",
            f"Measured {datetime.date.today().isoformat()} on {where}, "
            f"in {time.monotonic() - started:.0f} s, with `{command.strip()}`: "
            f"{args.rounds} rounds per operation ({args.worker_rounds} for the worker), each "
            "running every variant back to back in alternating order. The Django rows run "
            f"all their variants in {_processes(args.processes)}: `guard` with every hook "
            "of async_guard in place and the guard's middleware first, `bare` with the hooks "
            "removed and the same middleware without it. The worker row compares two kinds "
            "of worker process, with and without async_guard installed. Times are medians "
            "per operation, ratios the median of the rounds' own ratios (robust to the load "
            "of a shared machine drifting between rounds)"
            + (", over every process's rounds." if args.processes > 1 else "."),
            "",
            result,
            "",
        ]
        + ([spreads(measures, args.rounds, args.processes), ""] if args.processes > 1 else [])
    )
    print(section)
    if args.write_docs:
        write_section(SECTION, section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
