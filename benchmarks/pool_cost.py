"""Does the audit's process pool earn its keep? A cold run here against another revision.

Usage (from the repository root, in the virtualenv)::

    python benchmarks/pool_cost.py --against REV [--rounds 21] [TREE]

The audit starts its workers with ``multiprocessing`` (``async_guard/audit/speed/
pool/processes.py``). Until commit 94f1366 it forked them itself, with two raw
pipes each, on the grounds that the standard library would cost a cold run more;
the rule was to keep that code only if the standard library cost more than 5% of
a cold run on the wheels corpus. This measures such a question for any two
revisions: it exports ``REV``'s ``async_guard`` package (``git archive``) into a
temporary folder and runs ``async-guard check --no-cache`` on the wheels corpus
(or TREE) with this checkout's package and with that one, alternating round by
round, as subprocesses. It prints the medians of wall and CPU time (the process
and the workers it reaped) and the median of each round's ratio.

``python benchmarks/pool_cost.py --against 94f1366`` is the measurement behind
the switch (docs/performance.md, "The process pool").
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import corpus
from benchmarks.audit_speed import Run, run_once

ROOT = Path(__file__).resolve().parents[1]

# Imports async_guard from the folder given first, not from the editable install
# (whose finder comes before sys.path).
RUN = (
    "import sys\n"
    "sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]\n"
    "sys.path.insert(0, sys.argv.pop(1))\n"
    "from async_guard.cli import run\n"
    "run()\n"
)


def export(rev: str, dest: Path) -> Path:
    """``rev``'s async_guard package under ``dest``, compiled as an install would."""
    dest.mkdir(parents=True, exist_ok=True)
    archive = dest / "package.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "archive", rev, "async_guard"], cwd=ROOT, stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
    compile_package(dest / "async_guard")
    return dest


def compile_package(package: Path) -> None:
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)


def once(package_root: Path, tree: Path) -> Run:
    argv = [sys.executable, "-c", RUN, str(package_root), "check", "--no-cache", "--quiet"]
    return run_once([*argv, "--fail-on", "never", str(tree)], tree)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", nargs="?", type=Path, help="default: the wheels corpus")
    parser.add_argument("--against", required=True, metavar="REV", help="the other revision")
    parser.add_argument("--rounds", type=int, default=21)
    options = parser.parse_args(argv)
    compile_package(ROOT / "async_guard")
    with tempfile.TemporaryDirectory() as tmp:
        tree = options.tree or corpus.real_corpus(Path(tmp) / "wheels")
        other = export(options.against, Path(tmp) / "other")
        roots = {"this checkout": ROOT, options.against: other}
        runs: dict[str, list[Run]] = {label: [] for label in roots}
        once(ROOT, tree)  # warm the file system cache
        for round_ in range(options.rounds):
            order = list(roots) if round_ % 2 == 0 else list(reversed(roots))
            for label in order:
                runs[label].append(once(roots[label], tree))
            print(f"  round {round_ + 1}/{options.rounds} done", file=sys.stderr)
    here, there = runs["this checkout"], runs[options.against]
    print(f"tree: {tree}")
    print(f"rounds: {options.rounds}, alternating; medians, and the median of each round's ratio")
    for what in ("wall", "cpu"):
        ratio = statistics.median(
            getattr(a, what) / getattr(b, what) for a, b in zip(here, there, strict=True)
        )
        print(
            f"{what:>4}: this checkout {statistics.median(getattr(r, what) for r in here):.3f} s, "
            f"{options.against} {statistics.median(getattr(r, what) for r in there):.3f} s: "
            f"this checkout / {options.against} = {ratio:.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
