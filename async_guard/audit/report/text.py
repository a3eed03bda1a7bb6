"""Text for people: ``path:line:col: CODE message [severity, context]`` plus the hint."""

from __future__ import annotations

from collections.abc import Sequence

from async_guard.audit.results import AuditResult, Stats
from async_guard.audit.rules import Rule


def render(result: AuditResult, rules: Sequence[type[Rule]] = ()) -> str:
    out: list[str] = []
    for f in result.findings:
        out.append(f"{f.path}:{f.line}:{f.col}: {f.code} {f.message} [{f.severity}, {f.context}]")
        if f.hint:
            out.append(f"    hint: {f.hint}")
    return "\n".join(out) + ("\n" if out else "")


def summary(result: AuditResult) -> str:
    errors = sum(1 for f in result.findings if f.severity == "error")
    warnings = len(result.findings) - errors
    files = f"{result.files_scanned} file{'s' if result.files_scanned != 1 else ''}"
    if not result.findings:
        return f"No findings in {files} ({result.duration_s:.2f}s)."
    return (
        f"Found {len(result.findings)} finding{'s' if len(result.findings) != 1 else ''} "
        f"({errors} error{'s' if errors != 1 else ''}, {warnings} warning"
        f"{'s' if warnings != 1 else ''}) in {files} ({result.duration_s:.2f}s)."
    )


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
