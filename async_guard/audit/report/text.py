"""Text for people: ``path:line:col: CODE message [severity, context]`` plus the hint.

In colour on a terminal (:func:`colour_wanted`): the place in bold, the code red
for an error and yellow for a warning, the hint dimmed. The words are the same
either way, so a reader without colour loses nothing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TextIO

from async_guard.audit.results import AuditResult, Stats
from async_guard.audit.rules import Rule

_BOLD, _DIM, _RED, _YELLOW, _GREEN, _RESET = (
    "\033[1m",
    "\033[2m",
    "\033[1;31m",
    "\033[1;33m",
    "\033[1;32m",
    "\033[0m",
)
_SEVERITY = {"error": _RED, "warning": _YELLOW}


def colour_wanted(
    stream: TextIO,
    *,
    no_color: bool = False,
    force_color: bool = False,
    environ: Mapping[str, str] = os.environ,
) -> bool:
    """Colour on a terminal only, as CPython 3.13 decides it for its own tracebacks.

    ``--no-color`` / ``--force-color`` (the management command's) first, then
    ``NO_COLOR`` (https://no-color.org) over ``FORCE_COLOR``, then ``TERM=dumb``,
    then whether ``stream`` is a terminal.
    """
    if no_color:
        return False
    if force_color:
        return True
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR"):
        return True
    if environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a wrapper without isatty, a closed stream
        return False


def _paint(text: str, style: str, colour: bool) -> str:
    return f"{style}{text}{_RESET}" if colour else text


def render(result: AuditResult, rules: Sequence[type[Rule]] = (), *, colour: bool = False) -> str:
    out: list[str] = []
    for f in result.findings:
        place = _paint(f"{f.path}:{f.line}:{f.col}:", _BOLD, colour)
        code = _paint(f.code, _SEVERITY[f.severity], colour)
        out.append(f"{place} {code} {f.message} [{f.severity}, {f.context}]")
        if f.hint:
            out.append(_paint(f"    hint: {f.hint}", _DIM, colour))
    return "\n".join(out) + ("\n" if out else "")


def counts(result: AuditResult) -> str:
    """``3 findings (1 error, 2 warnings) in 4 files``, or ``no findings in 4 files``."""
    errors = sum(1 for f in result.findings if f.severity == "error")
    warnings = len(result.findings) - errors
    files = f"{result.files_scanned} file{'s' if result.files_scanned != 1 else ''}"
    if not result.findings:
        return f"no findings in {files}"
    return (
        f"{len(result.findings)} finding{'s' if len(result.findings) != 1 else ''} "
        f"({errors} error{'s' if errors != 1 else ''}, {warnings} warning"
        f"{'s' if warnings != 1 else ''}) in {files}"
    )


def summary(result: AuditResult, *, colour: bool = False) -> str:
    took = f" ({result.duration_s:.2f}s)."
    if not result.findings:
        return _paint("No" + counts(result)[2:], _GREEN, colour) + took
    worst = "error" if any(f.severity == "error" for f in result.findings) else "warning"
    return _paint("Found " + counts(result), _SEVERITY[worst], colour) + took


def render_stats(stats: Stats) -> str:
    runs = ", ".join(f"{k}: {v}" for k, v in sorted(stats.asyncio_run_by_context.items())) or "none"
    rows = [
        ("files", stats.files),
        ("  parsed", stats.parsed),
        ("  from cache", stats.cached),
        ("  skipped (no trigger)", stats.skipped),
        ("lines", stats.lines),
        ("async functions", stats.async_functions),
        ("sync functions", stats.sync_functions),
        ("files mixing async and sync defs", stats.mixed_files),
        ("asyncio.run() calls", sum(stats.asyncio_run_by_context.values())),
        ("  by context", runs),
        ("parse errors", stats.parse_errors),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows) + "\n"
