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
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import corpus

RUN = (
    "import sys, functools\n"
    "from async_guard.audit.speed.pool import processes\n"
    "if sys.argv.pop(1) == 'multiprocessing':\n"
    "    processes.start = functools.partial(\n"
    "        processes.start_with_multiprocessing, method='fork')\n"
    "from async_guard.cli import run\n"
    "run()\n"
)


def once(pool: str, tree: Path) -> float:
    argv = [sys.executable, "-c", RUN, pool, "check", "--no-cache", "--quiet", str(tree)]
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"{pool}: exit {done.returncode}: {done.stderr.strip()}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", nargs="?", type=Path, help="default: the wheels corpus")
    parser.add_argument("--rounds", type=int, default=9)
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tree = options.tree or corpus.real_corpus(Path(tmp) / "wheels")
        times: dict[str, list[float]] = {"fork": [], "multiprocessing": []}
        once("fork", tree)  # warm the file system cache
        for round_ in range(options.rounds):
            order = ["fork", "multiprocessing"] if round_ % 2 == 0 else ["multiprocessing", "fork"]
            for pool in order:
                times[pool].append(once(pool, tree))
    fork = statistics.median(times["fork"])
    stdlib = statistics.median(times["multiprocessing"])
    print(f"tree: {tree}")
    print(f"rounds: {options.rounds}, alternating; medians")
    print(f"fork + pipes (the audit's own): {fork:.3f} s")
    print(f"multiprocessing (fork context): {stdlib:.3f} s")
    print(f"multiprocessing costs {100 * (stdlib - fork) / fork:+.1f}% of a cold run")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
