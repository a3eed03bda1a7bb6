"""Which files a run audits: the Python files under the paths given."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from async_guard.audit.config import Config
from async_guard.audit.results import ParseError

#: Folders never walked into: caches, virtual environments, build output, VCS data.
SKIP_DIRS = frozenset(
    {"__pycache__", "node_modules", "site-packages", "venv", ".venv", ".git", ".hg", ".tox",
     ".nox", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".async_guard_cache", "build", "dist"}
)  # fmt: skip


def discover(
    paths: Sequence[str], config: Config, excluded_roots: list[str] | None = None
) -> tuple[list[tuple[str, str]], list[ParseError]]:
    """Python files under ``paths``, with display paths as given; missing paths are errors.

    A path given whose every Python file the configured ``exclude`` leaves out is
    appended to ``excluded_roots`` (asking for it by name does not override the
    configuration, as with ruff; the user is told rather than shown "0 files").
    """
    found: dict[str, tuple[str, str]] = {}
    errors: list[ParseError] = []
    for raw in paths:
        path = Path(raw)
        display_root = raw.rstrip("/\\") or raw
        if not path.exists() and not path.is_symlink():
            errors.append(ParseError(raw, 1, "does not exist"))
            continue
        if not path.is_dir():
            if not config.excluded(display_root):
                found.setdefault(display_root, (raw, display_root))
            elif excluded_roots is not None:
                excluded_roots.append(raw)
            continue
        kept = left_out = 0
        for folder, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
            rel_folder = os.path.relpath(folder, path)
            # os.walk sorted folders (a folder named x.py too: its files are walked like
            # any folder's) from the rest without another stat
            for name in sorted(files):
                if not name.endswith(".py"):
                    continue
                display = os.path.normpath(os.path.join(display_root, rel_folder, name))
                if config.excluded(display):
                    left_out += 1
                    continue
                kept += 1
                # os.path, not pathlib: this runs for every file of the tree
                found.setdefault(display, (os.path.join(folder, name), display))
        if left_out and not kept and excluded_roots is not None:
            excluded_roots.append(raw)
    return sorted(found.values(), key=lambda pair: pair[1]), errors
