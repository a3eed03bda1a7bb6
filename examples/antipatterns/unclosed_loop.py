"""An event loop created and never closed: one leaked loop and selector per call.

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
        gc.collect()  # a forgotten loop is only noticed when it is garbage-collected...
    leaked = [str(w.message) for w in caught if "unclosed event loop" in str(w.message)]
    # ...unless something (the runtime guard) still holds it: then it is alive and open.
    leaked += [repr(o) for o in gc.get_objects() if isinstance(o, asyncio.AbstractEventLoop)
               and not o.is_closed()]
    report(bool(leaked), f"a loop was left open: {leaked[0] if leaked else None}")


if __name__ == "__main__":
    from examples.antipatterns._setup import run_example

    run_example(main)
