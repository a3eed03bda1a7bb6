"""A one-off script whose entry point is ``asyncio.run(main())`` with the ORM inside.

Audit: AG103 (async-main-touches-orm). Runtime: AGR108
(SynchronousOnlyOperation). The broker call went through, then the ORM raised
mid-run and the database never learnt about it: the broker and the database
now disagree about the position. Fix: a sync ``main()`` that owns the ORM and
bridges each async call with ``run_async``.
"""

import asyncio

from django.core.exceptions import SynchronousOnlyOperation
from examples.antipatterns._setup import django_setup

django_setup()  # a script: Django first, then the models

from trading.models import Position  # noqa: E402

BROKER = []


async def place_order_at_broker(position_id):
    await asyncio.sleep(0)
    BROKER.append(position_id)
    return 3001


async def main():
    order_id = await place_order_at_broker(33)
    # WRONG: sync ORM in async main; the order above is now orphaned.
    Position.objects.filter(pk=33).update(child_order_ids=[str(order_id)])


def run():
    from examples.antipatterns._setup import django_setup, report

    django_setup()
    try:
        asyncio.run(main())
    except SynchronousOnlyOperation:
        report(BROKER == [33], "the broker has the order, the database write raised")
    report(False, "the ORM ran inside async main")


if __name__ == "__main__":
    from examples.antipatterns._setup import run_example

    run_example(run)
