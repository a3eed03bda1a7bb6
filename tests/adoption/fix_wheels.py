"""Run the autofix over the release wheels of the audit benchmark and print what happened.

    python -m tests.adoption.fix_wheels [--synthetic] [DEST]

The corpus (django, celery, kombu, asgiref, channels at the versions pinned in
``benchmarks/corpus.py``) is unzipped into DEST (default: a temporary folder,
deleted after).

- Default: audit, fix the findings in place, audit and fix again. Issue 6's bar:
  every fixed file parses, a second run changes nothing, and every finding of a
  fixed code that is left was skipped with a reason.
- ``--synthetic``: a stress run, in memory. A finding is placed at every site a
  fixer acts on (every ``asyncio.run``, ``new_event_loop``, ``.get()``-like call in
  an ``async def``, ``sync_to_async(<call>)``, ``async def handle``), whether or
  not a rule would report it; every result must parse and be stable.

Exit status 1 if the bar is not met.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from benchmarks.corpus import real_corpus
from tests.adoption.corpus import fix_tree, stress_tree


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    synthetic = "--synthetic" in args
    rest = [arg for arg in args if arg != "--synthetic"]
    with tempfile.TemporaryDirectory(prefix="fix-wheels-") as scratch:
        dest = Path(rest[0]) if rest else Path(scratch)
        corpus = real_corpus(dest)
        report = stress_tree(corpus) if synthetic else fix_tree(corpus)
        print(report.table())
        for finding in report.left:
            print(f"left unexplained: {finding.path}:{finding.line} {finding.code}")
    return 1 if report.broken or report.unstable or report.left else 0


if __name__ == "__main__":
    sys.exit(main())
