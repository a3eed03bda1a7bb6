"""Eight threads of requests and a threads-pool worker at once: every event on its own unit.

Misbehaving and correct units interleave on the same processes, and the
misbehaving ones all send their queries to the one thread asgiref shares per
process. Each request path and each task id is unique, so the test can demand
exactly one AGR101 per misbehaving unit, named after that unit, and none for
the correct ones: nothing lost, nothing duplicated, nothing attributed to a
neighbour.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.runtime_integration.support import (
    Lab,
    TaskRun,
    http_get,
    lab_env,
    make_positions,
    run_tasks,
)
from tests.support.processes import celery_worker, http_server

pytestmark = [
    pytest.mark.slow,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

CLIENTS = 8
REQUESTS_PER_CLIENT = 12
TASKS = 40


def test_events_stay_with_their_unit_under_concurrency(lab_logs) -> None:
    pks = make_positions(CLIENTS + TASKS)
    env = lab_env("warn")
    request_pks, task_pks = pks[:CLIENTS], pks[CLIENTS:]
    paths: dict[str, str] = {}  # path -> variant
    for client, pk in enumerate(request_pks):
        for n in range(REQUESTS_PER_CLIENT):
            variant = "bad" if n % 2 == 0 else "good"
            paths[f"/guardlab/program/save_in_atomic/{variant}/{pk}/c{client}-r{n}/"] = variant
    runs = [
        TaskRun(f"guardlab.save_in_atomic.{'bad' if i % 2 == 0 else 'good'}", pk)
        for i, pk in enumerate(task_pks)
    ]
    with (
        http_server("gunicorn", lab_logs, env=env, threads=CLIENTS) as server,
        celery_worker(lab_logs, pool="threads", concurrency=4, env=env) as worker,
    ):
        base = server.info["url"]
        statuses: Counter[int] = Counter()
        lock = threading.Lock()

        def client(index: int) -> None:
            for path in [p for p in paths if f"/c{index}-" in p]:
                status = http_get(base + path, timeout=60).status
                with lock:
                    statuses[status] += 1

        with ThreadPoolExecutor(CLIENTS + 1) as pool:
            tasks = pool.submit(run_tasks, worker, runs, timeout=120)
            for future in [pool.submit(client, i) for i in range(CLIENTS)]:
                future.result(timeout=180)
            tasks.result(timeout=180)
        server_lab, worker_lab = Lab(server), Lab(worker)
        server_lab.wait_finished([f"GET {path}" for path in paths], timeout=60)

    assert statuses == {200: len(paths)}
    assert all(run.state == "SUCCESS" for run in runs), [r.result for r in runs]

    for lab, units in (
        (server_lab, {f"GET {path}": variant for path, variant in paths.items()}),
        (worker_lab, {f"{r.name}[{r.task_id}]": r.name.rsplit(".", 1)[1] for r in runs}),
    ):
        events = lab.events()
        off_thread = Counter(e.unit for e in events if e.code == "AGR101")
        bad = {unit for unit, variant in units.items() if variant == "bad"}
        assert set(off_thread) == bad, (
            f"lost: {sorted(bad - set(off_thread))}, misattributed: {sorted(set(off_thread) - bad)}"
        )
        assert set(off_thread.values()) == {1}, off_thread.most_common(3)
        assert all(
            e.level == "ERROR" and e["in_atomic_block"] is True
            for e in events
            if e.code == "AGR101"
        )
        # The only other event: the shared thread's connection, once per process.
        others = [e for e in events if e.code != "AGR101"]
        assert [e.code for e in others] in ([], ["AGR107"]), [e.message for e in others]
        assert all(e.unit in bad for e in others)
