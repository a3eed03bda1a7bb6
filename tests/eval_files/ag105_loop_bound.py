import asyncio

from asgiref.sync import async_to_sync

from services.utils.async_utils import run_async


async def get_oauth_session(user):
    return user


async def fetch_positions(session):
    return session


def client_keeps_one_loop(user):
    session = run_async(get_oauth_session(user))
    return run_async(fetch_positions(session))  # expect: AG105


def with_async_to_sync(user):
    session = async_to_sync(get_oauth_session)(user)
    return async_to_sync(fetch_positions)(session)  # expect: AG105


def with_asyncio_run(user):
    client = asyncio.run(get_oauth_session(user))
    return asyncio.run(fetch_positions(client))  # expect: AG105


def after_close(user):
    loop = asyncio.new_event_loop()
    try:
        session = loop.run_until_complete(get_oauth_session(user))
    finally:
        loop.close()
    return run_async(fetch_positions(session))  # expect: AG105


def loop_closed_then_reused(user):
    loop = asyncio.new_event_loop()
    session = loop.run_until_complete(get_oauth_session(user))
    loop.close()
    return loop.run_until_complete(fetch_positions(session))  # expect: AG105
