"""How fast is ``async-guard check``, next to ``ruff check --select ASYNC``?

Usage (from the repository root, in the virtualenv)::

    python benchmarks/audit_speed.py                  # print the tables
    python benchmarks/audit_speed.py --write-docs     # and update docs/performance.md

One process runs every measurement, alternating the commands round by round
(cold, warm, ruff, then warm, ruff, cold, ...) so that a slow patch of the
machine hurts all three alike, and reports medians:

- ``async-guard check --no-cache``: cold, nothing cached;
- ``async-guard check``: warm, the cache filled by an earlier run, nothing changed;
- ``ruff check --no-cache --select ASYNC``: the reference.

Every command runs as a subprocess, as a user or CI runs it, so interpreter
start-up counts for the audit just as ruff's process start counts for ruff.
Peak memory is the ``ru_maxrss`` of each child from ``os.wait4`` (the largest
single process: the audit's main process or one of its parse workers, which it
reaps), plus the sum over the whole process tree sampled every 10 ms by psutil
in one extra, untimed run.

The corpora come from ``benchmarks/corpus.py``: the release wheels of Django,
Celery, kombu, asgiref and channels, and generated Django projects for the
scale section. Everything is built in a temporary folder and deleted after.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime
import io
import json
import os
import platform
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import corpus
from benchmarks.docs_section import write_section

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "performance.md"
SECTION = "## Audit speed"
COLD_GOAL = 6.0  # cold audit at most 6x ruff
WARM_GOAL = 1.0  # warm audit no slower than ruff --no-cache
ASYNC_HEAVY_GOAL = 12.0  # cold audit of the generated 5,000-file tree at most 12x ruff
ASYNC_HEAVY_SIZE = 5000


def _tool(name: str, fallback: list[str]) -> list[str]:
    beside = Path(sys.executable).with_name(name)
    if beside.exists():
        return [str(beside)]
    found = shutil.which(name)
    return [found] if found else fallback


AUDIT = _tool("async-guard", [sys.executable, "-m", "async_guard"])
RUFF = _tool("ruff", [sys.executable, "-m", "ruff"])


@dataclass
class Command:
    label: str
    argv: list[str]
    times: list[float] = field(default_factory=list)
    maxrss_kb: list[int] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    tree_rss_kb: int | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)


def audit_argv(paths: Sequence[str], *, cache: bool, extra: Sequence[str] = ()) -> list[str]:
    argv = [*AUDIT, "check", "--fail-on", "never", *extra]
    if not cache:
        argv.append("--no-cache")
    return [*argv, *paths]


def ruff_argv(paths: Sequence[str]) -> list[str]:
    return [*RUFF, "check", "--no-cache", "--select", "ASYNC", "--exit-zero", *paths]


@dataclass(frozen=True)
class Run:
    wall: float  # seconds
    cpu: float  # user + system seconds of the process and the children it reaped
    maxrss_kb: int  # peak RSS of the largest of those processes
    stdout: str


def run_once(argv: list[str], cwd: Path) -> Run:
    """Run a command once and measure it.

    Output goes to temporary files, not pipes, so a chatty run cannot block on
    a full pipe and the reading is not part of the time.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    if process.returncode not in (0, 1):  # 1: ruff or the audit found something
        raise SystemExit(
            f"benchmark: {' '.join(argv)} exited {process.returncode} in {cwd}:\n{stderr[-2000:]}"
        )
    return Run(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, stdout)


