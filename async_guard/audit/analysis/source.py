"""Read one file: bytes, encoding, one parse, import resolution.

A file that cannot be read or parsed becomes a :class:`SourceProblem` (reported
as AG000) instead of an exception, so one bad file never stops the run. The
scanned code is only ever parsed, never imported or executed.
"""

from __future__ import annotations

import ast
import builtins
import errno
import functools
import io
import os
import re
import stat
import sys
import tokenize
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

_BUILTINS = frozenset(dir(builtins))


class SourceProblem(Exception):
    """A file that cannot be audited; ``line`` is 1-based (1 when unknown)."""

    def __init__(
        self, message: str, line: int = 1, col: int = 1, *, unreadable: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        #: True when the file could not be read at all (listed, but not an AG000 finding).
        self.unreadable = unreadable
        self.line = max(line, 1)
        self.col = max(col, 1)


def too_deep() -> SourceProblem:
    """A file nested deeper than the audit's walk can follow (Python's recursion limit)."""
    return SourceProblem("too deeply nested to audit (recursion limit)")


def decode_source(data: bytes) -> str:
    """Decode like the interpreter does: BOM or PEP 263 cookie, else UTF-8."""
    head = data[: data.find(b"\n", data.find(b"\n") + 1) + 1 or len(data)]
    if b"coding" not in head and not data.startswith(b"\xef\xbb\xbf"):
        # no BOM and no cookie in the first two lines (where PEP 263 puts it): UTF-8,
        # without tokenize's line-by-line detection
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass  # reported below, with the line
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:  # an unknown or conflicting encoding cookie
        raise SourceProblem(f"cannot decode: {exc}") from None
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        line = data[: getattr(exc, "start", 0)].count(b"\n") + 1
        hint = "" if encoding != "utf-8" else " (add a PEP 263 coding cookie if it is not UTF-8)"
        raise SourceProblem(f"not valid {encoding} text{hint}", line) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


# Syntax that a newer interpreter accepts, recognised on the line a SyntaxError names.
_NEWER_GRAMMAR = (
    (
        (3, 14),
        re.compile(r"^\s*except\s*\*?\s*[\w.]+\s*,\s*[\w.]+(\s*,\s*[\w.]+)*\s*:"),
        "`except A, B:` without parentheses",
    ),
    ((3, 12), re.compile(r"^\s*type\s+[A-Za-z_]\w*\s*(\[.*\])?\s*="), "`type` statements"),
    ((3, 12), re.compile(r"^\s*(async\s+)?def\s+\w+\s*\["), "generic function syntax"),
    ((3, 12), re.compile(r"^\s*class\s+\w+\s*\["), "generic class syntax"),
    ((3, 11), re.compile(r"^\s*except\s*\*"), "`except*`"),
    ((3, 10), re.compile(r"^\s*(match|case)\b"), "`match` statements"),
)
_FSTRING_REUSED_QUOTE = re.compile(r"""\bf(["'])[^"'\n]*\{[^}\n]*\1""", re.IGNORECASE)


def _newer_grammar(text: str, exc: SyntaxError) -> str | None:
    lines = text.splitlines()
    lineno = exc.lineno or 1
    line = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
    for version, pattern, what in _NEWER_GRAMMAR:
        if sys.version_info < version and pattern.search(line):
            return _needs(version, what)
    if sys.version_info < (3, 12) and (
        "f-string" in str(exc.msg) or _FSTRING_REUSED_QUOTE.search(line)
    ):
        return _needs((3, 12), "f-strings that reuse their quote or nest expressions")
    return None


def _needs(version: tuple[int, int], what: str) -> str:
    running = f"{sys.version_info[0]}.{sys.version_info[1]}"
    return (
        f"needs the Python {version[0]}.{version[1]} grammar ({what}); "
        f"the audit runs on Python {running}: run it with Python {version[0]}.{version[1]}+"
    )


def parse_source(text: str) -> ast.Module:
    """Parse once; every failure becomes a :class:`SourceProblem`."""
    if "\x00" in text:
        raise SourceProblem(
            "contains NUL bytes: not Python source", text[: text.index("\x00")].count("\n") + 1
        )
    try:
        # The scanned code's own warnings (invalid escapes, ``is`` with a literal)
        # are its compiler's business, not noise for the audit's user.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text, type_comments=False)
    except SyntaxError as exc:
        newer = _newer_grammar(text, exc)
        if newer:
            raise SourceProblem(newer, exc.lineno or 1) from None
        raise SourceProblem(f"syntax error: {exc.msg}", exc.lineno or 1, exc.offset or 1) from None
    except (RecursionError, MemoryError):
        raise SourceProblem("too deeply nested for Python's parser (recursion limit)") from None
    except ValueError as exc:  # pragma: no cover - other interpreter versions
        raise SourceProblem(f"cannot parse: {exc}") from None


def module_name(path: str) -> tuple[str, bool]:
    """Dotted module name guessed from ``path`` and whether it is a package ``__init__``.

    On disk, parent folders count while they hold an ``__init__.py``; for an
    in-memory path (fixtures) every folder counts.
    """
    # os.path, not pathlib: this runs for every file of the tree
    name = os.path.basename(path)
    is_package = name == "__init__.py"
    own: list[str] = [] if is_package else [os.path.splitext(name)[0]]
    if os.path.exists(path):
        parts = [*_package_of(os.path.dirname(os.path.abspath(path))), *own]
    else:
        parts = [part for part in Path(path).parent.parts if part not in ("/", ".", "..")] + own
    return ".".join(parts) or "__main__", is_package


def module_names(path: str, roots: Sequence[str]) -> tuple[str, bool, str]:
    """The module ``path`` is, named from the deepest of ``roots`` (source folders, like
    ruff's ``src``) that holds it, whether it is a package ``__init__``, and the name
    the ``__init__.py`` files give it when that differs (else "").

    From a source root, every folder counts, with or without ``__init__.py``: a
    namespace package (PEP 420) and a Django app without ``__init__.py`` are named as
    they are imported. The other name stays known as an alias: a script run from its
    own folder imports its neighbours by their bare names. A path whose folders from
    the root are no Python names (``django-5.2/django/...``) keeps the name its
    ``__init__.py`` files give it. Worked out once per folder: a tree has far fewer
    folders than files.
    """
    folder, name = os.path.split(os.path.abspath(path))
    is_package = name == "__init__.py"
    stem = os.path.splitext(name)[0]
    rooted, packaged = _folder_names(folder, tuple(roots))
    if packaged is None:  # not on disk (an in-memory fixture): every folder counts
        guessed, _ = module_name(path)
        return guessed, is_package, ""
    own = () if is_package else (stem,)
    guessed = ".".join((*packaged, *own)) or "__main__"
    if rooted is None or not (stem.isidentifier() or is_package):
        return guessed, is_package, ""
    found = ".".join((*rooted, *own)) or guessed
    return found, is_package, (guessed if guessed != found else "")


@functools.lru_cache(maxsize=4096)
def _folder_names(
    folder: str, roots: tuple[str, ...]
) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """A folder's package path from the deepest source root holding it (None when no
    root does, or a folder on the way is no Python name), and the one its
    ``__init__.py`` files give (None when the folder is not on disk)."""
    if not os.path.isdir(folder):
        return None, None
    best = ""
    for root in roots:
        root = root.rstrip(os.sep)
        if len(root) > len(best) and (folder == root or folder.startswith(root + os.sep)):
            best = root
    rooted: tuple[str, ...] | None = None
    if best:
        parts = () if folder == best else tuple(folder[len(best) + 1 :].split(os.sep))
        rooted = parts if all(part.isidentifier() for part in parts) else None
    return rooted, _package_of(folder)


@functools.lru_cache(maxsize=4096)
def _package_of(folder: str) -> tuple[str, ...]:
    parent = os.path.dirname(folder)
    if parent == folder or not os.path.exists(os.path.join(folder, "__init__.py")):
        return ()
    return (*_package_of(parent), os.path.basename(folder))


@dataclass
class SourceFile:
    """One parsed file, shared by every rule of the walk."""

    path: str
    text: str
    tree: ast.Module
    module: str = ""
    is_package: bool = False
    #: Another name the module is imported by ("" for none: see ``module_names``).
    alias: str = ""
    imports: dict[str, str] = field(default_factory=dict)
    definitions: set[str] = field(default_factory=set)
    #: Modules imported with ``from X import *``, in order.
    star_imports: list[str] = field(default_factory=list)

    @classmethod
    def from_text(
        cls, text: str, path: str, module: str | None = None, alias: str = ""
    ) -> SourceFile:
        tree = parse_source(text)
        guessed, is_package = module_name(path)
        sf = cls(
            path=path,
            text=text,
            tree=tree,
            module=module or guessed,
            is_package=is_package,
            alias=alias,
        )
        sf._collect_names()
        return sf

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def source_of(self, node: ast.AST) -> str:
        """The text of the lines ``node`` spans (the whole file for a module)."""
        if isinstance(node, ast.Module):
            return self.text
        start = getattr(node, "lineno", 1)
        end = getattr(node, "end_lineno", None) or start
        return "\n".join(self.lines[start - 1 : end])

    def line(self, lineno: int) -> str:
        return self.lines[lineno - 1] if 0 < lineno <= len(self.lines) else ""

    def _collect_names(self) -> None:
        # Imports anywhere in the file count: a function-local ``import asyncio``
        # still means the stdlib module (names are rarely rebound to something else).
        for node in _statements(self.tree.body):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.imports[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".")[0]
                        self.imports.setdefault(top, top)
            elif isinstance(node, ast.ImportFrom):
                base = self._absolute(node.module, node.level)
                for alias in node.names:
                    if alias.name == "*":
                        self.star_imports.append(base)
                    else:
                        self.imports[alias.asname or alias.name] = f"{base}.{alias.name}".lstrip(
                            "."
                        )
        for stmt in self.tree.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.definitions.add(stmt.name)
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                self.definitions.update(t.id for t in targets if isinstance(t, ast.Name))
        for name in self.definitions:
            self.imports.pop(name, None)

    def _absolute(self, module: str | None, level: int) -> str:
        if not level:
            return module or ""
        package = self.module.split(".")
        if not self.is_package:
            package = package[:-1]
        if level > 1:
            package = package[: len(package) - (level - 1)]
        return ".".join([*package, *([module] if module else [])])

    def resolve(self, expr: ast.AST) -> str | None:
        """The dotted name ``expr`` refers to through this file's imports, or None.

        ``asyncio.run`` -> ``"asyncio.run"``; ``sync_to_async`` imported from asgiref
        -> ``"asgiref.sync.sync_to_async"``; a module-level definition ->
        ``"<module>.<name>"``; an unshadowed builtin -> ``"builtins.<name>"``.
        """
        if isinstance(expr, ast.Name):
            if expr.id in self.imports:
                return self.imports[expr.id]
            if expr.id in self.definitions:
                return f"{self.module}.{expr.id}"
            if expr.id in _BUILTINS:
                return f"builtins.{expr.id}"
            return None
        if isinstance(expr, ast.Attribute):
            base = self.resolve(expr.value)
            return f"{base}.{expr.attr}" if base else None
        return None


def _statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """Every statement, nested ones included, without descending into expressions."""
    out: list[ast.stmt] = []
    stack = list(reversed(body))
    while stack:
        stmt = stack.pop()
        out.append(stmt)
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(stmt, name, None)
            if isinstance(children, list):
                for child in reversed(children):
                    if isinstance(child, ast.stmt):
                        stack.append(child)
                    else:  # except handlers and match cases hold statements
                        stack.extend(reversed(getattr(child, "body", [])))
    return out


def dotted(expr: ast.AST) -> str | None:
    """``a.b.c`` as written (no import resolution), or None for anything else."""
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        base = dotted(expr.value)
        return f"{base}.{expr.attr}" if base else None
    return None


def read_file(path: str | os.PathLike[str]) -> bytes:
    """The file's bytes; what is not a readable regular file is an unreadable problem."""
    try:
        # One open and one fstat per file; O_NONBLOCK: opening a FIFO must not wait
        # for a writer (it is refused below, unread).
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with open(fd, "rb", closefd=True) as handle:
            mode = os.fstat(fd).st_mode
            if stat.S_ISDIR(mode):
                raise SourceProblem("is a directory, not a Python file", unreadable=True)
            if not stat.S_ISREG(mode):
                # a FIFO or a device would block or never end
                raise SourceProblem("is not a regular file", unreadable=True)
            return handle.read()
    except IsADirectoryError:  # pragma: no cover - Windows cannot open a folder
        raise SourceProblem("is a directory, not a Python file", unreadable=True) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SourceProblem("symlink loop: cannot be read", unreadable=True) from None
        if exc.errno == errno.ENOENT:
            raise SourceProblem("does not exist (a dangling symlink?)", unreadable=True) from None
        raise SourceProblem(f"cannot be read: {exc.strerror or exc}", unreadable=True) from None
