"""Which files a run audits: the Python files under the paths given."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from async_guard.audit.config import Config
from async_guard.audit.results import ParseError

#: What marks the top folder of a project (the nearest one above the paths audited).
PROJECT_MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", "manage.py", ".git")
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


def project_roots(paths: Sequence[str], config: Config) -> tuple[str, ...]:
    """The projects the paths belong to: ``config.project_root`` when set, else for
    each path the nearest folder at or above it that holds one of ``PROJECT_MARKERS``
    (never the file system's root nor the home folder, where a marker belongs to no
    one project), else the path's own folder."""
    if config.project_root:
        return (config.project_root,)
    stops = {os.path.abspath(os.sep), os.path.abspath(os.path.expanduser("~"))}
    roots: dict[str, None] = {}
    for raw in paths:
        if not os.path.exists(raw):
            continue
        start = os.path.abspath(raw)
        if not os.path.isdir(start):
            start = os.path.dirname(start)
        roots[_marked(start, stops) or start] = None
    return tuple(roots) or (os.getcwd(),)


def _marked(folder: str, stops: set[str]) -> str | None:
    """The nearest folder at or above ``folder`` holding a project marker, short of ``stops``."""
    while folder not in stops:
        if any(os.path.exists(os.path.join(folder, marker)) for marker in PROJECT_MARKERS):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent
    return None


def source_roots(roots: Sequence[str], config: Config) -> tuple[str, ...]:
    """The folders imports are relative to: the configured ``src`` entries, else each
    project root and its ``src`` folder (ruff's default)."""
    if config.src:
        return config.src
    found: list[str] = []
    for root in roots:
        found.append(root)
        src = os.path.join(root, "src")
        if os.path.isdir(src):
            found.append(src)
    return tuple(found)


def project_files(
    paths: Sequence[str],
    roots: Sequence[str],
    config: Config,
    excluded_roots: list[str] | None = None,
) -> tuple[list[tuple[str, str, bool]], list[ParseError]]:
    """The files the paths name (``True``: reported on) and every other Python file of
    their projects under ``roots`` (``False``: read for what the named ones need)."""
    targets, errors = discover(paths, config, excluded_roots)
    found = [(path, display, True) for path, display in targets]
    # a root named as a path holds no file that is not a target already
    given = {os.path.abspath(path) for path in paths if os.path.isdir(path)}
    others = [root for root in roots if os.path.abspath(root) not in given]
    if others:
        named = {os.path.abspath(path) for path, _ in targets}
        for path, display in discover(others, config)[0]:
            if os.path.abspath(path) not in named:
                found.append((path, display, False))
    return found, errors
