"""The ``async-guard`` command line (placeholder until the audit lands)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from async_guard import __version__


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="async-guard")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.parse_args(argv)
    print(f"async-guard {__version__}")
    return 0
