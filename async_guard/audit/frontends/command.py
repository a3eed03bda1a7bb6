"""``check``: the options shared by ``async-guard check`` and ``manage.py audit_async``,
and the run behind both (configuration, audit, baseline, fixes, report, exit code).

Exit codes: 0 nothing at or above ``--fail-on``; 1 findings (or, with ``--diff``,
a diff); 2 bad usage or configuration, with a one-line error naming the option
or file.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from async_guard.audit.atomic import atomic_write
from async_guard.audit.config import FAIL_ON, Config, ConfigError, find_pyproject, load_pyproject
from async_guard.audit.finding import Finding
from async_guard.audit.report import FORMATS, renderer
from async_guard.audit.results import AuditResult
from async_guard.audit.rules import all_rules
from async_guard.audit.runner import audit_paths


class UsageError(Exception):
    """Bad usage or configuration: one line, exit code 2."""


def _jobs(value: str) -> int:
    try:
        jobs = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if jobs < 0:
        raise argparse.ArgumentTypeError(f"expected 0 (all cores) or more, got {value}")
    return jobs


def add_check_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``check``; the management command adds the same ones."""
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files or folders to audit")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format")
    parser.add_argument(
        "--select", metavar="CODES", help="only these codes or prefixes (AG1,AG201)"
    )
    parser.add_argument("--ignore", metavar="CODES", help="leave out these codes or prefixes")
    parser.add_argument(
        "--exclude", metavar="GLOB", action="append", default=[], help="skip matching paths"
    )
    parser.add_argument(
        "--fail-on", choices=FAIL_ON, default=None, help="lowest severity that fails the run"
    )
    parser.add_argument(
        "--isolated",
        action="store_true",
        help="ignore every configuration file (pyproject.toml, settings), as ruff's flag does",
    )
    parser.add_argument("--no-cache", action="store_true", help="ignore and do not write the cache")
    parser.add_argument(
        "--no-skip", action="store_true", help="parse every file, even those with no trigger"
    )
    parser.add_argument(
        "--jobs", type=_jobs, default=None, metavar="N", help="worker processes (0: all cores)"
    )
    parser.add_argument(
        "--project-root",
        metavar="DIR",
        help="the project the index is built from (default: the nearest folder above the "
        "paths with pyproject.toml, setup.cfg, setup.py, manage.py or .git)",
    )
    parser.add_argument("--output", metavar="FILE", help="write the report to FILE")
    parser.add_argument("--stats", action="store_true", help="print an inventory of the tree")
    parser.add_argument("--quiet", action="store_true", help="findings only, no summary")
    parser.add_argument("--fix", action="store_true", help="apply the safe autofixes")
    parser.add_argument("--diff", action="store_true", help="print the fixes as a diff")
    parser.add_argument("--baseline", metavar="FILE", help="report only findings not in FILE")
    parser.add_argument(
        "--write-baseline", metavar="FILE", help="record the current findings in FILE"
    )
    parser.add_argument(
        "--prune-baseline", action="store_true", help="with --baseline: drop fixed entries"
    )


def _codes(option: str, value: str) -> tuple[str, ...]:
    codes = tuple(c.strip().upper() for c in value.replace(" ", ",").split(",") if c.strip())
    known = [rule.code for rule in all_rules()]
    for code in codes:
        if not any(k.startswith(code) for k in known):
            raise UsageError(f"{option}: {code!r} matches no rule (see `async-guard rules`)")
    return codes