def tree_peak_rss_kb(argv: list[str], cwd: Path) -> int:
    """Peak of the summed RSS of a command's whole process tree, sampled every 10 ms."""
    import psutil

    process = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    try:
        root = psutil.Process(process.pid)
        while process.poll() is None:
            total = 0
            with contextlib.suppress(psutil.Error):
                for proc in [root, *root.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        total += proc.memory_info().rss
            peak = max(peak, total)
            time.sleep(0.01)
    finally:
        process.wait(timeout=600)
    return peak // 1024


def measure(commands: list[Command], rounds: int, cwd: Path, progress: str) -> None:
    """Run ``commands`` ``rounds`` times, rotating their order each round."""
    for r in range(rounds):
        order = commands[r % len(commands) :] + commands[: r % len(commands)]
        for command in order:
            run = run_once(command.argv, cwd)
            command.times.append(run.wall)
            command.cpu.append(run.cpu)
            command.maxrss_kb.append(run.maxrss_kb)
        print(f"  {progress} round {r + 1}/{rounds} done", file=sys.stderr)


def audit_json(paths: Sequence[str], cwd: Path, *, cache: bool) -> dict[str, Any]:
    """The ``--format json --stats`` report of one (untimed) run."""
    argv = audit_argv(paths, cache=cache, extra=["--format", "json", "--stats"])
    data: dict[str, Any] = json.loads(run_once(argv, cwd).stdout)
    return data


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def secs(value: float) -> str:
    return f"{value:.3f} s"


def mib(kb: int) -> str:
    return f"{kb / 1024:.0f} MiB"


def rate(lines: int, seconds: float) -> str:
    return f"{lines / seconds:,.0f}"


# -- the real corpus ---------------------------------------------------------


@dataclass
class CorpusResult:
    files: int
    lines: int
    cold: Command
    warm: Command
    ruff: Command
    startup: Command
    findings: list[dict[str, Any]]
    stats: dict[str, Any]
    warm_matches_cold: bool

    def goals(self) -> tuple[float, float]:
        return self.cold.median / self.ruff.median, self.warm.median / self.ruff.median

    def cpu_ratios(self) -> tuple[float, float]:
        ruff = self.ruff.cpu_median
        return self.cold.cpu_median / ruff, self.warm.cpu_median / ruff


def bench_corpus(root: Path, rounds: int) -> CorpusResult:
    paths = ["."]
    files, lines = corpus.count_lines(root)
    cold = Command("async-guard check --no-cache (cold)", audit_argv(paths, cache=False))
    warm = Command("async-guard check (warm cache)", audit_argv(paths, cache=True))
    ruff = Command("ruff check --no-cache --select ASYNC", ruff_argv(paths))
    startup = Command("async-guard --version (start-up floor)", [*AUDIT, "--version"])
    cold_report = audit_json(paths, root, cache=False)
    run_once(warm.argv, root)  # fill the cache
    warm_report = audit_json(paths, root, cache=True)
    measure([cold, warm, ruff, startup], rounds, root, "corpus")
    for command in (cold, warm, ruff):
        command.tree_rss_kb = tree_peak_rss_kb(command.argv, root)
    findings = cold_report["findings"]
    matches = warm_report["findings"] == findings
    stats = cold_report.get("stats", {})
    return CorpusResult(files, lines, cold, warm, ruff, startup, findings, stats, matches)


def corpus_report(result: CorpusResult, rounds: int) -> str:
    cold_ratio, warm_ratio = result.goals()
    cold_cpu, warm_cpu = result.cpu_ratios()
    rows = []
    for command in (result.cold, result.warm, result.ruff, result.startup):
        ratio = command.median / result.ruff.median
        tree = command.tree_rss_kb
        rows.append(
            [
                f"`{command.label}`",
                secs(command.median),
                f"{min(command.times):.3f}-{max(command.times):.3f} s",
                f"{ratio:.2f}x",
                secs(command.cpu_median),
                f"{command.cpu_median / result.ruff.cpu_median:.2f}x",
                rate(result.lines, command.median) if command is not result.startup else "-",
                mib(max(command.maxrss_kb)),
                mib(tree) if tree is not None else "-",
            ]
        )
    headers = [
        "command",
        "median",
        "range",
        "vs ruff",
        "CPU time",
        "CPU vs ruff",
        "lines/s",
        "peak RSS (largest process)",
        "peak RSS (process tree)",
    ]
    verdict = [
        f"- Cold: {cold_ratio:.3f}x ruff (goal ≤ {COLD_GOAL:g}x): "
        + ("**met**." if cold_ratio <= COLD_GOAL else "**missed**.")
        + f" In CPU time (less sensitive to the machine's load): {cold_cpu:.2f}x.",
        f"- Warm: {warm_ratio:.3f}x ruff's no-cache run (goal ≤ {WARM_GOAL:g}x): "
        + ("**met**." if warm_ratio <= WARM_GOAL else "**missed**.")
        + f" In CPU time: {warm_cpu:.2f}x.",
        f"- Files parsed on a cold run: {result.stats.get('parsed', '?')} of {result.files:,} "
        f"({result.stats.get('skipped', '?')} skipped without parsing).",
        f"- Start-up floor: `async-guard --version` alone takes "
        f"{result.startup.median / result.ruff.median:.2f}x ruff's whole run "
        f"({secs(result.startup.median)}): interpreter start and imports.",
        "- The warm run reports exactly the cold run's findings: "
        + ("yes." if result.warm_matches_cold else "**NO** (a cache bug)."),
    ]
    return "\n".join(
        [
            f"{result.files:,} files, {result.lines:,} lines; "
            f"median of {rounds} alternating rounds.",
            "",
            table(headers, rows),
            "",
            *verdict,
        ]
    )


# -- scale -------------------------------------------------------------------


@dataclass
class ScaleRow:
    label: str
    files: int
    lines: int
    cold: Command
    warm: Command
    ruff: Command
    findings: int
    planted: int
    parsed: int


def bench_scale(
    work: Path, sizes: Sequence[int], module_lines: Sequence[int], rounds: int
) -> list[ScaleRow]:
    rows = []
    builds = [(f"{size:,} files", size, 0) for size in sizes]
    builds += [(f"1 module, {count:,} lines", 0, count) for count in module_lines]
    for label, size, count in builds:
        folder = work / label.replace(" ", "_").replace(",", "")
        if size:
            corpus.generated_tree(folder, size)
        else:
            corpus.generated_module(folder / "big.py", count)
        files, lines = corpus.count_lines(folder)
        commands = [
            Command("cold", audit_argv(["."], cache=False)),
            Command("warm", audit_argv(["."], cache=True)),
            Command("ruff", ruff_argv(["."])),
        ]
        report = audit_json(["."], folder, cache=False)
        findings = len(report["findings"])
        parsed = int(report.get("stats", {}).get("parsed", -1))
        run_once(commands[1].argv, folder)  # fill the cache
        measure(commands, rounds, folder, label)
        planted = sum(
            path.read_text(encoding="utf-8").count("async def order_total(")
            for path in folder.rglob("*.py")
        )
        cold, warm, ruff = commands
        rows.append(ScaleRow(label, files, lines, cold, warm, ruff, findings, planted, parsed))
        shutil.rmtree(folder)
    return rows


def scale_report(rows: list[ScaleRow], rounds: int) -> str:
    headers = [
        "tree",
        "lines",
        "cold",
        "cold µs/line",
        "cold CPU µs/line",
        "warm",
        "warm µs/line",
        "ruff",
        "cold vs ruff",
        "files parsed",
        "findings (planted bugs)",
    ]
    body = [
        [
            row.label,
            f"{row.lines:,}",
            secs(row.cold.median),
            f"{row.cold.median / row.lines * 1e6:.1f}",
            f"{row.cold.cpu_median / row.lines * 1e6:.1f}",
            secs(row.warm.median),
            f"{row.warm.median / row.lines * 1e6:.1f}",
            secs(row.ruff.median),
            f"{row.cold.median / row.ruff.median:.1f}x",
            f"{row.parsed:,} of {row.files:,}",
            f"{row.findings} ({row.planted})",
        ]
        for row in rows
    ]
    notes = [
        _growth("Generated trees", [r for r in rows if r.label.endswith(" files")], "files"),
        _growth("One module", [r for r in rows if r.label.startswith("1 module")], "lines"),
        *(
            f"- Async-heavy tree ({row.label}, where 2 files in 11 hold async code): cold "
            f"{row.cold.median / row.ruff.median:.1f}x ruff (goal ≤ {ASYNC_HEAVY_GOAL:g}x): "
            + (
                "**met**."
                if row.cold.median / row.ruff.median <= ASYNC_HEAVY_GOAL
                else "**missed**."
            )
            for row in rows
            if row.label == f"{ASYNC_HEAVY_SIZE:,} files"
        ),
    ]
    return "\n".join(
        [
            f"Median of {rounds} alternating rounds per size.",
            "",
            table(headers, body),
            "",
            *(note for note in notes if note),
        ]
    )


def _growth(what: str, rows: list[ScaleRow], unit: str) -> str:
    """One line on how time grows from the smallest to the largest size of a series."""
    if len(rows) < 2:
        return ""
    small, large = rows[0], rows[-1]
    size = large.lines / small.lines
    wall = large.cold.median / small.cold.median
    cpu = large.cold.cpu_median / small.cold.cpu_median
    per_line = cpu / size
    verdict = (
        "linear" if per_line <= 1.25 else f"**not linear**: CPU time per line grows {per_line:.2f}x"
    )
    return (
        f"- {what}: {size:.1f}x the lines ({small.label} to {large.label}) take {wall:.1f}x "
        f"the cold wall time and {cpu:.1f}x the cold CPU time: {verdict}."
    )


# -- profile -----------------------------------------------------------------


#: Phases of a run, by the function that does each (module file, function name).
PHASES = (
    ("find the files", "discover.py", "discover"),
    ("read, decode, text tests", "worker.py", "load"),
    ("parse (ast.parse)", "source.py", "parse_source"),
    ("parse: import table", "source.py", "_collect_names"),
    ("facts", "facts.py", "collect_facts"),
    ("skip: which files matter", "skip.py", "run"),
    ("build the index", "index.py", "__init__"),
    ("rules walk", "walk.py", "walk_file"),
    ("replay the journals", "journal.py", "replay"),
)


def profile_cold(root: Path, top: int = 12) -> str:
    """Where a cold in-process audit spends its time: phases and the busiest modules.

    One job (the workers of a parallel run are invisible to cProfile) and no
    cache; cProfile inflates pure-Python code more than C, so read the shares,
    not the seconds.
    """
    from async_guard.cli import main as cli_main

    profiler = cProfile.Profile()
    argv = ["check", "--no-cache", "--jobs", "1", "--fail-on", "never", "."]
    with _cwd(root), contextlib.redirect_stdout(io.StringIO()):
        started = time.perf_counter()
        profiler.runcall(cli_main, argv)
        total = time.perf_counter() - started
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, object]]
    raw = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    phases = []
    for label, filename, function in PHASES:
        cumulative = sum(
            ct for (path, _, name), (_, _, _, ct, _) in raw.items()
            if name == function and path.endswith(f"/{filename}")
        )  # fmt: skip
        phases.append(
            [label, f"`{filename}:{function}`", secs(cumulative), _share(cumulative, total)]
        )
    own: dict[str, float] = {}
    for (path, _, name), (_, _, tt, _, _) in raw.items():
        where = _module_label(path, name)
        own[where] = own.get(where, 0.0) + tt
    busiest = sorted(own.items(), key=lambda item: -item[1])[:top]
    modules = [[f"`{where}`", secs(tt), _share(tt, total)] for where, tt in busiest]
    return "\n".join(
        [
            f"One cold run in process, `--jobs 1`, under cProfile: {total:.1f} s in all "
            "(phases can nest; cProfile slows pure-Python code more than `compile()`).",
            "",
            table(["phase", "function", "cumulative", "share"], phases),
            "",
            f"The {top} modules with the most own time:",
            "",
            table(["module", "own time", "share"], modules),
        ]
    )


