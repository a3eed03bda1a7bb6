"""Text tests on the files the audit does not parse: words, renames, definitions.

Each is a superset of what it stands for (a word in a comment or a string counts
too), so a file it rules out surely does not hold the thing; none of them parses.
They are what lets the skip decide which files to read without reading them all.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable

#: A name after ``as`` (an import's rename, or ``except``/``with``: a superset), across
#: blanks and backslash-continued lines; UTF-8 bytes count as name characters.
_ALIAS = re.compile(rb"as(?:[ \t\f]|\\\r?\n)+([A-Za-z_\x80-\xff][A-Za-z0-9_\x80-\xff]*)")
#: ``bytes.translate`` table: every ASCII byte that no name holds becomes a space, so
#: ``split()`` gives a text's words (non-ASCII bytes stay: UTF-8 names stay whole).
#: Three times faster than a regex's ``findall`` over a large tree.
_WORD_BYTES = bytes(
    c if c >= 128 or chr(c).isalnum() or c == ord("_") else ord(" ") for c in range(256)
)
# ``as`` between blanks; the blank before is checked by hand (a leading ``\s`` would make
# ``re`` try every position of the text: seven times slower)
_AS = re.compile(r"as\s")
_IMPORT = re.compile("import")
# Patterns that start with a literal (``re`` finds it fast; a leading ``\b`` would
# make it try every position): each is a superset of what it stands for.
_STAR_IMPORT = re.compile(r"import\s*\*")
_CLAUSES = ("except ", "except(", "with ", "with(", "async with ")
_NAME_AFTER = re.compile(r"\s*([A-Za-z_]\w*)")


def import_renames(text: str) -> list[tuple[str, str]]:
    """Every ``name as alias`` of ``text`` that an import statement may hold (a superset:
    an import written in a comment or a string counts too).

    Only imports rename what a module re-exports; the ``as`` of ``except``, ``with``
    and prose ("the Worker as a whole") named no function or class, and made every
    file that mentions ``a`` or ``e`` look as if it named one. Found from each ``as``
    outwards: a regex that starts with a name would try every position of the text,
    five times slower on a large tree.
    """
    pairs: list[tuple[str, str]] = []
    imports: list[int] | None = None
    if "import" not in text:
        return pairs
    for match in _AS.finditer(text):
        at = match.start() - 1  # the blank before ``as``
        if at < 0 or not text[at].isspace():
            continue
        line = text[text.rfind("\n", 0, at) + 1 : at].lstrip()
        if line.startswith(_CLAUSES):
            continue  # ``except E as e``, ``with f() as g``: a hard keyword starts no import
        if imports is None:
            imports = [m.start() for m in _IMPORT.finditer(text)]
        if not in_import(text, at, imports):
            continue
        end = at
        while end > 0 and text[end - 1].isspace():
            end -= 1
        start = end
        while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
            start -= 1
        alias = _NAME_AFTER.match(text, match.end() - 1)
        if start < end and not text[start].isdigit() and alias is not None:
            pairs.append((text[start:end], alias.group(1)))
    return pairs


def in_import(text: str, at: int, imports: list[int]) -> bool:
    """``at`` may lie in an import statement: after ``import`` (``imports`` holds where
    the word stands) on its logical line, a physical line or one continued by an open
    parenthesis or a backslash. Each test stops at the first character that settles it:
    an ``except ... as`` deep in a long file must not rescan the file."""
    i = bisect.bisect_right(imports, at) - 1
    if i < 0:
        return False
    start = imports[i]
    newline = text.find("\n", start, at)
    if newline < 0:
        return True
    opened = text.find("(", start, at)
    if 0 <= opened < newline and text.find(")", opened, at) < 0:
        return True
    while newline >= 0:  # every line break on the way continued by a backslash
        if text[newline - 1] != "\\":
            return False
        newline = text.find("\n", newline + 1, at)
    return True


def may_define(text: str, name: str, *, classes: bool = True) -> bool:
    """``text`` may import something as ``name``, or import ``*``, or (with ``classes``)
    define a class ``name`` (a superset: comments and strings count too)."""
    if _STAR_IMPORT.search(text):
        return True  # anything public may come from the other module
    if name not in text:
        return False
    word = re.escape(name)
    if classes and re.search(r"class[\s\\]+" + word + r"(?!\w)", text):
        return True
    imports = [m.start() for m in _IMPORT.finditer(text)]
    return any(
        in_import(text, m.start(), imports)
        for m in re.finditer(word + r"(?!\w)", text)
        if not (m.start() and (text[m.start() - 1].isalnum() or text[m.start() - 1] == "_"))
    )


def module_prefix(name: str, modules: set[str]) -> str | None:
    """The longest prefix of dotted ``name`` in ``modules``, or None."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        module = ".".join(parts[:i])
        if module in modules:
            return module
    return None


def alias_names(data: bytes) -> frozenset[str]:
    """Every name ``data`` may give something with ``as`` (see ``ProjectIndex.aliased``)."""
    return frozenset(name.decode("utf-8", "replace") for name in _ALIAS.findall(data))


def text_words(text: str) -> list[bytes]:
    """The names ``text`` holds, as often as it holds them (a superset: keywords, and
    words of comments and strings)."""
    return text.encode("utf-8", "surrogatepass").translate(_WORD_BYTES).split()


def word_list(words: Iterable[bytes], vocabulary: dict[bytes, bytes]) -> tuple[bytes, ...]:
    """``words`` once each, as a tuple of the ``vocabulary``'s objects (the one object
    it holds for each word, added if new, in C: ``map`` over ``dict.setdefault``): the
    files of a large tree share their words, and a tuple takes a quarter of a set's
    memory (a worker keeps one per file; a test against a few names walks it as fast).
    """
    return tuple(set(map(vocabulary.setdefault, words, words)))


def encoded(names: Iterable[str]) -> set[bytes]:
    return {name.encode("utf-8", "surrogatepass") for name in names}


def count_defs(text: str) -> int:
    """Lines that start (after blanks) with ``def `` or ``def\\t``: a skipped file's
    sync functions. Found from each ``def`` outwards, as ``import_renames`` finds ``as``: a
    multi-line regex tries every position of every skipped file."""
    count = 0
    at = text.find("def")
    while at >= 0:
        start = text.rfind("\n", 0, at) + 1
        if text[at + 3 : at + 4] in (" ", "\t") and not text[start:at].strip(" \t"):
            count += 1
        at = text.find("def", at + 3)
    return count