def build_config(
    options: argparse.Namespace,
    paths: Sequence[str],
    settings: Mapping[str, Any] | None = None,
) -> Config:
    """pyproject.toml, then ``ASYNC_GUARD["AUDIT"]`` (management command), then options.

    ``--isolated`` leaves out the first two: the defaults and the command line only.
    """
    from async_guard.audit.config import anchored, from_mapping

    pyproject = None
    if getattr(options, "isolated", False):
        settings = None
    else:
        start = Path(paths[0]) if paths else Path.cwd()  # it exists: checked before
        pyproject = find_pyproject(start if start.is_dir() else start.parent)
    config = Config()
    try:
        if pyproject is not None:
            config = load_pyproject(pyproject)
        if settings:
            where = 'settings ASYNC_GUARD["AUDIT"]'
            config = anchored(from_mapping(settings, where, config), Path.cwd(), where)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    for key in ("select", "ignore"):
        for code in getattr(config, key):
            if not any(rule.code.startswith(code) for rule in all_rules()):
                raise UsageError(f"configuration {key}: {code!r} matches no rule")
    changes: dict[str, Any] = {}
    if options.select:
        changes["select"] = _codes("--select", options.select)
    if options.ignore:
        changes["ignore"] = _codes("--ignore", options.ignore)
    if options.exclude:
        changes["exclude"] = (*config.exclude, *options.exclude)
    if options.fail_on:
        changes["fail_on"] = options.fail_on
    if options.no_cache:
        changes["cache"] = False
    if options.no_skip:
        changes["skip"] = False
    if options.jobs is not None:
        changes["jobs"] = options.jobs
    if getattr(options, "project_root", None):
        root = Path(options.project_root)
        if not root.is_dir():
            raise UsageError(f"--project-root: {options.project_root!r} is not a folder")
        changes["project_root"] = str(root.resolve())
    if config.root and not Path(config.cache_dir).is_absolute():
        changes["cache_dir"] = str(Path(config.root) / config.cache_dir)
    return replace(config, **changes)


def _fails(findings: Sequence[Finding], fail_on: str) -> bool:
    if fail_on == "never":
        return False
    if fail_on == "error":
        return any(f.severity == "error" for f in findings)
    return bool(findings)


