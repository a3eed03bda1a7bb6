import asyncio
import contextlib
import threading


async def async_call():
    return 1


def loop_closed_in_finally():
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        result = loop.run_until_complete(async_call())
        return result
    finally:
        loop.close()


def inside_try():
    try:
        loop = asyncio.new_event_loop()
        return loop.run_until_complete(async_call())
    finally:
        loop.close()


def context_manager():
    with contextlib.closing(asyncio.new_event_loop()) as loop:
        return loop.run_until_complete(async_call())


def runner():
    with asyncio.Runner() as r:
        return r.run(async_call())


def factory():
    # ownership moves to the caller
    loop = asyncio.new_event_loop()
    return loop


def handed_to_a_thread():
    loop = asyncio.new_event_loop()
    threading.Thread(target=serve, args=(loop,)).start()


def serve(loop):
    loop.run_forever()


class Holder:
    def __init__(self):
        self.loop = asyncio.new_event_loop()


def background_loop():
    # a loop that lives on in a thread (redis' token manager does this)
    loop = asyncio.new_event_loop()

    def start():
        asyncio.set_event_loop(loop)
        loop.run_forever()

    threading.Thread(target=start, daemon=True).start()
    return None


def loop_method_handed_on():
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
