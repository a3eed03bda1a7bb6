"""``check`` in-process: every option path of the command (audit/frontends/command.py)
and the reporters."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from async_guard.audit.frontends.command import _Progress
from async_guard.cli import main


def check(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["check", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(project)
    return project


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_every_format(in_project: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    code, out, _ = check(["shop", "--format", fmt, "--no-cache", "--stats"], capsys)
    assert code == 1
    assert "AG101" in out and "AG102" in out
    if fmt in ("json", "sarif"):
        json.loads(out)


def test_quiet_text_and_clean_summary(in_project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = check(["shop/plain.py", "--no-cache"], capsys)
    assert code == 0 and out == "No findings in 1 file (" + out.split("(", 1)[1]
    code, out, _ = check(["shop", "--quiet", "--no-cache", "--select", "AG102"], capsys)
    assert code == 1 and "Found" not in out and out.count("AG102") == 1


def test_baseline_write_load_prune(in_project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = check(["shop", "--write-baseline", "base.json", "--no-cache"], capsys)
    assert code == 0 and "wrote 3 findings" in err
    code, out, _ = check(["shop", "--baseline", "base.json", "--no-cache"], capsys)
    assert code == 0 and "No findings" in out
    tasks = in_project / "shop" / "tasks.py"
    tasks.write_text(
        tasks.read_text().replace("return asyncio.run(fetch(pk))  # noqa\n", "return 1\n")
    )
    code, out, err = check(
        ["shop", "--baseline", "base.json", "--prune-baseline", "--no-cache"], capsys
    )
    assert code == 0 and "1 of its entries is stale" in err and "pruned 1" in err
    assert len(json.loads((in_project / "base.json").read_text())["entries"]) == 2
    (in_project / "bad.json").write_text("{not json")
    code, _, err = check(["shop", "--baseline", "bad.json"], capsys)
    assert code == 2 and "--baseline:" in err and "bad.json" in err


def test_diff_then_fix(in_project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = (in_project / "shop" / "tasks.py").read_text()
    code, out, _ = check(["shop", "--diff", "--no-cache", "--select", "AG101"], capsys)
    assert code == 1 and out.startswith("--- a/shop/tasks.py\n+++ b/shop/tasks.py\n")
    assert "async_to_sync" in out
    assert (in_project / "shop" / "tasks.py").read_text() == before
    code, out, err = check(["shop", "--fix", "--no-cache", "--select", "AG101"], capsys)
    assert "AG101 fixed" in err
    after = (in_project / "shop" / "tasks.py").read_text()
    assert after != before and "async_to_sync" in after
    code, out, _ = check(["shop", "--no-cache", "--select", "AG101"], capsys)
    assert code == 0, out
    code, out, _ = check(["shop", "--diff", "--no-cache", "--select", "AG101"], capsys)
    assert code == 0 and out == ""


def test_output_file_and_errors(in_project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = check(["shop", "--output", "out.txt", "--no-cache"], capsys)
    assert code == 1 and out == "" and "AG101" in (in_project / "out.txt").read_text()
    code, _, err = check(["shop", "--fix", "--diff"], capsys)
    assert code == 2 and "--fix and --diff" in err
    code, _, err = check(["shop", "--ignore", "XX"], capsys)
    assert code == 2 and "--ignore" in err
    code, _, err = check(["shop", "nowhere.py", "--no-cache"], capsys)
    assert (code, err) == (2, "async-guard: error: no such file or directory: nowhere.py\n")
    (in_project / "pyproject.toml").write_text("[tool.async_guard]\nselect = ['AG7']\n")
    code, _, err = check(["shop"], capsys)
    assert code == 2 and "matches no rule" in err


def test_main_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["--version"]) == 0
    assert main(["bogus"]) == 2
    assert main(["explain", "AG102"]) == 0
    assert "## Fix" in capsys.readouterr().out


def test_progress_only_on_a_terminal_after_two_seconds() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Tty()
    progress = _Progress(stream)
    progress(1, 10)
    assert stream.getvalue() == ""  # not yet two seconds
    progress.started -= 5
    progress(5, 10)
    progress.finish()
    assert "5/10 files" in stream.getvalue()
    piped = _Progress(io.StringIO())
    piped.started -= 5
    piped(5, 10)
    piped.finish()
    assert piped.stream.getvalue() == ""


def test_management_command_in_process(project: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("audit_async", str(project / "shop"), "--no-cache", stdout=out, stderr=err)
    assert exit_.value.code == 1
    assert "AG101" in out.getvalue()
    out = io.StringIO()
    call_command("audit_async", "--no-cache", "--format", "json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["findings"] == [] and data["files_scanned"] > 10


def test_management_command_reads_settings(project: Path, settings: object) -> None:
    settings.ASYNC_GUARD = {"AUDIT": {"SELECT": ["AG102"]}}  # type: ignore[attr-defined]
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("audit_async", str(project / "shop"), "--no-cache", stdout=out)
    assert "AG102" in out.getvalue() and "AG101" not in out.getvalue()
    out = io.StringIO()  # the command line wins
    with pytest.raises(SystemExit):
        call_command(
            "audit_async", str(project / "shop"), "--select", "AG101", "--no-cache", stdout=out
        )
    assert "AG101" in out.getvalue() and "AG102" not in out.getvalue()
    settings.ASYNC_GUARD = {"AUDIT": {"SELECTT": ["AG102"]}}  # type: ignore[attr-defined]
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("audit_async", str(project / "shop"), stderr=err)
    assert exit_.value.code == 2


def test_registry_models_reach_the_index(tmp_path: Path) -> None:
    """A model known only from the app registry still makes ``.objects`` the ORM."""
    from async_guard.management.commands.audit_async import registry_facts

    facts = registry_facts()
    names = dict(facts["registry_models"])
    assert any(name.startswith("trading.models.") for name in names)
    assert "django.contrib.auth.models.User" in names
    assert dict(names["django.contrib.auth.models.User"])["username"] == "field"


def test_more_options_in_process(in_project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["shop", "--ignore", "AG106", "--exclude", "legacy", "--fail-on", "error", "--no-skip"]
    code, out, _ = check([*args, "--jobs", "1", "--no-cache"], capsys)
    assert code == 0 and "AG101" in out  # warnings only: below --fail-on error
    code, out, _ = check(["shop", "--jobs", "1"], capsys)  # fills the cache under the root
    assert code == 1 and (in_project / ".async_guard_cache").is_dir()
    for bad in (["--jobs", "-1"], ["--jobs", "x"]):
        code, _, err = check(["shop", *bad], capsys)
        assert code == 2 and "--jobs" in err
    code, _, err = check(["nowhere.py", "--no-cache"], capsys)
    assert code == 2 and "no such file or directory: nowhere.py" in err
    code, _, err = check(["shop", "--output", "shop", "--no-cache"], capsys)
    assert code == 2 and "--output: cannot write shop" in err


def test_missing_adoption_modules_exit_2(
    in_project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "async_guard.fix", None)
    code, _, err = check(["shop", "--fix", "--no-cache"], capsys)
    assert code == 2 and "--fix: this installation has no async_guard.fix module" in err
    monkeypatch.setitem(sys.modules, "async_guard.audit.baseline", None)
    code, _, err = check(["shop", "--baseline", "b.json", "--no-cache"], capsys)
    assert code == 2 and "--baseline" in err


def test_fix_reports_files_it_cannot_read(
    in_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (in_project / "shop" / "legacy_tasks.py").write_bytes(
        b"# -*- coding: latin-1 -*-\nimport asyncio\nfrom celery import shared_task\n"
        b"from shop.remote import fetch\nNAME = '\xe9'\n\n\n@shared_task\ndef t(pk):\n"
        b"    return asyncio.run(fetch(pk))\n"
    )
    code, _, err = check(["shop", "--fix", "--no-cache"], capsys)
    assert "legacy_tasks.py: not fixed: cannot read it as UTF-8" in err
    assert code == 1


def test_atomic_write_leaves_nothing_behind_on_failure(tmp_path: Path) -> None:
    from async_guard.audit.atomic import atomic_write

    target = tmp_path / "folder"
    target.mkdir()
    with pytest.raises(OSError):
        atomic_write(target, b"x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder"]
    atomic_write(tmp_path / "new.txt", b"data")
    assert (tmp_path / "new.txt").read_bytes() == b"data"


def test_a_method_is_named_with_its_class() -> None:
    from async_guard.audit.walk import audit_source

    source = (
        "import asyncio\nfrom django.db import models\nfrom django.views import View\n\n\n"
        "class Order(models.Model):\n    pass\n\n\n"
        "class OrderView(View):\n    async def get(self, request, pk):\n"
        "        return Order.objects.get(pk=pk)\n\n\n"
        "class Client:\n    async def fetch(self):\n        return 1\n\n"
        "    def fetch_sync(self):\n        return asyncio.run(self.fetch())\n\n\n"
        "async def plain(pk):\n    return Order.objects.get(pk=pk)\n"
    )
    messages = {f.code + str(f.line): f.message for f in audit_source(source, "shop/views.py")}
    assert "async function OrderView.get()" in messages["AG20112"]
    assert "Client.fetch_sync() is the sync twin of async Client.fetch()" in messages["AG30419"]
    assert "async function plain()" in messages["AG20124"]
