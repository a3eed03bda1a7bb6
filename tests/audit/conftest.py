"""A small project tree with one finding per AG1xx family, shared by the audit tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

TREE = {
    "pyproject.toml": """\
        [tool.async_guard]
        exclude = ["legacy/*"]
        """,
    "shop/__init__.py": "",
    "shop/tasks.py": """\
        import asyncio

        from celery import shared_task

        from shop.remote import fetch


        @shared_task
        def refresh(pk):
            return asyncio.run(fetch(pk))


        @shared_task
        def silenced(pk):
            return asyncio.run(fetch(pk))  # noqa: AG101


        @shared_task
        def bare_noqa(pk):
            return asyncio.run(fetch(pk))  # noqa
        """,
    "shop/remote.py": """\
        import asyncio


        async def fetch(pk):
            return pk


        def leaky():
            loop = asyncio.new_event_loop()  # async-guard: ignore[AG102]
            return loop.run_until_complete(fetch(1))


        def leaky_too():
            loop = asyncio.new_event_loop()
            return loop.run_until_complete(fetch(2))
        """,
    "shop/plain.py": """\
        def add(a, b):
            return a + b
        """,
    "legacy/old.py": """\
        import asyncio
        asyncio.get_event_loop()
        """,
}


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "project", TREE)
