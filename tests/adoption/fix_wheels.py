"""Run --fix over the release wheels of the audit benchmark and print what happened.

    python -m tests.adoption.fix_wheels [DEST]

The corpus (django, celery, kombu, asgiref, channels at the versions pinned in
``benchmarks/corpus.py``) is unzipped into DEST (default: a temporary folder,
deleted after) and fixed in place there. Issue 6's bar: every fixed file parses,
a second run changes nothing, and every finding of a fixed code that is left was
skipped with a reason. Exit status 1 if any of that fails.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from benchmarks.corpus import real_corpus
from tests.adoption.corpus import fix_tree


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    with tempfile.TemporaryDirectory(prefix="fix-wheels-") as scratch:
        dest = Path(args[0]) if args else Path(scratch)
        report = fix_tree(real_corpus(dest))
        print(report.table())
        for finding in report.left:
            print(f"left unexplained: {finding.path}:{finding.line} {finding.code}")
    return 1 if report.broken or report.unstable or report.left else 0


if __name__ == "__main__":
    sys.exit(main())
