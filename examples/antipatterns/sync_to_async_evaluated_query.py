"""``sync_to_async`` around a query that has already run: the wrap comes too late.

Audit: AG203 (orm-evaluated-before-wrap). Runtime: AGR108
(SynchronousOnlyOperation): ``Model.objects.get(...)`` runs *before* it is
handed to ``sync_to_async``, in the async code itself. Fix:
``await sync_to_async(Position.objects.get)(pk=...)`` or ``await Position.objects.aget(...)``.
"""

from asgiref.sync import sync_to_async

from examples.antipatterns._setup import django_setup

django_setup()  # a script: Django first, then the models

from trading.models import Position  # noqa: E402


async def load(position_id):
    return await sync_to_async(Position.objects.get(pk=position_id))()  # WRONG


def main():
    from examples.antipatterns._setup import expect_synchronous_only

    expect_synchronous_only(load, 33)


if __name__ == "__main__":
    from examples.antipatterns._setup import run_example

    run_example(main)
