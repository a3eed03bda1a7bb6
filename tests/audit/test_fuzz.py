"""The audit never crashes, whatever the source (hypothesis and hypothesmith)."""

from __future__ import annotations

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from async_guard.audit.finding import CONTEXTS
from async_guard.audit.walk import audit_source

FRAGMENTS = [
    "import asyncio\n", "from asgiref.sync import async_to_sync, sync_to_async\n",
    "from celery import shared_task\n", "@shared_task\n", "async def f(x):\n", "def g(request):\n",
    "    return asyncio.run(f(1))\n", "    loop = asyncio.new_event_loop()\n",
    "    loop.run_until_complete(f(2))\n", "    await f(3)\n", "    async_to_sync(f)(4)\n",
    "class C(models.Model):\n", "    x = models.ForeignKey('A')\n", "    pass\n",
    "if __name__ == '__main__':\n", "    asyncio.get_event_loop()\n", "try:\n", "finally:\n",
    "    loop.close()\n", "s = run_async(f(1))\n", "    def h():\n", "(", ")", ":", "\t", "\x00",
]  # fmt: skip


def _check(source: str) -> None:
    for finding in audit_source(source, "apps/views.py"):
        assert finding.line >= 1 and finding.col >= 1
        assert finding.context in CONTEXTS
        assert finding.severity in ("error", "warning")


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=30).map("".join))
def test_fragments_never_crash(source: str) -> None:
    _check(source)


# hypothesmith compiles what it generates ("<string>"): that compiler's warnings about
# the generated code are its own, not the audit's (which silences the scanned code's).
@pytest.mark.filterwarnings("ignore::SyntaxWarning")
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_grammar())
def test_grammar_generated_source_never_crashes(source: str) -> None:
    _check(source)


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(max_size=200))
def test_arbitrary_text_never_crashes(source: str) -> None:
    _check(source)
