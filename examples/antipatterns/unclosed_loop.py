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
    result = loop.run_until_complete(fetch_quote())
    return result


def main():
    import gc
    import warnings

    from examples.antipatterns._setup import report

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        call_api()
        gc.collect()  # the forgotten loop is only noticed when it is garbage-collected
    leaks = [str(w.message) for w in caught if "unclosed event loop" in str(w.message)]
    report(bool(leaks), f"ResourceWarning: {leaks[0] if leaks else None}")


if __name__ == "__main__":
    main()
