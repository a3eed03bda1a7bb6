import asyncio

from asgiref.sync import async_to_sync

from services.utils.async_utils import run_async


async def get_oauth_session(user):
    return user


async def fetch_positions(session):
    return session


def loop_closed_in_finally(user):
    # one loop for the whole sequence, closed in finally
    loop = asyncio.new_event_loop()
    try:
        session = loop.run_until_complete(get_oauth_session(user))
        return loop.run_until_complete(fetch_positions(session))
    finally:
        loop.close()


async def _together(user):
    session = await get_oauth_session(user)
    return await fetch_positions(session)


def bridged_once(user):
    return async_to_sync(_together)(user)


def plain_data(user):
    count = run_async(fetch_positions(user))
    return run_async(fetch_positions(count))
