"""Autofix: mechanical rewrites for the findings that have one safe answer.

``fix_source(source, findings) -> FixResult`` is pure (no I/O): the command line
reads the file, audits it, calls it and writes the result atomically. Fixers
live one per module under ``async_guard.fix.fixers`` and register themselves;
``FIXABLE_CODES`` is the set of codes they cover. Comments and formatting
survive because the rewrite works on libcst's concrete syntax tree.

Importing this package is cheap: libcst and the fixers load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["FIXABLE_CODES", "FixResult", "fix_source"]

if TYPE_CHECKING:
    from async_guard.fix.apply import FixResult, fix_source

    FIXABLE_CODES: frozenset[str]


def __getattr__(name: str) -> Any:
    if name == "FIXABLE_CODES":
        from async_guard.fix.apply import registry

        return frozenset(registry())
    if name in ("FixResult", "fix_source"):
        from async_guard.fix import apply

        return getattr(apply, name)
    raise AttributeError(f"module 'async_guard.fix' has no attribute {name!r}")
