"""A tastytrade Session made in one bridged call and used in the next, on a closed loop.

Audit: AG105 (loop-bound-object-reused). Runtime: AGR108 ("Event loop is
closed" escaped). The Session's httpx client keeps its pooled connection on
the first call's loop; the second call runs on a new loop and the old one is
closed. Fix: open the session inside each bridged call (``async with``), and
carry only the access token between calls (``Session.serialize()``).

Runs against the local fake broker (started here, on 127.0.0.1).
"""

from tastytrade import Account, Session

from async_guard.bridge import run_async


async def get_session(secret, refresh_token):
    session = Session(secret, refresh_token)
    await session.refresh()
    return session  # WRONG: the session outlives its loop


def main():
    from examples.antipatterns._setup import django_setup, report

    django_setup()
    from services.broker import configure_sdk
    from trading import demo
    from trading.sandbox.server import SandboxServer

    with SandboxServer(demo.demo_broker()) as server:
        from django.conf import settings

        settings.TASTYTRADE_API_URL = server.url
        configure_sdk()
        session = run_async(get_session, demo.PROVIDER_SECRET, demo.USERS[0].refresh_token)
        try:
            run_async(Account.get, session)
        except RuntimeError as exc:
            report("Event loop is closed" in str(exc), f"RuntimeError: {exc}")
    report(False, "the session worked on a second loop")


if __name__ == "__main__":
    from examples.antipatterns._setup import run_example

    run_example(main)
