"""AG000: a file the audit cannot parse."""

from __future__ import annotations

from typing import ClassVar

from async_guard.audit.finding import Severity
from async_guard.audit.rules.base import Rule


class SyntaxErrorRule(Rule):
    """A file does not parse (or cannot be decoded): none of its code was audited.

    ## What goes wrong

    Python refuses to import the module, so whatever it defines fails at run
    time on first import, and the audit cannot see any of the async/sync bugs
    in it. The finding names the line and what is wrong: a syntax error, a
    construct that needs a newer Python grammar than the one running the audit
    (say `type X = ...` or f-strings that reuse their quotes, which need Python
    3.12), bytes that are not valid in the file's encoding, NUL bytes, or
    nesting deeper than Python's parser allows. The rest of the tree is still
    audited. Files that cannot be read at all (missing, unreadable, symlink
    loops) are listed as parse errors without an AG000 finding.

    With skipping on (the default), a file that contains none of the rules'
    trigger words is not parsed, so its syntax is not checked: such a file
    cannot hold any other finding. `--no-skip` parses every file.

    ## Bad

    ```python
    def sync_positions(:
        ...
    ```

    ## Fix

    ```python
    def sync_positions(): ...
    ```

    For code written for a newer Python, run the audit with that Python.
    """

    code: ClassVar[str] = "AG000"
    name: ClassVar[str] = "syntax-error"
    severity: ClassVar[Severity] = "error"
    triggers: ClassVar[tuple[str, ...]] = ()
