"""What the audit reports: one immutable, sortable, hashable ``Finding`` per problem.

Shared by the engine, the rules, the reporters, the baseline and the autofixes,
so it imports nothing else from the package.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]

#: Where a finding's code runs, as reported in ``context`` (stable: JSON consumers use it).
CONTEXTS = (
    "celery-task",
    "django-task",
    "view",
    "signal-receiver",
    "middleware",
    "management-command",
    "script",
    "async-function",
    "sync-function",
    "module",
)


@dataclass(frozen=True, order=True)
class Finding:
    """One problem at one place.

    Ordering is by ``path``, then position, then ``code``, which is the order every
    reporter prints. ``symbol`` (the qualified name of the enclosing function or
    class, ``""`` at module level) and ``source_line`` (the offending line's text,
    stripped) let a baseline recognise the same finding after unrelated edits move
    it; they take no part in ordering or equality beyond what the position already
    says.
    """

    path: str
    line: int
    col: int
    code: str
    end_line: int
    end_col: int
    name: str = field(compare=False)
    severity: Severity = field(compare=False)
    message: str = field(compare=False)
    hint: str = field(compare=False, default="")
    context: str = field(compare=False, default="module")
    symbol: str = field(compare=False, default="")
    source_line: str = field(compare=False, default="")

    def as_json(self) -> dict[str, Any]:
        """The finding as the JSON reporter writes it (documented, versioned fields only)."""
        data = asdict(self)
        del data["symbol"], data["source_line"]
        return data


def char_column(line: str, byte_offset: int) -> int:
    """The character column of a UTF-8 byte offset into ``line`` (``ast`` counts
    bytes; reports, editors and people count characters)."""
    if line.isascii():
        return byte_offset
    return len(line.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))
