"""``benchmarks/runtime_overhead.py --processes N``: every round in N fresh child processes.

A ratio measured in one process carries that process's memory layout, which
favours one variant a little; the option exists so that a table can be the
median over several processes. These run real children on SQLite in memory.
Both overhead scripts refuse fewer than one process by name; the Channels
script's own children are tested in ``test_channels_benchmark_processes.py``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from benchmarks import channels_overhead, runtime_overhead
from benchmarks.runtime_overhead import SQLITE_MEMORY, Measure, run_django, spreads


def test_each_process_is_fresh_and_runs_every_round(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[int] = []
    original_init = runtime_overhead.Child.__init__

    def recording_init(self: runtime_overhead.Child, database: str) -> None:
        original_init(self, database)
        started.append(self.proc.pid)

    monkeypatch.setattr(runtime_overhead.Child, "__init__", recording_init)
    measure = Measure("SELECT 1", "select_1", SQLITE_MEMORY, 5, "-", ("guard", "bare"))
    run_django(3, [measure], processes=2)
    assert len(set(started)) == 2, started
    # Three rounds in each process, every variant timed in each: the pairs stay aligned.
    assert len(measure.times["guard"]) == len(measure.times["bare"]) == 6
    assert all(seconds > 0 for seconds in measure.times["guard"] + measure.times["bare"])
    # Each process's own ratio, from its own three rounds.
    line = spreads([measure], rounds=3, processes=2)
    assert line.startswith("- SELECT 1, each process: ")
    assert len(line.split(": ")[1].split(" (")[0].split(", ")) == 2


def test_each_process_ratio_comes_from_its_own_rounds() -> None:
    measure = Measure("op", "select_1", SQLITE_MEMORY, 1, "-", ("guard", "bare"))
    # Process one: guard twice bare; process two: guard equal to bare.
    measure.times = {"guard": [2.0, 2.0, 1.0, 1.0], "bare": [1.0, 1.0, 1.0, 1.0]}
    assert spreads([measure], rounds=2, processes=2) == (
        "- op, each process: 2.000, 1.000 (median of processes 1.500x)"
    )


@pytest.mark.parametrize(
    "main",
    [
        lambda: runtime_overhead.main(["--processes", "0", "--no-worker"]),
        lambda: channels_overhead.main(["--processes", "0"]),
    ],
    ids=["runtime_overhead", "channels_overhead"],
)
def test_fewer_than_one_process_is_refused(
    main: Callable[[], int], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main()
    assert "--processes must be at least 1, not 0" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (1, "one process (one per database)"),
        (4, "each of 4 processes per database, started one after another"),
    ],
)
def test_the_docs_paragraph_says_how_many_processes(count: int, text: str) -> None:
    assert runtime_overhead._processes(count) == text
