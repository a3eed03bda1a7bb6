"""What each runtime event means: the one source of ``async-guard explain AGR1xx`` and of
the "The events" section of docs/runtime.md (``python -m async_guard.runtime.docs``).

Each entry says what happened, why it loses data, leaks or hangs, a bad example
and its fix, and, where it helps, how the guard sees it. The snippets are
Python without fences; the prose is Markdown.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass


@dataclass(frozen=True)
class EventDoc:
    code: str
    title: str
    happened: str
    harm: str
    bad: str
    fix: str
    detection: str = ""

    def __post_init__(self) -> None:
        # Written indented inside the constructor calls below; stored flush left.
        for name in ("happened", "harm", "bad", "fix", "detection"):
            object.__setattr__(self, name, inspect.cleandoc(getattr(self, name)))

    def documentation(self) -> str:
        """The event's page: Markdown with ``##`` sections, as a rule's docstring has."""
        parts = [
            f"## What happened\n\n{self.happened}",
            f"## Why it matters\n\n{self.harm}",
            f"## Bad\n\n```python\n{self.bad}\n```",
            f"## Fix\n\n```python\n{self.fix}\n```",
        ]
        if self.detection:
            parts.append(f"## How the guard sees it\n\n{self.detection}")
        return "\n\n".join(parts)


EVENTS: tuple[EventDoc, ...] = (
    EventDoc(
        "AGR101",
        "query on a thread other than the unit of work's own thread",
        happened="""
            `asyncio.run()` (or a hand-made loop) inside a sync unit of work made
            `sync_to_async`, and with it every async ORM method (`aget()`, `asave()` ...),
            run on asgiref's shared executor thread instead of the unit's own thread.
            There the query goes through *another database connection*.
        """,
        harm="""
            That connection is outside the caller's transaction. The write is committed
            even when the caller rolls back; a write to a row the caller locked
            (`select_for_update()`, or an earlier update) hangs, since the caller waits
            for it and it waits for the caller's lock; and neither side sees the other's
            uncommitted rows. Nothing fails on the spot: Django's
            `SynchronousOnlyOperation` cannot see it, because no loop runs on that
            thread, so the task reports success while its data is wrong.
        """,
        bad="""
            # Bad: the save runs on another thread, outside atomic()
            @shared_task
            def close_position(pk):
                position = Position.objects.get(pk=pk)
                with transaction.atomic():
                    asyncio.run(mark_closing(position))      # awaits sync_to_async(position.save)()
        """,
        fix="""
            # Good: async_to_sync sends sync_to_async work back to this thread
            @shared_task
            def close_position(pk):
                position = Position.objects.get(pk=pk)
                with transaction.atomic():
                    async_to_sync(mark_closing)(position)    # or async_guard.bridge.run_async(...)
        """,
        detection="""
            The guard watches the queries of asgiref's executor threads while they run a
            unit's work. The event is `ERROR` when the owner was inside `atomic()` ("this
            write is outside your transaction"), else `WARNING`. It also fires in an
            async unit for `sync_to_async(..., thread_sensitive=False)` ORM work, which
            runs on a pool thread with its own connection. In raise mode it is raised
            before the query runs: the write never happens.
        """,
    ),
    EventDoc(
        "AGR102",
        "event loop created during the unit of work was not closed",
        happened="""
            An event loop created during the unit (`asyncio.new_event_loop()`, in your
            code or in a library it calls) was still open when the unit ended.
        """,
        harm="""
            Its selector, its self-pipe sockets and its default executor's threads are
            never released: a long-lived worker leaks them task after task, until it
            runs out of file descriptors. Callbacks and tasks still scheduled on the loop
            never run, and the sessions and clients bound to it fail later, far from
            here.
        """,
        bad="""
            # Bad
            loop = asyncio.new_event_loop()
            result = loop.run_until_complete(fetch_quote())
        """,
        fix="""
            # Good
            result = asyncio.run(fetch_quote())  # or: with asyncio.Runner() as runner: ...
        """,
        detection="""
            Loops are recorded when they are created inside a unit and checked when the
            unit ends; in raise mode the error is raised then.
        """,
    ),
    EventDoc(
        "AGR103",
        "the thread's current event loop is closed at the end of the unit of work",
        happened="""
            The code set a new loop as the thread's current loop
            (`asyncio.set_event_loop()`), ran it and closed it, leaving the closed loop
            current when the unit ended.
        """,
        harm="""
            The next `asyncio.get_event_loop()` in that thread (the next task the same
            worker runs, the next request on that thread) hands out the dead loop and
            fails with `RuntimeError: Event loop is closed`. The failure lands in other
            code, and seems random: it depends on what ran on the thread before.
        """,
        bad="""
            # Bad
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(cancel_order(session, order_id))
            finally:
                loop.close()                                 # the thread's current loop is now dead
        """,
        fix="""
            # Good
            with asyncio.Runner() as runner:  # resets the thread's loop when it closes
                runner.run(cancel_order(session, order_id))
        """,
    ),
    EventDoc(
        "AGR104",
        "sync unit of work started while an event loop runs in its thread",
        happened="""
            A sync unit of work (a `@async_guard.watch()`-ed function, a Celery task run
            inline with `.apply()`, a task enqueued on the `django.tasks` immediate
            backend) started on a thread whose event loop is running: sync code was
            called directly from async code.
        """,
        harm="""
            Every ORM call in it raises `SynchronousOnlyOperation`, and anything that
            blocks (a query, an HTTP call, a sleep) stalls the loop: every other
            coroutine on it, such as the other requests of an ASGI server, waits until
            it returns.
        """,
        bad="""
            # Bad: a sync entry point called from async code, on the loop's thread
            async def main():
                sync_positions()                             # @async_guard.watch()-ed sync function
        """,
        fix="""
            # Good
            async def main():
                await sync_to_async(sync_positions)()
        """,
        detection="In raise mode the error is raised when the sync unit starts.",
    ),
    EventDoc(
        "AGR105",
        "a task or sync view returned a coroutine that never ran",
        happened="""
            A task or a sync view returned a coroutine instead of running it: a Celery
            task written as `async def`, a plain `def` `django.tasks` task that returns a
            coroutine, or a sync view that returns what an async function gave it.
        """,
        harm="""
            The work never ran, so its writes never happen. Celery calls the function,
            gets a coroutine and, with a result backend, fails with `EncodeError` while
            storing it; without one it reports success. Nothing else says so but
            Python's "never awaited" warning (AGR106), which production logging often
            drops.
        """,
        bad="""
            # Bad: Celery gets a coroutine and never runs it (EncodeError with a result backend)
            @shared_task
            async def sync_positions_task(): ...
        """,
        fix="""
            # Good
            @shared_task
            def sync_positions_task():
                async_to_sync(_sync_positions)()
        """,
        detection="""
            Detected from the task function itself: in a worker when the task's `run`
            returns, before Celery stores the result (with a result backend, storing the
            coroutine fails with `EncodeError`); outside a worker at `task_prerun`. For
            views it comes from Django's "returned an unawaited coroutine" error.
            `manage.py check` reports such Celery tasks too (`async_guard.W005`). An
            `async def` task of `django.tasks` is not an event: the framework runs it
            itself. The event is only logged, even in raise mode: the coroutine is made
            by then, and raising would not make it run.
        """,
    ),
    EventDoc(
        "AGR106",
        "coroutine was never awaited",
        happened="""
            An `async def` function was called without `await`: it created a coroutine,
            which was garbage-collected without ever running.
        """,
        harm="""
            Its body never ran: the save, the e-mail or the cancelled order did not
            happen, and the caller went on as if it had. Python only prints a
            `RuntimeWarning` when the coroutine is collected.
        """,
        bad="""
            # Bad
            def handle(self, *args, **options):
                refresh_quotes(symbols)  # an async def: creates a coroutine, runs nothing
        """,
        fix="""
            # Good
            def handle(self, *args, **options):
                async_to_sync(refresh_quotes)(symbols)
        """,
        detection="""
            Python warns when the coroutine is garbage-collected, which may be in a later
            unit of work, on another thread, or in none, so the event is attributed by
            the coroutine's *origin*, not by the clock: `where` is the line that created
            the coroutine and `unit` the unit that created it. Sync units (and an async
            unit's sync work, such as a sync view under ASGI) turn on
            `sys.set_coroutine_origin_tracking_depth` for their own thread while they
            run; async code is never slowed down by it. The creating unit is read back
            from the origin in one of two ways:

            * requests (sync path), `@async_guard.watch()`-ed functions, Celery tasks in a
              worker (the hook wraps each task's `run` at `worker_init`, before the worker
              builds its tracers) and an async unit's sync work run through a small
              trampoline frame named after the unit's slot in a process-wide ring of 256
              units: exact as long as fewer than 256 units started since;
            * `with watch(...)` blocks (and tasks run outside a worker) have no frame of
              the guard under them: their tracking depth itself is the slot, in a ring of
              16. Exact when fewer than 16 units started since and the creating stack was
              deeper than the depth asked for.

            When a unit ends with no event, its place in the ring keeps its label, kind
            and owner thread rather than the unit itself, and a late coroutine's event is
            logged for a unit rebuilt from them (once per place, so that two late
            coroutines from one line are one event, as they would have been while it ran).
            A unit that has logged an event keeps its place as it is.

            A coroutine whose creator cannot be decoded is attributed to the unit running
            when it is collected (or the last one its thread ran). A never-awaited
            coroutine created in async code is attributed the same way. The event is
            only logged, even in raise mode: the garbage collector cannot raise into
            your code.
        """,
    ),
    EventDoc(
        "AGR107",
        "database connection opened on another thread is still open",
        happened="""
            A database connection was opened on another thread during the unit (asgiref's
            executor thread, through `sync_to_async` after `asyncio.run()`: the AGR101
            path) and was still open when the unit ended.
        """,
        harm="""
            Django's request and task cleanup closes only the current thread's
            connections, so nothing ever closes or recycles that one: it ignores
            `CONN_MAX_AGE`, stays broken after the database drops it, and a transaction
            left open on it keeps its locks. Each thread that does this holds one more
            connection, until the database refuses new clients.
        """,
        bad="""
            # Bad: each such task leaves one more connection open on asgiref's thread
            asyncio.run(save_quote(position))
        """,
        fix="""
            # Good
            async_to_sync(save_quote)(position)
        """,
        detection="""
            Checked when the unit really ends: for a request after the response is closed
            and `request_finished` has run (under ASGI, Django closes a sync view's
            connection only then).
        """,
    ),
    EventDoc(
        "AGR108",
        "async/sync error escaped the unit of work",
        happened="""
            An async/sync error failed the unit: `SynchronousOnlyOperation`,
            `RuntimeError: Event loop is closed`, or asgiref's "You cannot use AsyncToSync
            in the same thread as an async event loop".
        """,
        harm="""
            The request or task failed, and Django's traceback says what broke but not
            why, nor what to change. The event gives the diagnosis and the fix beside
            that traceback; the exception is re-raised unchanged, in raise mode too.
        """,
        bad="""
            # Bad: sync ORM inside async def
            async def fix_position():
                position = Position.objects.get(id=33)       # SynchronousOnlyOperation

            # Bad: a client keeps a loop and closes it after each call
            def fetch_sync(self, symbol):
                result = self.loop.run_until_complete(self.fetch(symbol))
                self.loop.close()  # the next call fails: "Event loop is closed"
                return result
        """,
        fix="""
            # Good
            async def fix_position():
                position = await Position.objects.aget(id=33)

            # Good: fetch() opens its session itself; async_to_sync gives it a fresh loop each call
            def fetch_sync(self, symbol):
                return async_to_sync(self.fetch)(symbol)
        """,
    ),
    EventDoc(
        "AGR109",
        "call can never complete: it waits for the thread that is waiting for it",
        happened="""
            A sync view under ASGI runs on the request's one-thread executor. It ran
            `asyncio.run(coro)`, and `coro` touched the ORM: asgiref sends that work to
            the request's executor, the very thread that is busy running the view.
        """,
        harm="""
            The call waits forever, and so does the request: its worker thread is stuck
            for good. No query runs, so AGR101 cannot fire, and nothing is logged
            without the guard.
        """,
        bad="""
            # Bad: deadlocks under ASGI
            def close_position_view(request, pk):
                asyncio.run(mark_closing_by_pk(pk))          # awaits Position.objects.aget(...)
        """,
        fix="""
            # Good: an async view awaits the async ORM
            async def close_position_view(request, pk):
                await mark_closing_by_pk(pk)
        """,
        detection="""
            The guard sees the hand-off (`loop.run_in_executor` to an executor whose only
            thread is the calling thread) when `sync_to_async` is called, before it
            blocks; in raise mode it raises instead of hanging. The same shape inside
            `async_to_sync` (the outer `CurrentThreadExecutor` belongs to the calling
            thread) is reported before asgiref's own "You cannot submit onto
            CurrentThreadExecutor from its own thread". A fresh loop that never makes
            such a call is not an event.
        """,
    ),
)

TITLES: dict[str, str] = {event.code: event.title for event in EVENTS}

_BY_CODE = {event.code: event for event in EVENTS}


def get_event(code: str) -> EventDoc | None:
    """The event of ``code`` (any case), or ``None``."""
    return _BY_CODE.get(code.strip().upper())
