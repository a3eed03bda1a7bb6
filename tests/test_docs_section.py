"""A benchmark's ``--write-docs`` rewrites its section of docs/performance.md, losing nothing.

The sections hold what people wrote under the generated tables (how to read
them, later runs, dissections); a rewrite used to replace all of it.
"""

from __future__ import annotations

import re
from pathlib import Path

from benchmarks.docs_section import DOCS, write_section

OLD = """# Performance

## Runtime overhead

Measured 2026-12-07 on a machine, with `x`: the old paragraph.

| operation | ratio |
|---|---|
| sync view | 1.052x |

Reading the numbers. Written by hand about the old table.

### Night session: a dissection

Hand-written, with its own table.

## Audit speed

Another benchmark's section.
"""

NEW = """## Runtime overhead

Measured 2026-12-08 on a machine, with `x`: the new paragraph.

| operation | ratio |
|---|---|
| sync view | 1.040x |
"""


def test_the_old_text_is_kept_after_the_new_table(tmp_path: Path) -> None:
    docs = tmp_path / "performance.md"
    docs.write_text(OLD, encoding="utf-8")
    write_section("## Runtime overhead", NEW, docs)
    text = docs.read_text(encoding="utf-8")
    assert text.startswith("# Performance\n\n## Runtime overhead\n\nMeasured 2026-12-08")
    order = [
        "| sync view | 1.040x |",
        "### The section's previous run (measured 2026-12-07)",
        "Measured 2026-12-07 on a machine",
        "| sync view | 1.052x |",
        "Reading the numbers. Written by hand",
        "### Night session: a dissection",
        "Hand-written, with its own table.",
        "## Audit speed\n\nAnother benchmark's section.",
    ]
    positions = [text.index(part) for part in order]
    assert positions == sorted(positions)


def test_a_subsection_the_new_text_has_is_replaced_not_repeated(tmp_path: Path) -> None:
    docs = tmp_path / "performance.md"
    docs.write_text(OLD, encoding="utf-8")
    new = NEW + "\n### Night session: a dissection\n\nRegenerated.\n"
    write_section("## Runtime overhead", new, docs)
    text = docs.read_text(encoding="utf-8")
    assert text.count("### Night session: a dissection") == 1
    assert "Regenerated." in text
    assert "Hand-written, with its own table." not in text


def test_writing_the_same_text_twice_changes_nothing(tmp_path: Path) -> None:
    docs = tmp_path / "performance.md"
    docs.write_text(OLD, encoding="utf-8")
    write_section("## Runtime overhead", NEW, docs)
    once = docs.read_text(encoding="utf-8")
    write_section("## Runtime overhead", NEW, docs)
    assert docs.read_text(encoding="utf-8") == once


def test_a_missing_section_is_appended(tmp_path: Path) -> None:
    docs = tmp_path / "performance.md"
    docs.write_text("# Performance\n\n## Audit speed\n\nText.\n", encoding="utf-8")
    write_section("## Runtime overhead", NEW, docs)
    text = docs.read_text(encoding="utf-8")
    assert text.startswith("# Performance\n\n## Audit speed\n\nText.\n\n## Runtime overhead\n")


def test_every_subsection_of_the_projects_own_docs_survives(tmp_path: Path) -> None:
    """On the real docs/performance.md: each section rewritten keeps every heading and paragraph."""
    real = DOCS.read_text(encoding="utf-8")
    for section in ("## Runtime overhead", "## Channels overhead"):
        docs = tmp_path / "performance.md"
        docs.write_text(real, encoding="utf-8")
        write_section(section, f"{section}\n\nMeasured 2099-01-01: a new run.\n", docs)
        text = docs.read_text(encoding="utf-8")
        for heading in re.findall(r"(?m)^##+ .*$", real):
            assert heading in text, (section, heading)
        for paragraph in real.split("\n\n"):
            assert paragraph.strip() in text, (section, paragraph[:80])
