"""``asyncio.get_event_loop()`` in sync code, after a closed loop was left current.

Audit: AG106 (get-event-loop-in-sync-code) and AG102 where the loop is made.
Runtime: AGR103 (the first unit leaves a closed loop as the thread's current
loop) then AGR108 ("Event loop is closed" in the next one). A command that
makes its own loop with ``set_event_loop(new_event_loop())`` and closes it
when done leaves it set; the next piece of sync code that
asks for "the" loop gets the dead one. In a worker thread with no loop set,
``get_event_loop()`` raises instead. Fix: ``run_async(...)``; never
``get_event_loop()`` in sync code.
"""

import asyncio


async def fetch():
    await asyncio.sleep(0)
    return "ok"


def first_command():
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return loop.run_until_complete(fetch())
    finally:
        loop.close()  # closed, but still the thread's current loop


def second_command():
    loop = asyncio.get_event_loop()  # WRONG: the closed loop from first_command
    coro = fetch()
    try:
        return loop.run_until_complete(coro)
    finally:
        coro.close()


def main():
    from examples.antipatterns._setup import report

    first_command()
    try:
        second_command()
    except RuntimeError as exc:
        report("Event loop is closed" in str(exc), f"RuntimeError: {exc}")
    report(False, "the second command got a working loop")


if __name__ == "__main__":
    from examples.antipatterns._setup import run_example

    run_example(main)
