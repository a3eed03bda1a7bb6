"""``python -m async_guard``: the same as the ``async-guard`` command."""

from async_guard.cli import run

run()
