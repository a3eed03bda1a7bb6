"""``benchmarks/channels_overhead.py --processes N``: every round in N fresh child processes.

As for ``runtime_overhead.py``: one process's ratio carries where that
process's objects landed, so a table can pool several fresh processes. These
run real children, each driving the whole Channels stack.
"""

from __future__ import annotations

import pytest

from benchmarks import channels_overhead
from benchmarks.channels_overhead import CONSUMERS, per_process, run_processes


def test_each_child_runs_every_round_and_the_rounds_are_pooled() -> None:
    pooled, each = run_processes(rounds=2, batch=5, processes=2)
    assert len(each) == 2
    for times in each:
        for consumer in CONSUMERS:
            for variant in ("guard", "bare"):
                assert len(times[(consumer, variant, "wall")]) == 2
                assert all(seconds > 0 for seconds in times[(consumer, variant, "wall")])
    # Two rounds in each of two processes, guard and bare alike: the pairs stay aligned.
    for consumer in CONSUMERS:
        assert (
            len(pooled[(consumer, "guard", "wall")]) == len(pooled[(consumer, "bare", "wall")]) == 4
        )
    # Each process's own ratio is listed, so that the spread between processes shows.
    listed = per_process(each)
    assert listed.count("each process: ") == len(CONSUMERS)
    assert "median of processes" in listed


def test_a_failing_child_names_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(channels_overhead, "__file__", "/nonexistent/channels_overhead.py")
    with pytest.raises(SystemExit) as raised:
        run_processes(rounds=1, batch=1, processes=2)
    assert "child process 1 of 2 exited with" in str(raised.value)


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (1, "in one process (the guard"),
        (3, "in each of 3 processes started one after another, pooled"),
    ],
)
def test_the_docs_paragraph_says_how_many_processes(count: int, text: str) -> None:
    assert text in channels_overhead.describe(2, 5, "here", 1.0, "python x", count)
