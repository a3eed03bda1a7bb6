"""The ORM called directly in ``async def`` (seed Mistakes 1 and 4, lesson 6).

Audit: AG201 (sync-orm-in-async). Runtime: AGR108 (SynchronousOnlyOperation
escaped, with the diagnosis). Django refuses the query: the script stops
halfway, after the broker call, before the database write.
Fix: keep the ORM in sync code, or ``await Model.objects.aget(...)`` /
``await obj.asave()`` (these come back to the caller's thread under ``run_async``).
"""

import asyncio

from django.core.exceptions import SynchronousOnlyOperation


async def fix_position(username):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username=username)  # WRONG: aget
    return user


def main():
    from examples.antipatterns._setup import django_setup, report

    django_setup()
    try:
        asyncio.run(fix_position("alice"))
    except SynchronousOnlyOperation as exc:
        report(True, f"SynchronousOnlyOperation: {exc}")
    report(False, "the query ran in async code")


if __name__ == "__main__":
    main()
