"""What a trigger word means: the one definition shared by the rules and the skip.

A rule declares ``triggers``: words its findings need in the text. A text holds a
trigger when:

* ``async``: it holds ``async def`` (``async with``, ``async for``, ``await`` and
  async comprehensions are syntax errors outside one, so prose such as "the async
  pool" holds no trigger);
* ``asyncio``, ``get_event_loop``, ``new_event_loop``: it holds ``asyncio`` as a name
  not after a dot, which is how the standard library's ``asyncio`` is named
  (``import asyncio``, ``from asyncio.events import ...``; not
  ``django.utils.asyncio``). Every rule resolves asyncio's functions through the
  file's own imports, so kombu's ``get_event_loop`` is not theirs. (A module of a
  package called ``asyncio`` names its own functions without the word: whoever tests
  files treats such a module as holding every trigger.)
* a method of Django's async ORM (``aget``, ``asave`` ...): it holds that name as an
  attribute (after a dot, whatever blanks, line breaks or comments lie between):
  ``target`` or ``x.aget_many`` are no call of ``aget``;
* any other word: it holds the word as a substring.

Every pattern starts with a literal, which ``re`` finds fast (a leading lookbehind
would make it try every position); the character before a refined word is checked
by hand.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from async_guard.audit.analysis.django_names import ASYNC_ORM_METHODS

_ASYNC_DEF = r"async(?:[ \t\f]|\\\r?\n)+def(?!\w)"
_STDLIB_ASYNCIO = r"asyncio(?!\w)"
#: Words that count only where a pattern says the code can mean them.
REFINED = {
    "async": _ASYNC_DEF,
    "asyncio": _STDLIB_ASYNCIO,
    "get_event_loop": _STDLIB_ASYNCIO,
    "new_event_loop": _STDLIB_ASYNCIO,
}
#: Screen words are cut from the substrings themselves, this long.
_SCREEN_LENGTH = 4


class TriggerTest:
    """Does a text hold one of ``words`` (in the sense of the module docstring)?"""

    def __init__(self, words: Iterable[str]) -> None:
        unique = sorted(set(words))
        methods = sorted((w for w in unique if w in ASYNC_ORM_METHODS), key=len, reverse=True)
        refined = sorted({REFINED[w] for w in unique if w in REFINED})
        self.substrings = tuple(
            w for w in unique if w not in ASYNC_ORM_METHODS and w not in REFINED
        )
        self.attribute = (
            # one way only to match what lies between (no backtracking on ``#`` runs)
            re.compile(
                r"\.[ \t\f\r\n\\]*(?:#[^\n]*\n[ \t\f\r\n\\]*)*(?:" + "|".join(methods) + r")(?!\w)"
            )
            if methods
            else None
        )
        self.refined = tuple(re.compile(pattern) for pattern in refined)
        self.screen = screen_words(self.substrings)

    def search(self, text: str) -> bool:
        screened = self.screen is None or any(word in text for word in self.screen)
        if screened and any(word in text for word in self.substrings):
            return True
        if any(_token_at(text, pattern) for pattern in self.refined):
            return True
        return self.attribute is not None and self.attribute.search(text) is not None


def screen_words(substrings: Iterable[str]) -> tuple[str, ...] | None:
    """A few short words such that every one of ``substrings`` contains one of them,
    or None when that would take as many words as there are substrings.

    Most files hold none of the substrings: testing a text for three short words
    settles that in three passes instead of one per substring. Chosen greedily
    (each time the piece that most substrings not covered yet contain), so a new
    trigger can never turn the screen off by accident: it only adds a word.
    """
    left = sorted(set(substrings))
    chosen: list[str] = []
    while left:
        pieces: dict[str, int] = {}
        for word in left:
            size = min(_SCREEN_LENGTH, len(word))
            for piece in {word[i : i + size] for i in range(len(word) - size + 1)}:
                pieces[piece] = pieces.get(piece, 0) + 1
        best = max(sorted(pieces), key=lambda piece: (pieces[piece], len(piece)))
        chosen.append(best)
        left = [word for word in left if best not in word]
    return tuple(chosen) if len(chosen) < len(set(substrings)) else None


def _token_at(text: str, pattern: re.Pattern[str]) -> bool:
    """``pattern`` matches where a token starts: not glued to a name or a dot before it
    (a digit starts no name: ``1async`` is still the keyword)."""
    for match in pattern.finditer(text):
        start = match.start()
        before = text[start - 1] if start else " "
        if (before.isdigit() or not before.isidentifier()) and before != ".":
            return True
    return False
