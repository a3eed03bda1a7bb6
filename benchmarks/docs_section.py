"""Writing one benchmark's section of ``docs/performance.md``, leaving the others alone.

A section holds more than the table its benchmark writes: the text people
wrote under it (how to read the numbers, later runs, dissections), often as
``###`` subsections. Rewriting the section keeps all of it. The new table
goes first; a subsection the new text has too is replaced by it; the text
that stood before the old section's first subsection (the previous table and
what was written about it) moves under a heading of its own, and every other
old subsection stays where it was, after the new text.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs" / "performance.md"

_MEASURED = re.compile(r"Measured (\d{4}-\d{2}-\d{2})")


def _split(section: str) -> tuple[str, list[tuple[str, str]]]:
    """A section under its heading line: (text before the first ``###``, [(heading, text), ...])."""
    parts = re.split(r"(?m)^(### .*)$", section.partition("\n")[2])
    preamble, rest = parts[0], parts[1:]
    return preamble, [(rest[i], rest[i + 1]) for i in range(0, len(rest), 2)]


def merge_section(old: str, new: str) -> str:
    """The section ``new`` (heading first), keeping what ``old`` had that ``new`` does not."""
    new = new.rstrip("\n") + "\n"
    old_preamble, old_subsections = _split(old)
    new_preamble, new_subsections = _split(new)
    kept = []
    if old_preamble.strip() and old_preamble.strip() != new_preamble.strip():
        date = _MEASURED.search(old_preamble)
        title = f"measured {date.group(1)}" if date else "its text before this run"
        kept.append(f"### The section's previous run ({title})\n\n{old_preamble.strip()}\n")
    replaced = {heading for heading, _ in new_subsections}
    kept += [heading + text for heading, text in old_subsections if heading not in replaced]
    if not kept:
        return new
    return new + "\n" + "\n".join(part.rstrip("\n") + "\n" for part in kept)


def write_section(section: str, text: str, docs: Path = DOCS) -> None:
    """Replace (or append) the ``section`` heading's part of ``docs`` atomically.

    What the old section held beyond what ``text`` replaces is kept (see the
    module's docstring).
    """
    current = docs.read_text(encoding="utf-8") if docs.exists() else "# Performance\n"
    start = current.find(f"\n{section}\n")
    if start == -1:
        updated = current.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n"
    else:
        end = current.find("\n## ", start + len(section) + 2)
        old = current[start + 1 : end + 1] if end != -1 else current[start + 1 :]
        tail = current[end:] if end != -1 else "\n"
        merged = merge_section(old, text)
        updated = current[: start + 1] + merged.rstrip("\n") + "\n" + tail
    docs.parent.mkdir(parents=True, exist_ok=True)
    temporary = docs.with_name(f".{docs.name}.{os.getpid()}.tmp")
    temporary.write_text(updated, encoding="utf-8")
    os.replace(temporary, docs)
