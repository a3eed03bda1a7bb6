"""What would the standard library's process machinery cost the audit's cold run?

Usage (from the repository root, in the virtualenv)::

    python benchmarks/pool_cost.py [--rounds 9] [TREE]

The audit's workers are forked with two pipes each (``async_guard/audit/speed/pool/
processes.py``). This runs ``async-guard check --no-cache`` on the wheels corpus
(or TREE) as a subprocess, alternating round by round between that and the same
run with every worker started by ``multiprocessing`` (fork context: the same
processes, its ``Process``, ``Pipe`` and their imports), and prints the medians.
The home-made pool is worth keeping only if the standard library costs more than
5% of a cold run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import corpus
from benchmarks.audit_speed import Run, run_once

RUN = (
    "import sys, functools\n"
    "from async_guard.audit.speed.pool import processes\n"
    "if sys.argv.pop(1) == 'multiprocessing':\n"
    "    processes.start = functools.partial(\n"
    "        processes.start_with_multiprocessing, method='fork')\n"
    "from async_guard.cli import run\n"
    "run()\n"
)


def once(pool: str, tree: Path) -> Run:
    """Wall and CPU time (the process and the workers it reaped) of one cold run."""
    argv = [sys.executable, "-c", RUN, pool, "check", "--no-cache", "--quiet", str(tree)]
    return run_once(argv, tree)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", nargs="?", type=Path, help="default: the wheels corpus")
    parser.add_argument("--rounds", type=int, default=9)
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tree = options.tree or corpus.real_corpus(Path(tmp) / "wheels")
        runs: dict[str, list[Run]] = {"fork": [], "multiprocessing": []}
        once("fork", tree)  # warm the file system cache
        for round_ in range(options.rounds):
            order = ["fork", "multiprocessing"] if round_ % 2 == 0 else ["multiprocessing", "fork"]
            for pool in order:
                runs[pool].append(once(pool, tree))
            print(f"  round {round_ + 1}/{options.rounds} done", file=sys.stderr)
    print(f"tree: {tree}")
    print(f"rounds: {options.rounds}, alternating; medians, and the median of each round's ratio")
    for what in ("wall", "cpu"):
        fork = statistics.median(getattr(run, what) for run in runs["fork"])
        stdlib = statistics.median(getattr(run, what) for run in runs["multiprocessing"])
        ratio = statistics.median(
            getattr(b, what) / getattr(a, what)
            for a, b in zip(runs["fork"], runs["multiprocessing"], strict=True)
        )
        print(
            f"{what:>4}: fork + pipes (the audit's own) {fork:.3f} s, "
            f"multiprocessing (fork context) {stdlib:.3f} s: "
            f"multiprocessing costs {100 * (ratio - 1):+.1f}% of a cold run"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
