"""The Celery tasks in a real worker process, against the fake broker, with the guard raising."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from settings.celery import app
from tests.support.processes import celery_worker, subprocess_env
from trading import demo
from trading.models import Position, Trade
from trading.sandbox.server import Fault, SandboxBroker, SandboxServer
from trading.tasks import batch_sync_data_task, sync_positions_task

pytestmark = [
    pytest.mark.async_guard_strict,
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning"),
]


def _run(task: Any, queue: str) -> Any:
    # Through the project's app, not the shared_task proxy: that follows Celery's
    # "current app", which any other Celery() made in this process takes over.
    return app.send_task(task.name, queue=queue).get(timeout=60)


def test_sync_tasks_in_a_real_worker_reconcile_and_retry_broker_errors(
    sandbox: SandboxServer, broker: SandboxBroker, process_logs: Path
) -> None:
    positions = {s.case: p for s, p in zip(demo.SPREADS, demo.seed_database(), strict=True)}
    alice = demo.USERS[0].account_number
    # At the broker: alice's SPY profit target filled, her QQQ spread closed by hand.
    broker.fill_order(alice, 2001)
    broker.remove_positions(alice, [str(leg["symbol"]) for leg in demo.SPREADS[0].legs])
    broker.remove_positions(alice, [str(leg["symbol"]) for leg in demo.SPREADS[1].legs])

    env = subprocess_env(
        TASTYTRADE_API_URL=sandbox.url,
        TASTYTRADE_PROVIDER_SECRET=demo.PROVIDER_SECRET,
        ASYNC_GUARD_MODE="raise",
    )
    with celery_worker(process_logs, env=env) as worker:
        queue = worker.info["queue"]
        result = _run(sync_positions_task, queue)
        assert result == {
            "accounts": 2,
            "positions_closed": sorted([positions["ok"].pk, positions["missing"].pk]),
            "trades_updated": 2,
        }
        # The worker wrote through its own connection: read back from the database.
        closed = set(Position.objects.filter(status="closed").values_list("pk", flat=True))
        assert closed == {positions["ok"].pk, positions["missing"].pk}
        assert Trade.objects.get(broker_order_id="2001").status == "filled"
        assert Trade.objects.get(broker_order_id="2003").status == "cancelled"

        # A broker error on one account: the batch reconciles the other, raises, and is
        # retried with backoff until the broker answers.
        bob = demo.USERS[1].account_number
        fault = broker.inject(Fault("GET", rf"/accounts/{bob}/positions$", "http500"))
        reads = broker.count("GET", r"/positions$")
        broker.remove_positions(
            demo.USERS[1].account_number, [str(leg["symbol"]) for leg in demo.SPREADS[3].legs]
        )
        result = _run(batch_sync_data_task, queue)
        assert fault.times == 0
        assert broker.count("GET", r"/positions$") == reads + 4  # 2 accounts x 2 attempts
        assert result["positions_closed"] == [positions["wrong_price"].pk]
        assert Position.objects.get(pk=positions["wrong_price"].pk).status == "closed"
        log = worker.log()
        assert "Retry in 1s" in log
        assert "AGR1" not in log, log
        # Credentials never reach the logs.
        assert demo.PROVIDER_SECRET not in log
        assert all(u.refresh_token not in log for u in demo.USERS)
