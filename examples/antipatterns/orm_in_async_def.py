"""The ORM called directly in ``async def``: Django raises SynchronousOnlyOperation.

Audit: AG201 (sync-orm-in-async). Runtime: AGR108 (SynchronousOnlyOperation
escaped, with the diagnosis). Django refuses the query: the script stops
halfway, after the broker call, before the database write.
Fix: keep the ORM in sync code, or ``await Model.objects.aget(...)`` /
``await obj.asave()`` (these come back to the caller's thread under ``run_async``).
"""

from examples.antipatterns._setup import django_setup

django_setup()  # a script: Django first, then the models

from trading.models import Position  # noqa: E402


async def fix_position(position_id):
    position = Position.objects.get(pk=position_id)  # WRONG: await Position.objects.aget(...)
    return position


def main():
    from examples.antipatterns._setup import expect_synchronous_only

    expect_synchronous_only(fix_position, 33)


if __name__ == "__main__":
    from examples.antipatterns._setup import run_example

    run_example(main)
