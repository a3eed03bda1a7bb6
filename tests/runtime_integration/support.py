"""Reading guard events out of a real worker's or server's log, and the lab's test data.

The processes run with ``settings.guardlab``: every ``async_guard`` record is one
JSON line (``async_guard.runtime.logging.JsonFormatter``) on stderr, which
``tests.support.processes`` sends to the process's log file, and the lab marks
the end of every unit of work with a ``guardlab-finished <unit>`` line written
after the guard's own end-of-unit checks. A test waits for the markers of the
units it started, then reads the events: nothing it checks can still be on its
way.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tests.support.processes import Process, subprocess_env

MARKER = "guardlab-finished "


@dataclass(frozen=True)
class Event:
    """One guard event as the process logged it."""

    code: str
    level: str
    message: str
    data: dict[str, Any] = field(compare=False, hash=False, repr=False)

    @property
    def unit(self) -> str:
        return str(self.data.get("unit", ""))

    def __getitem__(self, key: str) -> Any:
        return self.data[key]


def guard_records(text: str) -> list[dict[str, Any]]:
    """Every record of the ``async_guard`` logger in ``text``: events and the guard's own errors.

    Each is one JSON line; it may follow a prefix (Celery's redirected stderr
    adds one), so a line is read from its first ``{``.
    """
    records = []
    for line in text.splitlines():
        start = line.find("{")
        if start < 0:
            continue
        try:
            obj = json.loads(line[start:])
        except ValueError:
            continue
        if isinstance(obj, dict) and obj.get("logger") == "async_guard":
            records.append(obj)
    return records


def parse_events(text: str) -> list[Event]:
    """Every guard event in ``text``: the records that carry an ``async_guard`` dict."""
    return [
        Event(
            str(record["async_guard"]["code"]),
            str(record.get("level", "")),
            str(record.get("message", "")),
            record["async_guard"],
        )
        for record in guard_records(text)
        if isinstance(record.get("async_guard"), dict) and "code" in record["async_guard"]
    ]


def lab_env(mode: str = "warn", **extra: str) -> dict[str, str]:
    """The environment of a lab process on the current test database, in guard ``mode``."""
    return subprocess_env(
        DJANGO_SETTINGS_MODULE="settings.guardlab", ASYNC_GUARD_MODE=mode, **extra
    )


class Lab:
    """A real worker or server of the lab, read through its log."""

    def __init__(self, process: Process) -> None:
        self.process = process

    def events(self) -> list[Event]:
        return parse_events(self.process.log())

    def events_of(self, unit_part: str) -> list[Event]:
        """The events whose unit names ``unit_part`` (a task id, a request path)."""
        return [event for event in self.events() if unit_part in event.unit]

    def finished(self) -> list[str]:
        return [
            line.split(MARKER, 1)[1].strip()
            for line in self.process.log().splitlines()
            if MARKER in line
        ]

    def wait_finished(self, units: Iterable[str], timeout: float = 60.0) -> None:
        """Wait until the end-of-unit marker of every unit in ``units`` is in the log.

        A unit matches a marker that contains it (a task id, a request path).
        """
        pending = set(units)
        deadline = time.monotonic() + timeout
        while pending:
            done = self.finished()
            pending = {unit for unit in pending if not any(unit in line for line in done)}
            if not pending:
                return
            if self.process.popen.poll() is not None:
                raise AssertionError(
                    f"{self.process.name} exited before finishing {sorted(pending)}:\n"
                    f"{self.process.log()[-4000:]}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.process.name}: units not finished within {timeout}s: "
                    f"{sorted(pending)}\n{self.process.log()[-4000:]}"
                )
            time.sleep(0.05)

    def wait_event(self, code: str, unit_part: str, timeout: float = 30.0) -> Event:
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events_of(unit_part):
                if event.code == code:
                    return event
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.process.name}: no {code} for {unit_part!r} within {timeout}s:\n"
                    f"{self.process.log()[-4000:]}"
                )
            time.sleep(0.05)


@dataclass
class Response:
    status: int
    body: str
    status_after: str = ""  # of the position the request worked on, see run_requests

    def json(self) -> Any:
        return json.loads(self.body)


def http_get(url: str, timeout: float = 30.0) -> Response:
    """GET ``url``; an HTTP error status is a response, not an exception."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return Response(response.status, response.read().decode())
    except urllib.error.HTTPError as error:
        return Response(error.code, error.read().decode(errors="replace"))


def make_positions(count: int, symbol: str = "SPY") -> list[int]:
    """``count`` open positions (committed, so that worker and server processes see them)."""
    from django.contrib.auth import get_user_model

    from trading.models import Position, TradingAccount

    user = get_user_model().objects.create(username=f"lab-{uuid.uuid4().hex[:12]}")
    account = TradingAccount.objects.create(user=user, account_number="5WT00001", is_primary=True)
    return [
        Position.objects.create(
            user=user, account=account, symbol=symbol, opening_credit=Decimal("1.25")
        ).pk
        for _ in range(count)
    ]


def statuses(pks: Iterable[int]) -> dict[int, str]:
    """The status of each position, read now (a module's later tests see a flushed database)."""
    from trading.models import Position

    return {
        pk: str(status)
        for pk, status in Position.objects.filter(pk__in=list(pks)).values_list("pk", "status")
    }


# -- expectations ---------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A lab program run as one unit of work, and the events it must produce.

    ``target`` is a task name or a path under ``/guardlab/`` (without the
    pk), optionally with ``#tag`` to run the same target twice in one batch.
    ``expected`` events must each be logged exactly once for the unit;
    ``allowed`` ones may be (they depend on what ran before in the same
    process, e.g. which unit first opened the shared thread's connection);
    anything else is a false positive.
    """

    target: str
    expected: frozenset[str] = frozenset()
    allowed: frozenset[str] = frozenset()
    outcome: Any = None

    def __str__(self) -> str:
        return self.target

    @property
    def task(self) -> str:
        return self.target.partition("#")[0]

    def path(self, pk: int) -> str:
        base, _, tag = self.target.partition("#")
        return f"/guardlab/{base}/{pk}/" + (f"{tag}/" if tag else "")


def case(target: str, *expected: str, allowed: Iterable[str] = (), outcome: Any = None) -> Case:
    return Case(target, frozenset(expected), frozenset(allowed), outcome)


def check_events(events: list[Event], case: Case) -> None:
    codes = [event.code for event in events]
    described = "\n".join(f"  {event.level} {event.message}" for event in events) or "  (none)"
    missing = case.expected - set(codes)
    unexpected = set(codes) - case.expected - case.allowed
    twice = {code for code in codes if codes.count(code) > 1}
    assert not (missing or unexpected or twice), (
        f"{case.target}: missing {sorted(missing)}, unexpected {sorted(unexpected)}, "
        f"logged twice {sorted(twice)}; events of the unit:\n{described}"
    )


# -- Celery ---------------------------------------------------------------------------


@dataclass
class TaskRun:
    name: str
    pk: int
    task_id: str = ""
    state: str = ""
    result: Any = None
    status_after: str = ""  # the position's status once the task finished


def run_tasks(
    worker: Process, runs: list[TaskRun], *, app: Any = None, timeout: float = 60.0
) -> list[TaskRun]:
    """Send every run to ``worker``'s queue, wait for the outcomes and the end-of-task markers."""
    if app is None:
        from settings.celery import app
    queue = worker.info["queue"]
    sent = []
    for run in runs:
        result = app.send_task(run.name, args=[run.pk], queue=queue)
        run.task_id = result.id
        sent.append((run, result))
    for run, result in sent:
        value = result.get(timeout=timeout, propagate=False)
        run.state = result.state
        run.result = repr(value) if isinstance(value, BaseException) else value
    Lab(worker).wait_finished([run.task_id for run in runs], timeout=timeout)
    after = statuses(run.pk for run in runs)
    for run in runs:
        run.status_after = after.get(run.pk, "")
    return runs


# -- HTTP -----------------------------------------------------------------------------


def run_requests(
    server: Process, paths: dict[str, int], *, timeout: float = 30.0
) -> dict[str, Response]:
    """GET every path (of a position's pk) from ``server`` in turn, wait for every
    request's end-of-unit marker, and note the position's status afterwards."""
    responses = {path: http_get(server.info["url"] + path, timeout=timeout) for path in paths}
    Lab(server).wait_finished([f"GET {path}" for path in paths], timeout=timeout)
    after = statuses(paths.values())
    for path, pk in paths.items():
        responses[path].status_after = after.get(pk, "")
    return responses
