"""``sync_to_async`` around a query that has already run (seed Pattern 6 misread).

Audit: AG203 (orm-evaluated-before-wrap). Runtime: AGR108
(SynchronousOnlyOperation): ``Model.objects.get(...)`` runs *before* it is
handed to ``sync_to_async``, in the async code itself. Fix:
``await sync_to_async(Model.objects.get)(username=...)`` or ``await Model.objects.aget(...)``.
"""

import asyncio

from asgiref.sync import sync_to_async
from django.core.exceptions import SynchronousOnlyOperation


async def load(username):
    from django.contrib.auth import get_user_model

    return await sync_to_async(get_user_model().objects.get(username=username))()  # WRONG


def main():
    from examples.antipatterns._setup import django_setup, report

    django_setup()
    try:
        asyncio.run(load("alice"))
    except SynchronousOnlyOperation as exc:
        report(True, f"SynchronousOnlyOperation before the wrap: {exc}")
    report(False, "the query did not run in async code")


if __name__ == "__main__":
    main()
