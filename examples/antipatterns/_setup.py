"""Django set-up shared by the examples (the reference project's settings)."""

import os
import sys


def django_setup():
    """Set Django up once (a no-op in a process that already did, such as a test run)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def run_example(main):
    """Run an example's ``main()`` as one unit of work of the runtime guard.

    With ``ASYNC_GUARD_MODE=warn`` the guard logs the events the example
    causes (README.md lists them); with ``raise`` it stops the example at the
    first one; with ``off`` the example shows its plain failure.
    """
    django_setup()
    import async_guard

    # Under ``python -m`` the module is ``__main__``; its spec keeps the real name.
    spec = getattr(sys.modules.get(main.__module__), "__spec__", None)
    with async_guard.watch(getattr(spec, "name", None) or main.__module__):
        main()


def report(reproduced, symptom):
    print(("REPRODUCED: " if reproduced else "NOT REPRODUCED: ") + symptom)
    sys.exit(0 if reproduced else 1)


def user_model():
    from django.contrib.auth import get_user_model

    return get_user_model()


def expect_synchronous_only(coroutine_function, *args):
    """Bridge to ``coroutine_function`` correctly; report whether Django refused its query."""
    from django.core.exceptions import SynchronousOnlyOperation

    from async_guard.bridge import run_async

    try:
        run_async(coroutine_function, *args)
    except SynchronousOnlyOperation as exc:
        report(True, f"SynchronousOnlyOperation in async code: {exc}")
    report(False, "the query ran in async code")
