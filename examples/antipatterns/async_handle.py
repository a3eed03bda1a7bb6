"""A management command with ``async def handle``: Django never awaits it.

Audit: AG303 (async-command-handle). Runtime: AGR106 (a coroutine never
awaited). Django's ``BaseCommand.execute`` calls ``handle()`` without awaiting
it: the command "succeeds" having done nothing (and chokes on the coroutine
it tries to write as output). Fix: ``def handle`` and ``run_async`` for the
async part.
"""

import warnings

from django.core.management.base import BaseCommand

DONE = []


class Command(BaseCommand):
    help = "Cancel stale orders (never runs)."

    async def handle(self, *args, **options):  # WRONG
        DONE.append("cancelled")


def main():
    from examples.antipatterns._setup import django_setup, report

    django_setup()
    error = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            Command().execute(no_color=True, force_color=False, skip_checks=True, stdout=None, stderr=None)
        except Exception as exc:  # Django tries to write the coroutine as output
            error = exc
    report(DONE == [], f"handle() never ran (Django: {type(error).__name__ if error else 'no error'})")


if __name__ == "__main__":
    from examples.antipatterns._setup import run_example

    run_example(main)
