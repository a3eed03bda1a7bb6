"""Pre-commit on a large project: one staged file, audited with the whole project's knowledge.

Usage (from the repository root, in the virtualenv)::

    python benchmarks/project_scope.py PROJECT STAGED_FILE [--rounds 7] [--rss-tree TREE]

PROJECT is a Django project nobody here wrote, exported into a temporary
folder (never into this repository); STAGED_FILE is one of its files, relative
to PROJECT. The audit finds the project root above the file and builds its
index from every file of the project, so the first run reads them all; a warm
run reads the cached summaries by ``stat`` and parses the staged file only.

Commands, alternating round by round (medians):

- ``async-guard --version``: the start-up floor;
- ``async-guard check STAGED_FILE`` on a warm cache (filled once before the rounds);
- ``async-guard check --no-cache STAGED_FILE``: the cold cost of project scope;
- ruff on the same file, and ruff over the whole project (the goal: the warm
  run costs at most ruff's ``--no-cache`` run over the whole project).

``--rss-tree`` adds the peak RSS of the whole process tree (psutil, every 10 ms)
of a cold run over TREE, the memory goal's measurement (≤ 200 MiB on 1.3M lines).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.audit_speed import (
    AUDIT,
    Command,
    audit_argv,
    compile_package,
    machine,
    measure,
    mib,
    ruff_argv,
    run_once,
    secs,
    table,
    tree_peak_rss_kb,
)
from benchmarks.corpus import count_lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("staged", help="a file of PROJECT, relative to it")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--rss-tree", type=Path, help="measure a cold run's peak RSS here")
    options = parser.parse_args(argv)
    project: Path = options.project.resolve()
    if not (project / options.staged).is_file():
        parser.error(f"{options.staged}: not a file of {project}")
    compile_package()
    files, lines = count_lines(project)
    floor = Command("`async-guard --version` (start-up floor)", [*AUDIT, "--version"])
    warm = Command("one staged file, warm cache", audit_argv([options.staged], cache=True))
    cold = Command(
        "one staged file, cold (`--no-cache`)", audit_argv([options.staged], cache=False)
    )
    ruff_file = Command("ruff, the same file", ruff_argv([options.staged]))
    ruff_all = Command("ruff `--no-cache`, the whole project", ruff_argv(["."]))
    commands = [floor, warm, cold, ruff_file, ruff_all]
    run_once(audit_argv(["."], cache=True), project)  # fill the cache
    measure(commands, options.rounds, project, "project scope")
    rows = [[c.label, secs(c.median), secs(c.cpu_median)] for c in commands]
    print(f"Machine: {machine()}")
    print(f"{project.name}: {files:,} files, {lines:,} lines; staged: {options.staged}")
    print(f"median of {options.rounds} alternating rounds\n")
    print(table(["command", "median wall", "median CPU"], rows))
    ratio = warm.median / ruff_all.median
    print(f"\nwarm one-file run / ruff over the whole project: {ratio:.2f}x (goal ≤ 1x)")
    print(f"warm one-file run minus the start-up floor: {secs(warm.median - floor.median)}")
    if options.rss_tree is not None:
        tree = options.rss_tree.resolve()
        files, lines = count_lines(tree)
        peaks = [tree_peak_rss_kb(audit_argv(["."], cache=False), tree) for _ in range(3)]
        print(
            f"\npeak RSS of the process tree, cold run over {tree.name} ({files:,} files, "
            f"{lines:,} lines): median {mib(int(statistics.median(peaks)))} of 3 "
            f"({', '.join(mib(p) for p in peaks)}; goal ≤ 200 MiB)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
