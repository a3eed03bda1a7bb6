"""Writing one benchmark's section of ``docs/performance.md``, leaving the others alone."""

from __future__ import annotations

import os
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs" / "performance.md"


def write_section(section: str, text: str, docs: Path = DOCS) -> None:
    """Replace (or append) the ``section`` heading's part of ``docs`` atomically."""
    current = docs.read_text(encoding="utf-8") if docs.exists() else "# Performance\n"
    start = current.find(f"\n{section}\n")
    if start == -1:
        updated = current.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n"
    else:
        end = current.find("\n## ", start + len(section) + 2)
        tail = current[end:] if end != -1 else "\n"
        updated = current[: start + 1] + text.rstrip("\n") + "\n" + tail
    docs.parent.mkdir(parents=True, exist_ok=True)
    temporary = docs.with_name(f".{docs.name}.{os.getpid()}.tmp")
    temporary.write_text(updated, encoding="utf-8")
    os.replace(temporary, docs)