def _share(part: float, total: float) -> str:
    return f"{part / total:.0%}" if total else "-"


def _module_label(path: str, function: str) -> str:
    if path == "~":  # a builtin: compile(), isinstance(), ...
        return function.strip("<>")
    parts = Path(path).parts
    if "async_guard" in parts:
        return "/".join(parts[parts.index("async_guard") :])
    return Path(path).name


@contextlib.contextmanager
def _cwd(path: Path) -> Iterator[None]:
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


# -- findings on the corpus --------------------------------------------------


def findings_report(findings: list[dict[str, object]]) -> str:
    if not findings:
        return (
            "The audit, every rule enabled, reports no finding at all on the corpus, so "
            "no AG2xx/AG3xx finding that is not a real bug."
        )
    rows = []
    for item in findings:
        path, line, code = str(item["path"]), int(str(item["line"])), str(item["code"])
        verdict = corpus.VERDICTS.get((path.removeprefix("./"), code, line), "**UNREVIEWED**")
        rows.append([f"`{path}:{line}`", code, str(item["message"]).replace("|", "\\|"), verdict])
    return table(["where", "code", "message", "verdict"], rows)


# -- output ------------------------------------------------------------------


METHOD = """\
Method: every command runs as a subprocess, the way CI runs it, so Python's start-up
counts for the audit as the process start counts for ruff; the commands alternate
round by round and the tables quote medians. Wall time is `time.perf_counter()` around
the run; CPU time is user + system time of the process and the workers it reaped
(`os.wait4`); "peak RSS (largest process)" is `ru_maxrss` from the same call (the main
process or one parse worker, whichever is larger); "peak RSS (process tree)" sums the
RSS of the whole tree, sampled every 10 ms by psutil in one extra untimed run. Cold is
`--no-cache`; warm follows a run that filled the cache, with nothing changed. The
audit's own bytecode is compiled once before the rounds, as `pip install` of the wheel
does (these machines set `PYTHONDONTWRITEBYTECODE=1`, under which an editable install
would compile its ~40 modules again in every run)."""


