"""20,000 requests through a guarded gunicorn: the worker's memory stays flat, no event is lost.

A quarter of the requests send a query to asgiref's shared thread (AGR101),
a quarter drop a coroutine (AGR106), half are correct. The guard builds a unit
per request, deduplicates per unit and records coroutine origins: any of that
kept past its request would grow the worker's resident set with the request
count. After 2,000 warm-up requests (imports, caches, the allocator's arenas,
the shared thread's connection) the RSS of the gunicorn worker may grow by at
most ``GROWTH_BOUND`` over the remaining 18,000 (~170 bytes a request; a leaked
unit, ~1 KB, would blow it many times over). Measured on the reference machine:
about 0.4 MiB.
"""

from __future__ import annotations

import http.client
import threading
from pathlib import Path

import psutil
import pytest

from tests.runtime_integration.support import Lab, lab_env, make_positions
from tests.support.processes import http_server

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TOTAL = 20_000
WARM_UP = 2_000
CLIENTS = 4
GROWTH_BOUND = 3 * 2**20
PROGRAMS = ("read/bad", "never_awaited/bad", "sync_orm/good", "sync_orm/good")


def _drive(host: str, port: int, pk: int, count: int, statuses: list[int]) -> None:
    conn = http.client.HTTPConnection(host, port, timeout=30)  # keep-alive: one socket
    try:
        for n in range(count):
            conn.request("GET", f"/guardlab/program/{PROGRAMS[n % len(PROGRAMS)]}/{pk}/")
            response = conn.getresponse()
            response.read()
            statuses.append(response.status)
    finally:
        conn.close()


def _burst(url: str, pks: list[int], count: int) -> list[int]:
    host, port = url.removeprefix("http://").split(":")
    statuses: list[list[int]] = [[] for _ in pks]
    threads = [
        threading.Thread(target=_drive, args=(host, int(port), pk, count // len(pks), out))
        for pk, out in zip(pks, statuses, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return [status for out in statuses for status in out]


def test_worker_memory_stays_flat_over_20000_requests(lab_logs: Path) -> None:
    pks = make_positions(CLIENTS)
    with http_server("gunicorn", lab_logs, env=lab_env("warn"), threads=CLIENTS) as server:
        (worker,) = psutil.Process(server.pid).children()
        statuses = _burst(server.info["url"], pks, WARM_UP)
        after_warm_up = worker.memory_info().rss
        statuses += _burst(server.info["url"], pks, TOTAL - WARM_UP)
        at_end = worker.memory_info().rss
        # Both events are logged while their request runs, before its response.
        events = Lab(server).events()

    assert statuses.count(200) == TOTAL
    growth = at_end - after_warm_up
    assert growth <= GROWTH_BOUND, (
        f"worker RSS grew by {growth / 2**20:.1f} MiB over {TOTAL - WARM_UP} requests "
        f"({after_warm_up / 2**20:.1f} -> {at_end / 2**20:.1f} MiB)"
    )
    # Every misbehaving request logged its event: nothing dropped under load.
    codes = [event.code for event in events]
    assert codes.count("AGR101") == TOTAL // len(PROGRAMS)
    assert codes.count("AGR106") == TOTAL // len(PROGRAMS)
