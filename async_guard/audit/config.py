"""The audit's effective configuration: defaults < pyproject.toml < settings < command line.

``[tool.async_guard]`` in the nearest ``pyproject.toml`` and, for the management
command, ``ASYNC_GUARD["AUDIT"]`` use the same keys; unknown keys and bad values
raise :class:`ConfigError` naming the key and where it came from.
"""

from __future__ import annotations

import fnmatch
import os
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

FAIL_ON = ("error", "warning", "never")


class ConfigError(ValueError):
    """Bad configuration; the message names the key (or option) and the file."""


@dataclass(frozen=True)
class Config:
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    task_decorators: tuple[str, ...] = ()
    known_async: tuple[str, ...] = ()
    fail_on: str = "warning"
    cache: bool = True
    cache_dir: str = ".async_guard_cache"
    jobs: int = 0
    #: Skip files whose text holds no trigger of an enabled rule (see engine).
    skip: bool = True
    #: Models known from the app registry (manage.py): qualname -> {field: kind}.
    registry_models: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = field(default=())
    #: Manager attribute names known from the app registry, beyond ``objects``.
    registry_managers: tuple[str, ...] = ()
    #: Each model's relations from the app registry, reverse accessors included:
    #: qualname -> ((attribute, kind, related model qualname), ...); kinds as
    #: ``ProjectIndex.model_relations`` gives them.
    registry_relations: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...] = ()
    #: Each model's managers from the app registry: qualname -> ((attribute, classes
    #: whose methods it offers), ...).
    registry_model_managers: tuple[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]], ...] = ()
    #: ``settings.AUTH_USER_MODEL``'s class, from the app registry ("" without one).
    registry_user_model: str = ""
    #: Folder of the pyproject.toml the globs are relative to ("" = current folder).
    root: str = ""
    #: The project whose every file the index is built from ("" = found from the paths:
    #: see ``discover.project_roots``), absolute.
    project_root: str = ""
    #: Folders (absolute) that imports are relative to, like ruff's ``src``: a file's
    #: module is named from the deepest one holding it ("" entries: none configured,
    #: the project root and its ``src`` folder then).
    src: tuple[str, ...] = ()

    def enabled(self, code: str) -> bool:
        if self.select and not any(code.startswith(p) for p in self.select):
            return False
        return not any(code.startswith(p) for p in self.ignore)

    def _forms(self, path: str) -> list[str]:
        forms = [Path(path).as_posix()]
        if self.root:
            rel = os.path.relpath(os.path.abspath(path), self.root)
            if not rel.startswith(".."):
                forms.append(Path(rel).as_posix())
        return forms

    def ignored_in(self, path: str, code: str) -> bool:
        if not self.per_file_ignores:
            return False
        forms = self._forms(path)
        return any(
            code.startswith(prefix)
            for pattern, prefixes in self.per_file_ignores
            if any(_match(form, pattern) for form in forms)
            for prefix in prefixes
        )

    def excluded(self, path: str) -> bool:
        if not self.exclude:
            return False
        forms = self._forms(path)
        return any(_match(form, pattern) for pattern in self.exclude for form in forms)

    def fingerprint(self) -> str:
        """What the cached findings of a file depend on besides its text."""
        data = asdict(self)
        for key in ("fail_on", "cache", "cache_dir", "jobs", "exclude", "root"):
            data.pop(key)
        import hashlib  # here: only a run with a cache needs it (and json)
        import json

        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]

    def merged(self, **values: Any) -> Config:
        return replace(self, **{k: v for k, v in values.items() if v is not None})


def _match(posix: str, pattern: str) -> bool:
    pattern = pattern.rstrip("/")
    if fnmatch.fnmatch(posix, pattern) or fnmatch.fnmatch(posix, f"*/{pattern}"):
        return True
    # a folder pattern excludes what lies under it
    parts = posix.split("/")
    return any(
        fnmatch.fnmatch("/".join(parts[:i]), pattern)
        or fnmatch.fnmatch("/".join(parts[:i]), f"*/{pattern}")
        for i in range(1, len(parts))
    )


def _codes(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v for v in value.replace(",", " ").split() if v]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of rule codes, got {value!r}")
    codes = tuple(v.strip().upper() for v in value)
    for code in codes:
        if not ((code.startswith("AG") and code[2:].isdigit()) or code == "AG"):
            raise ConfigError(f"{where}: {code!r} is not a rule code or prefix like AG1 or AG101")
    return codes


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of strings, got {value!r}")
    return tuple(value)


def from_mapping(data: Mapping[str, Any], source: str, base: Config | None = None) -> Config:
    """Apply a ``[tool.async_guard]``-style mapping to ``base``; ``source`` names it in errors."""
    config = base or Config()
    values: dict[str, Any] = {}
    for raw_key, value in data.items():
        key = raw_key.replace("-", "_").lower()
        where = f"{source}: {raw_key}"
        if key in ("select", "ignore"):
            values[key] = _codes(value, where)
        elif key in ("exclude", "task_decorators", "known_async"):
            values[key] = _strings(value, where)
        elif key == "project_root":
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{where}: expected a folder, got {value!r}")
            values[key] = value
        elif key == "src":
            values[key] = _strings(value, where)
        elif key == "per_file_ignores":
            if not isinstance(value, Mapping):
                raise ConfigError(f"{where}: expected a table of glob = [codes], got {value!r}")
            values[key] = tuple(
                (str(pattern), _codes(codes, f"{where}.{pattern}"))
                for pattern, codes in value.items()
            )
        elif key == "fail_on":
            if value not in FAIL_ON:
                raise ConfigError(f"{where}: expected one of {', '.join(FAIL_ON)}, got {value!r}")
            values[key] = value
        elif key in ("cache", "checks"):
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: expected true or false, got {value!r}")
            if key == "cache":
                values[key] = value
        elif key == "jobs":
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"{where}: expected a whole number >= 0, got {value!r}")
            values[key] = value
        else:
            known = (
                "select, ignore, exclude, per-file-ignores, task-decorators, known-async, "
                "fail-on, cache, jobs, project-root, src"
            )
            raise ConfigError(f"{where}: unknown key (known keys: {known})")
    return replace(config, **values)


def find_pyproject(start: Path) -> Path | None:
    start = start.resolve()
    for folder in (start, *start.parents) if start.is_dir() else start.parents:
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_pyproject(path: Path, base: Config | None = None) -> Config:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    section = data.get("tool", {}).get("async_guard", {})
    if not isinstance(section, Mapping):
        raise ConfigError(f"{path}: [tool.async_guard] must be a table")
    config = from_mapping(section, f"{path} [tool.async_guard]", base)
    return anchored(replace(config, root=str(path.parent.resolve())), path.parent, str(path))


def anchored(config: Config, folder: Path, source: str) -> Config:
    """``project-root`` and ``src`` made absolute from ``folder`` (where they were
    written); a folder that does not exist is an error naming ``source``."""
    values: dict[str, Any] = {}
    if config.project_root:
        root = (folder / config.project_root).resolve()
        if not root.is_dir():
            raise ConfigError(f"{source}: project-root: {config.project_root!r} is not a folder")
        values["project_root"] = str(root)
    if config.src:
        values["src"] = tuple(str((folder / entry).resolve()) for entry in config.src)
    return replace(config, **values)
