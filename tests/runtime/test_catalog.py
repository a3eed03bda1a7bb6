"""The runtime events' documentation: one catalog, printed by ``explain``, generated into
docs/runtime.md (a test fails when the page drifts from the catalog)."""

from __future__ import annotations

import io
import re
import runpy
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from async_guard.cli import main
from async_guard.runtime import catalog, docs, events
from async_guard.runtime.catalog import EVENTS, get_event

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_MD = ROOT / "docs" / "runtime.md"
CODES = [f"AGR10{n}" for n in range(1, 10)]


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_the_catalog_has_every_event_once_in_order() -> None:
    assert [event.code for event in EVENTS] == CODES
    assert list(catalog.TITLES) == CODES
    # events.py's name for the titles is the catalog's, not a copy
    assert events.TITLES is catalog.TITLES


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.code)
def test_every_event_tells_what_happened_why_it_matters_bad_and_fix(event) -> None:
    assert event.title and not event.title.endswith(".")
    for text in (event.happened, event.harm, event.bad, event.fix):
        assert text.strip() and text == text.strip()
    assert event.bad.startswith("# Bad") and event.fix.startswith("# Good")
    compile(event.fix, event.code, "exec")  # the fix at least parses
    assert re.findall(r"^## (.+)$", event.documentation(), re.M)[:4] == [
        "What happened",
        "Why it matters",
        "Bad",
        "Fix",
    ]


def test_the_text_stands_on_its_own() -> None:
    """No pointer to documents outside the repository: each event tells its story itself."""
    text = "\n".join(
        f"{e.title}\n{e.happened}\n{e.harm}\n{e.bad}\n{e.fix}\n{e.detection}" for e in EVENTS
    )
    assert not re.search(r"\bseed\b|lesson \d|/tmp/", text, re.I)


def test_get_event_ignores_case_and_spaces() -> None:
    assert get_event(" agr101 ") is EVENTS[0]
    assert get_event("AGR100") is None and get_event("AG101") is None


def test_docs_runtime_md_events_section_is_generated_from_the_catalog() -> None:
    page = RUNTIME_MD.read_text(encoding="utf-8")
    assert docs.section(page) == docs.render(), (
        "regenerate: python -m async_guard.runtime.docs docs/runtime.md"
    )
    for event in EVENTS:
        assert f"### {event.code}: {event.title}" in page
        # the index links to the event's heading
        heading = docs._anchor(f"{event.code}: {event.title}")
        assert f"(#{heading})" in page
    assert "#### What happened" in page


def test_the_drift_test_can_fail(tmp_path: Path) -> None:
    page = RUNTIME_MD.read_text(encoding="utf-8")
    drifted = page.replace("#### What happened", "#### What went on", 1)
    assert docs.section(drifted) != docs.render()
    # and the generator puts the catalog's text back, leaving the rest of the page alone
    target = tmp_path / "runtime.md"
    target.write_text(drifted.replace("## System checks", "## System checks!"), encoding="utf-8")
    assert docs.main([str(target)]) == 0
    assert target.read_text(encoding="utf-8") == page.replace(
        "## System checks", "## System checks!"
    )


def test_a_page_without_the_section_is_refused() -> None:
    assert docs.section("# Runtime\n\n## The events\n\nno end marker\n") == ""
    with pytest.raises(ValueError, match="The events"):
        docs.replace_section("# Runtime\n")


def test_the_generator_prints_the_section(monkeypatch: pytest.MonkeyPatch) -> None:
    """``python -m async_guard.runtime.docs`` with no argument: the section on stdout."""
    monkeypatch.setattr(sys, "argv", ["async_guard.runtime.docs"])
    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(SystemExit) as exited:
        runpy.run_path(docs.__file__, run_name="__main__")
    assert exited.value.code == 0
    assert out.getvalue() == docs.render()


@pytest.mark.parametrize("code", CODES)
def test_explain_prints_the_event(code: str) -> None:
    status, out, err = cli("explain", code.lower())
    event = get_event(code)
    assert status == 0 and err == ""
    assert out.startswith(f"{code} runtime event: {event.title}\n")
    assert event.documentation() in out
    for section in ("## What happened", "## Why it matters", "## Bad", "## Fix"):
        assert section in out


def test_explain_still_explains_rules() -> None:
    status, out, _ = cli("explain", "AG101")
    assert status == 0 and out.startswith("AG101 asyncio-run-in-sync-entrypoint")


@pytest.mark.parametrize(
    ("code", "unknown", "listed_by"),
    [
        ("AGR110", "runtime event 'AGR110'", "`async-guard rules --runtime`"),
        ("agr100", "runtime event 'agr100'", "`async-guard rules --runtime`"),
        ("AG999", "rule 'AG999'", "`--runtime` for events"),
        ("nonsense", "rule 'nonsense'", "`async-guard rules`"),
    ],
)
def test_explain_an_unknown_code_exits_2_naming_it(code: str, unknown: str, listed_by: str) -> None:
    status, out, err = cli("explain", code)
    assert status == 2 and out == ""
    assert f"unknown {unknown} (see " in err and listed_by in err


def test_rules_runtime_lists_every_event() -> None:
    status, out, _ = cli("rules", "--runtime")
    assert status == 0
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == CODES
    assert lines[0] == f"AGR101  {catalog.TITLES['AGR101']}"
    # the plain listing is still the audit's rules only
    _, rules_out, _ = cli("rules")
    assert "AGR1" not in rules_out


def test_explain_from_the_console_script() -> None:
    """The installed entry point, as a user runs it (``python -m async_guard``)."""
    done = subprocess.run(
        [sys.executable, "-m", "async_guard", "explain", "AGR101"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "## Why it matters" in done.stdout
    assert "asyncio.run(mark_closing(position))" in done.stdout
