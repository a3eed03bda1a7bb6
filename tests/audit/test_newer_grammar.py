"""Python 3.12 syntax is audited, not reported as needing a newer grammar, on 3.12+.

Through the console script, as a user runs it: a module with a ``type``
statement, generic functions and classes (PEP 695) and f-strings that nest
their own quotes (PEP 701) gets its findings, inside the new syntax too, and
no AG000. On older interpreters the same module is one AG000 naming the
grammar it needs (tests/audit/test_engine.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    sys.version_info < (3, 12),
    reason=f"needs Python 3.12+ to parse 3.12 syntax; this is {sys.version.split()[0]}",
)

MODULE = """\
import asyncio

from celery import shared_task

type Ids = list[int]


async def fetch_quotes[T](symbols: list[T]) -> dict[T, str]:
    return {symbol: f"{symbol}: {f"{"bid"!r}"}" for symbol in symbols}


class Batch[T]:
    def __init__(self, items: list[T]) -> None:
        self.items = items

    def loop(self) -> asyncio.AbstractEventLoop:
        return asyncio.get_event_loop()


def label(quote: dict[str, str]) -> str:
    return f"{quote["symbol"]} at {quote["bid"]}"


def first[T: (int, str)](items: list[T]) -> T:
    asyncio.get_event_loop()
    return items[0]


@shared_task
def refresh_quotes(ids: Ids) -> None:
    asyncio.run(fetch_quotes(ids))
"""


def test_312_syntax_is_audited_through_the_console_script(tmp_path: Path) -> None:
    (tmp_path / "tasks.py").write_text(MODULE, encoding="utf-8")
    compile(MODULE, "tasks.py", "exec")  # valid on this interpreter: nothing here is a typo
    script = Path(sys.executable).with_name("async-guard")
    result = subprocess.run(
        [str(script), "check", ".", "--format", "json", "--no-cache"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr  # findings, not an error of the run
    report = json.loads(result.stdout)
    assert report["parse_errors"] == []
    found = {(f["line"], f["code"], f["context"]) for f in report["findings"]}
    assert found == {
        (17, "AG106", "sync-function"),  # inside a generic class
        (25, "AG106", "sync-function"),  # inside a generic function with a constrained type
        (31, "AG101", "celery-task"),  # a task whose parameter is a `type` alias
    }
