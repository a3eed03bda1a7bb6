"""The text report's colour: when it is wanted, and that it changes no word."""

from __future__ import annotations

import io
import re

import pytest

from async_guard.audit.finding import Finding
from async_guard.audit.report import text
from async_guard.audit.results import AuditResult, Stats


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Broken(io.StringIO):
    def isatty(self) -> bool:
        raise ValueError("I/O operation on closed file")


@pytest.mark.parametrize(
    ("stream", "environ", "flags", "wanted"),
    [
        (Terminal(), {}, {}, True),
        (io.StringIO(), {}, {}, False),
        (Broken(), {}, {}, False),
        (Terminal(), {"NO_COLOR": "1"}, {}, False),
        (Terminal(), {"NO_COLOR": ""}, {}, True),  # empty: not set, as no-color.org says
        (io.StringIO(), {"FORCE_COLOR": "1"}, {}, True),
        (Terminal(), {"NO_COLOR": "1", "FORCE_COLOR": "1"}, {}, False),
        (Terminal(), {"TERM": "dumb"}, {}, False),
        (Terminal(), {}, {"no_color": True}, False),
        (io.StringIO(), {"NO_COLOR": "1"}, {"force_color": True}, True),
    ],
)
def test_colour_wanted(
    stream: io.StringIO, environ: dict[str, str], flags: dict[str, bool], wanted: bool
) -> None:
    assert text.colour_wanted(stream, environ=environ, **flags) is wanted


def _finding(code: str, severity: str, hint: str = "") -> Finding:
    return Finding(
        path="a.py", line=3, col=5, code=code, end_line=3, end_col=9, name="x",
        severity=severity, message="m", hint=hint,  # type: ignore[arg-type]
    )  # fmt: skip


def test_colour_changes_no_word() -> None:
    result = AuditResult(
        findings=[_finding("AG201", "error", "do this"), _finding("AG102", "warning")],
        files_scanned=2, parse_errors=[], duration_s=0.5, stats=Stats(),
    )  # fmt: skip
    coloured = text.render(result, colour=True) + text.summary(result, colour=True)
    plain = text.render(result) + text.summary(result)
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain
    assert "\x1b[1;31mAG201\x1b[0m" in coloured and "\x1b[1;33mAG102\x1b[0m" in coloured
    assert "\x1b[1;31mFound 2 findings (1 error, 1 warning) in 2 files\x1b[0m" in coloured
    clean = AuditResult(
        findings=[], files_scanned=1, parse_errors=[], duration_s=0.1, stats=Stats()
    )
    assert text.summary(clean, colour=True) == "\x1b[1;32mNo findings in 1 file\x1b[0m (0.10s)."
    assert text.summary(clean) == "No findings in 1 file (0.10s)."
