"""The ``async-guard`` command line: ``check``, ``rules [--runtime]``, ``explain CODE``.

``check`` works on any tree without Django settings; ``manage.py audit_async``
takes the same options (see ``async_guard.audit.frontends.command``).
"""

from __future__ import annotations

import argparse
import atexit
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from async_guard import __version__


def _parser() -> argparse.ArgumentParser:
    from async_guard.audit.frontends.command import add_check_arguments

    parser = argparse.ArgumentParser(
        prog="async-guard",
        description="Find async/sync mixing bugs in Django and Celery code.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    check = sub.add_parser("check", help="audit files and folders (default: .)")
    add_check_arguments(check)
    rules = sub.add_parser("rules", help="list every rule")
    rules.add_argument(
        "--runtime",
        action="store_true",
        help="list the runtime guard's events (AGR101 ...) instead of the audit's rules",
    )
    explain = sub.add_parser(
        "explain", help="print a rule's (AG101 ...) or a runtime event's (AGR101 ...) documentation"
    )
    explain.add_argument("code", metavar="CODE")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        options = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help/--version exit 0, bad usage exits 2
        return int(exc.code or 0)
    if options.command == "check":
        from async_guard.audit.frontends.command import run_check

        return run_check(options)
    if options.command == "rules":
        return _events() if options.runtime else _rules()
    if options.command == "explain":
        return _explain(options.code)
    parser.print_usage(sys.stderr)
    sys.stderr.write("async-guard: error: choose a command: check, rules or explain\n")
    return 2


def _rules() -> int:
    from async_guard.audit.rules import all_rules

    rules = all_rules()
    width = max(len(rule.name) for rule in rules)
    for rule in rules:
        severity = rule.severity_label()
        print(f"{rule.code}  {rule.name.ljust(width)}  {severity:<13}  {rule.summary()}")
    return 0


def _events() -> int:
    from async_guard.runtime.catalog import EVENTS

    for event in EVENTS:
        print(f"{event.code}  {event.title}")
    return 0


def _explain(code: str) -> int:
    from async_guard.audit.rules import get_rule
    from async_guard.runtime.catalog import get_event

    event = get_event(code)
    if event is not None:
        print(f"{event.code} runtime event: {event.title}\n")
        print(event.documentation())
        return 0
    rule = get_rule(code)
    if rule is None:
        if code.strip().upper().startswith("AGR"):
            unknown = f"runtime event {code!r} (see `async-guard rules --runtime`)"
        else:
            unknown = f"rule {code!r} (see `async-guard rules`, and `--runtime` for events)"
        sys.stderr.write(f"async-guard: error: unknown {unknown}\n")
        return 2
    print(f"{rule.code} {rule.name} ({rule.severity_label()})\n")
    print(rule.documentation())
    return 0


def run() -> NoReturn:
    """The console script and ``python -m async_guard``: :func:`main`, then exit.

    The exit skips the interpreter's teardown, as mypy's does: freeing a large
    file's syntax tree object by object (the audit keeps the last one it walked)
    took longer than auditing it, 0.7 s of a 2 s run on a 50,000-line module.
    Output is flushed and ``atexit`` handlers (coverage's, say) still run first; a
    reader that went away (``| head``) ends the run quietly, without a traceback.
    """
    try:
        code = main()
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # the reader went away (``| head``): stop quietly, as cat does
        code = 1
    from async_guard.audit.speed.pool import processes

    processes.reap(wait=True)  # the audit's workers, told to end before the report
    atexit._run_exitfuncs()
    os._exit(code)
