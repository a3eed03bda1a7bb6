"""The before/after fixture corpus of the autofixes, and running the real audit on it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from async_guard.audit.engine import audit_source
from async_guard.audit.finding import Finding
from async_guard.audit.rules import get_rule
from async_guard.fix import FIXABLE_CODES

FIX_FILES = Path(__file__).resolve().parent.parent / "fix_files"
_PATH_HEADER = re.compile(r"#\s*path:\s*(\S+)")


@dataclass(frozen=True)
class Case:
    """``<code>_<topic>.py`` and its expected ``<code>_<topic>.fixed.py``."""

    before: Path

    @property
    def name(self) -> str:
        return self.before.stem

    @property
    def code(self) -> str:
        return self.name.split("_", 1)[0].upper()

    @property
    def after(self) -> Path:
        return self.before.with_name(f"{self.name}.fixed.py")

    @property
    def source(self) -> str:
        return self.before.read_text(encoding="utf-8")

    @property
    def audit_path(self) -> str:
        """Where the audit believes the file lives (``# path:`` header; context comes from it)."""
        match = _PATH_HEADER.match(self.source)
        return match.group(1) if match else self.before.name


def cases() -> list[Case]:
    return [
        Case(path) for path in sorted(FIX_FILES.glob("*.py")) if not path.name.endswith(".fixed.py")
    ]


def missing_rule(code: str) -> bool:
    """Whether the engine does not have the rule yet (the fixture then cannot run)."""
    return get_rule(code) is None


def fixable(source: str, path: str) -> list[Finding]:
    """The real audit's findings on ``source`` that some fixer covers."""
    return [f for f in audit_source(source, path) if f.code in FIXABLE_CODES]
