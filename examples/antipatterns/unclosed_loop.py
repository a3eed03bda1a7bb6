"""An event loop created and never closed (seed Mistake 3).

Audit: AG102 (event-loop-not-closed). Runtime: AGR102 (a loop created during
the unit of work was not closed when it ended). Every call leaks a loop, its
selector and its file descriptors. Fix: ``run_async(...)``, or
``try: ... finally: loop.close()``.
"""

import asyncio


async def fetch_quote():
    await asyncio.sleep(0)
    return 598.12


def call_api():
    loop = asyncio.new_event_loop()  # WRONG: never closed
    asyncio.set_event_loop(loop)
    return loop.run_until_complete(fetch_quote()), loop


def main():
    from examples.antipatterns._setup import report

    _, loop = call_api()
    report(not loop.is_closed(), "the loop is still open after the call returned")


if __name__ == "__main__":
    main()