class _Progress:
    """``files done/total`` on a terminal's stderr, only once a run passes ~2 seconds."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.shown = False
        self.enabled = stream.isatty()

    def __call__(self, done: int, total: int) -> None:
        if self.enabled and time.monotonic() - self.started > 2.0:
            self.stream.write(f"\rasync-guard: {done}/{total} files")
            self.stream.flush()
            self.shown = True

    def finish(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()


def run_check(
    options: argparse.Namespace,
    *,
    default_paths: Sequence[str] = (".",),
    settings: Mapping[str, Any] | None = None,
    registry_config: Mapping[str, Any] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run an audit as the options say; returns the exit code."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        return _run(options, default_paths, settings, registry_config, out, err)
    except UsageError as exc:
        err.write(f"async-guard: error: {exc}\n")
        return 2


def _run(
    options: argparse.Namespace,
    default_paths: Sequence[str],
    settings: Mapping[str, Any] | None,
    registry_config: Mapping[str, Any] | None,
    out: TextIO,
    err: TextIO,
) -> int:
    paths = list(options.paths) or list(default_paths)
    if options.prune_baseline and not options.baseline:
        raise UsageError("--prune-baseline needs --baseline FILE")
    if options.fix and options.diff:
        raise UsageError("--fix and --diff exclude each other: --diff only shows the fixes")
    if options.output and not Path(options.output).parent.is_dir():
        parent = Path(options.output).parent
        raise UsageError(f"--output: folder {str(parent)!r} does not exist")
    missing = [path for path in paths if not os.path.lexists(path)]
    if missing:
        raise UsageError(f"no such file or directory: {', '.join(missing)}")
    config = build_config(options, paths, settings)
    if registry_config:
        config = replace(config, **registry_config)
    baseline_module: Any = None
    baseline: Any = None
    if options.baseline or options.write_baseline:
        baseline_module = _load("async_guard.audit.baseline", "--baseline")
    if options.baseline:
        try:
            baseline = baseline_module.load(Path(options.baseline))
        except baseline_module.BaselineError as exc:
            raise UsageError(f"--baseline: {exc}") from None

    progress = _Progress(err)
    try:
        result = audit_paths(paths, config, progress=progress)
    finally:
        progress.finish()
    for error in result.parse_errors:
        if not any(f.path == error.path and f.code == "AG000" for f in result.findings):
            err.write(f"{error.path}:{error.line}: cannot audit: {error.message}\n")
    for root in result.excluded_roots:
        globs = ", ".join(config.exclude)
        err.write(
            f"async-guard: warning: {root}: nothing audited, the configuration's exclude "
            f"leaves out all of it ({globs}); --isolated ignores the configuration\n"
        )

    findings = list(result.findings)
    if options.write_baseline:
        target = Path(options.write_baseline)
        baseline_module.write(target, findings)
        err.write(f"async-guard: wrote {len(findings)} findings to the baseline {target}\n")
        return 0
    if baseline is not None:
        findings = _apply_baseline(baseline_module, baseline, findings, options, err)

    if options.fix or options.diff:
        changed, findings = _apply_fixes(findings, write=options.fix, out=out, err=err)
        if options.diff:
            return 1 if changed else 0

    result = AuditResult(
        findings=sorted(findings),
        files_scanned=result.files_scanned,
        parse_errors=result.parse_errors,
        duration_s=result.duration_s,
        stats=result.stats,
    )
    _emit(result, options, out, err)
    return 1 if _fails(result.findings, config.fail_on) else 0


def _apply_baseline(
    module: Any, baseline: Any, findings: list[Finding], options: argparse.Namespace, err: TextIO
) -> list[Finding]:
    """The findings the baseline does not hold; says how many it hid and which are stale."""
    new, stale = baseline.split(findings)
    if not options.quiet:
        hidden = len(findings) - len(new)
        err.write(
            f"async-guard: the baseline {options.baseline} hid {hidden} "
            f"finding{'s' if hidden != 1 else ''}; "
            + (
                f"{len(stale)} of its entries {'are' if len(stale) != 1 else 'is'} stale "
                "(the finding is gone)"
                + ("" if options.prune_baseline else ": --prune-baseline drops them")
                if stale
                else "none of its entries is stale"
            )
            + "\n"
        )
        if options.format == "text":
            for entry in stale:
                err.write(f"  {entry.path}: {entry.code} {entry.symbol or ''}".rstrip() + "\n")
    if options.prune_baseline and stale:
        module.write(Path(options.baseline), baseline.without(stale))
        err.write(f"async-guard: pruned {len(stale)} stale entries from {options.baseline}\n")
    return list(new)


def _emit(result: AuditResult, options: argparse.Namespace, out: TextIO, err: TextIO) -> None:
    from async_guard.audit.report import json_report, text

    rules = all_rules()
    colour = False
    if options.format == "json":
        report = json_report.render(result, rules, stats=options.stats)
    elif options.format == "text":
        colour = not options.output and text.colour_wanted(
            out,
            no_color=getattr(options, "no_color", False),
            force_color=getattr(options, "force_color", False),
        )
        report = text.render(result, rules, colour=colour)
    else:
        report = renderer(options.format)(result, rules)
    if options.format == "text":
        if options.stats:
            report += "\n" + text.render_stats(result.stats)
        if not options.quiet:
            report += text.summary(result, colour=colour) + "\n"
    elif options.stats and options.format != "json":
        err.write(text.render_stats(result.stats))
    if options.output:
        try:
            atomic_write(Path(options.output), report.encode("utf-8"))
        except OSError as exc:
            raise UsageError(f"--output: cannot write {options.output}: {exc.strerror}") from None
        if not options.quiet:
            err.write(
                f"async-guard: wrote {options.output} ({options.format}): "
                f"{text.counts(result)} ({result.duration_s:.2f}s)\n"
            )
    else:
        out.write(report)


def _load(module: str, option: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise UsageError(f"{option}: this installation has no {module} module") from None


def _apply_fixes(
    findings: list[Finding], *, write: bool, out: TextIO, err: TextIO
) -> tuple[bool, list[Finding]]:
    """Fix (or diff) file by file; returns (anything changed, findings still standing)."""
    fix = _load("async_guard.fix", "--fix" if write else "--diff")
    by_path: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        if finding.code in fix.FIXABLE_CODES:
            by_path[finding.path].append(finding)
    applied: set[Finding] = set()
    changed = False
    for path, items in sorted(by_path.items()):
        file = Path(path)
        try:
            data = file.read_bytes()
            original = data.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            err.write(f"{path}: not fixed: cannot read it as UTF-8 ({exc})\n")
            continue
        result = fix.fix_source(original, items)
        for finding, reason in result.skipped:
            err.write(f"{path}:{finding.line}: {finding.code} not fixed: {reason}\n")
        if result.source == original:
            continue
        changed = True
        if write:
            atomic_write(file, result.source.encode("utf-8"))
            for finding in result.applied:
                err.write(f"{path}:{finding.line}: {finding.code} fixed\n")
            applied.update(result.applied)
        else:
            import difflib  # here: only --diff needs it

            out.writelines(
                difflib.unified_diff(
                    original.splitlines(keepends=True),
                    result.source.splitlines(keepends=True),
                    fromfile=f"a/{Path(path).as_posix()}",
                    tofile=f"b/{Path(path).as_posix()}",
                )
            )
    return changed, [f for f in findings if f not in applied]