def compile_package() -> None:
    """The bytecode a wheel install leaves, written even under PYTHONDONTWRITEBYTECODE."""
    import compileall

    compileall.compile_dir(str(ROOT / "async_guard"), quiet=1)


def machine() -> str:
    cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return (
        f"{cores} cores (`nproc`), {platform.machine()}, Linux {platform.release()}, "
        f"Python {platform.python_version()}, ruff "
        + subprocess.run([*RUFF, "--version"], capture_output=True, text=True).stdout.split()[-1]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="rounds on the corpus (default 7)")
    parser.add_argument("--scale-rounds", type=int, default=3, help="rounds per scale size")
    parser.add_argument(
        "--sizes", default="2500,5000,10000", help="generated tree sizes in files ('' to skip)"
    )
    parser.add_argument(
        "--module-lines", default="12500,25000,50000", help="single-module sizes in lines"
    )
    parser.add_argument(
        "--profile", action="store_true", help="add where a cold run spends its time (cProfile)"
    )
    parser.add_argument("--write-docs", action="store_true", help=f"update {SECTION} in {DOCS}")
    parser.add_argument("--workdir", type=Path, help="build the trees here (default: a temp dir)")
    args = parser.parse_args(argv)
    compile_package()
    if args.rounds < 1 or args.scale_rounds < 1:
        parser.error("--rounds and --scale-rounds must be at least 1")
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    module_lines = [int(s) for s in args.module_lines.split(",") if s.strip()]

    command = "python benchmarks/audit_speed.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    work = args.workdir or Path(tempfile.mkdtemp(prefix="async-guard-bench-"))
    try:
        try:
            root = corpus.real_corpus(work / "corpus")
        except corpus.CorpusUnavailableError as exc:
            print(f"benchmark: cannot build the corpus: {exc}", file=sys.stderr)
            return 2
        load_before = os.getloadavg()[0]
        result = bench_corpus(root, args.rounds)
        pins = ", ".join(f"{d} {v}" for d, v in corpus.WHEELS.items())
        parts = [
            SECTION,
            "",
            f"Measured {datetime.date.today().isoformat()} on {machine()}; 1-minute load average "
            f"{load_before:.1f} before the corpus rounds, LOAD_AFTER after the last run (other "
            "work shares the machine: the commands alternate so that it slows all of them).",
            f"Command: `{command.strip()}` (from the repository root, in the virtualenv).",
            "",
            METHOD,
            "",
            f"### Real code: release wheels of {pins}",
            "",
            corpus_report(result, args.rounds),
        ]
        if sizes or module_lines:
            rows = bench_scale(work, sizes, module_lines, args.scale_rounds)
            parts += [
                "",
                "### Scale: generated Django projects",
                "",
                "Apps of models, views, async views, an async client with sync twins, Celery "
                "tasks, admin, forms, selectors, urls (`benchmarks/corpus.py`); 2 of every "
                f"11 files hold async code; one app in {corpus.BUG_EVERY} has a planted AG201 bug.",
                "",
                scale_report(rows, args.scale_rounds),
            ]
        if args.profile:
            parts += ["", "### Where a cold run spends its time", "", profile_cold(root)]
        parts += [
            "",
            "### Every finding on the corpus",
            "",
            findings_report(result.findings),
        ]
        text = "\n".join(parts) + "\n"
        text = text.replace("LOAD_AFTER", f"{os.getloadavg()[0]:.1f}")
        print(text)
        if args.write_docs:
            write_section(SECTION, text)
            print(f"benchmark: wrote {SECTION} in {DOCS}", file=sys.stderr)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
