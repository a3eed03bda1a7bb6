"""A Celery task defined ``async def``: Celery never awaits it.

Audit: AG302 (async-celery-task). Runtime: AGR105 (the task returned a
coroutine: it never ran) and AGR106 (never awaited). Celery calls the function
and gets a coroutine back; nothing inside runs. Fix: a plain ``def`` task that
bridges with ``run_async``.
"""

import warnings

from celery import shared_task

SYNCED = []


@shared_task
async def sync_positions_task():  # WRONG: Celery never awaits this
    SYNCED.append("positions")
    return len(SYNCED)


def main():
    from examples.antipatterns._setup import django_setup, report

    django_setup()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = sync_positions_task()
        kind = type(result).__name__
        del result
    report(SYNCED == [] and kind == "coroutine", f"the task returned a {kind}; its body never ran")


if __name__ == "__main__":
    from examples.antipatterns._setup import run_example

    run_example(main)
