"""The engine on real trees: bad input, cache, parallel workers, configuration, the index."""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path

import hypothesis
import pytest

from async_guard.audit.analysis.triggers import TriggerTest
from async_guard.audit.config import Config, ConfigError, from_mapping, load_pyproject
from async_guard.audit.runner import audit_paths
from async_guard.audit.speed.skip import file_triggers as triggers
from async_guard.audit.suppress import suppressed_codes
from async_guard.audit.walk import audit_source
from tests.audit.conftest import write_tree

BUG = "import asyncio\n\n\ndef f():\n    return asyncio.get_event_loop()\n"


def codes(result: object) -> list[tuple[str, int, str]]:
    return [(Path(f.path).name, f.line, f.code) for f in result.findings]  # type: ignore[attr-defined]


def errors(result: object) -> dict[str, str]:
    return {Path(e.path).name: e.message for e in result.parse_errors}  # type: ignore[attr-defined]


def test_bad_input_gives_one_message_per_file_and_the_run_goes_on(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    root.mkdir()
    (root / "good.py").write_text(BUG)
    (root / "syntax.py").write_text("import asyncio\ndef f(:\n    pass\n")
    (root / "newer_type.py").write_text("import asyncio\ntype Ids = list[int]\n")
    (root / "newer_fstring.py").write_text('import asyncio\nx = f"{d["key"]}"\n')
    (root / "newer_except.py").write_text(
        "import asyncio\ntry:\n    pass\nexcept ValueError, TypeError:\n    pass\n"
    )
    (root / "binary.py").write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\xff\xfe")
    (root / "nul.py").write_bytes(b"import asyncio\nx = 1\x00\n")
    (root / "latin1_cookie.py").write_bytes(
        b"# -*- coding: latin-1 -*-\nimport asyncio\nNAME = '\xe9'\nasyncio.get_event_loop()\n"
    )
    (root / "latin1_no_cookie.py").write_bytes(b"import asyncio\nNAME = '\xe9'\n")
    (root / "bad_cookie.py").write_bytes(b"# -*- coding: klingon -*-\nimport asyncio\n")
    (root / "empty.py").write_bytes(b"")
    (root / "deep.py").write_text("import asyncio\nx = " + "+".join(["1"] * 60000) + "\n")
    (root / "loop.py").symlink_to(root / "loop.py")
    (root / "dangling.py").symlink_to(root / "nowhere.py")
    (root / "folder.py").mkdir()
    (root / "folder.py" / "inner.py").write_text(BUG)
    os.mkfifo(root / "fifo.py")
    result = audit_paths([str(root), str(tmp_path / "missing.py")], Config(cache=False, jobs=1))
    assert ("good.py", 5, "AG106") in codes(result)
    assert ("inner.py", 5, "AG106") in codes(result)  # a folder named x.py is walked
    assert ("latin1_cookie.py", 4, "AG106") in codes(result)  # decoded with its cookie
    problems = errors(result)
    assert problems["syntax.py"].startswith("syntax error")
    newer = {"newer_type.py", "newer_fstring.py"} if sys.version_info < (3, 12) else set()
    if newer:  # on 3.12+ both parse (tests/audit/test_newer_grammar.py audits them)
        assert "needs the Python 3.12 grammar (`type` statements)" in problems["newer_type.py"]
        assert "needs the Python 3.12 grammar (f-strings" in problems["newer_fstring.py"]
    newer.add("newer_except.py")  # Python 3.14's grammar: no interpreter here parses it
    assert "needs the Python 3.14 grammar (`except A, B:`" in problems["newer_except.py"]
    assert "binary.py" in problems and "nul.py" in problems
    assert "NUL bytes" in problems["nul.py"]
    assert problems["latin1_no_cookie.py"].startswith("not valid utf-8 text")
    assert "klingon" in problems["bad_cookie.py"]
    assert "recursion limit" in problems["deep.py"]
    assert problems["loop.py"] == "symlink loop: cannot be read"
    assert "does not exist" in problems["dangling.py"]
    assert problems["fifo.py"] == "is not a regular file"
    assert problems["missing.py"] == "does not exist"
    assert "empty.py" not in problems
    ag000 = {name for name, _, code in codes(result) if code == "AG000"}
    assert ag000 == {
        "syntax.py", "binary.py", "nul.py", "latin1_no_cookie.py", "bad_cookie.py", "deep.py",
        *newer,
    }  # fmt: skip
    assert ("syntax.py", 2, "AG000") in codes(result)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path: Path) -> None:
    target = tmp_path / "secret.py"
    target.write_text(BUG)
    target.chmod(0)
    try:
        result = audit_paths([str(tmp_path)], Config(cache=False))
    finally:
        target.chmod(0o644)
    assert errors(result)["secret.py"].startswith("cannot be read")


def test_cache_reuses_results_and_survives_corruption(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "tree", {"a.py": BUG, "b.py": "import asyncio\n"})
    config = Config(cache_dir=str(tmp_path / "cache"), jobs=1)
    cold = audit_paths([str(root)], config)
    assert cold.stats.cached == 0 and cold.stats.parsed == 2
    warm = audit_paths([str(root)], config)
    assert warm.stats.cached == 2 and warm.findings == cold.findings
    entries = list((tmp_path / "cache").rglob("*.pickle"))
    # two files, the run (known by content and by stat), and the files' summaries
    assert len(entries) == 5
    for entry in entries:
        entry.write_bytes(b"garbage")
    again = audit_paths([str(root)], config)
    assert again.findings == cold.findings and again.stats.cached == 0
    (root / "b.py").write_text(BUG)  # an edit: only that file is parsed again
    edited = audit_paths([str(root)], config)
    assert codes(edited) == [("a.py", 5, "AG106"), ("b.py", 5, "AG106")]
    assert not list((tmp_path / "cache").rglob("*.tmp"))


def test_cached_findings_follow_changes_in_other_files(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "tree",
        {
            "tasks.py": "from celery import shared_task\nfrom helpers import go\n\n\n"
            "@shared_task\ndef t():\n    go()\n",
            "helpers.py": "import asyncio\n\n\ndef go():\n    return 1\n",
        },
    )
    config = Config(cache_dir=str(tmp_path / "cache"), jobs=1)
    assert codes(audit_paths([str(root)], config)) == []
    (root / "helpers.py").write_text(
        "import asyncio\n\n\nasync def c():\n    pass\n\n\ndef go():\n    return asyncio.run(c())\n"
    )
    assert codes(audit_paths([str(root)], config)) == [("helpers.py", 9, "AG101")]


def test_parallel_workers_give_the_same_findings(tmp_path: Path) -> None:
    files = {f"pkg/m{i}.py": BUG if i % 3 else "x = 1\n" for i in range(120)}
    root = write_tree(tmp_path / "tree", files)
    one = audit_paths([str(root)], Config(cache=False, jobs=1))
    two = audit_paths([str(root)], Config(cache=False, jobs=2))
    assert one.findings == two.findings and len(one.findings) == 80


def test_skip_needs_a_trigger_and_skipping_keeps_findings(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "tree",
        {"plain.py": "def add(a, b):\n    return a + b\n", "bug.py": BUG},
    )
    on = audit_paths([str(root)], Config(cache=False, jobs=1))
    off = audit_paths([str(root)], Config(cache=False, jobs=1, skip=False))
    assert on.stats.skipped == 1 and off.stats.skipped == 0
    assert on.findings == off.findings
    assert "thread_sensitive" in triggers(Config())
    assert "thread_sensitive" not in triggers(Config(select=("AG3",)))


def test_skip_resolves_a_name_shared_by_two_classes(tmp_path: Path) -> None:
    """Two classes called ``Signal``, one with an ``async`` ``send``: both callers mention
    ``Signal`` and ``send``; only the one that resolves to the coroutine is audited, and
    it keeps its AG301."""
    root = write_tree(
        tmp_path / "tree",
        {
            "hub/__init__.py": "from .dispatch import Signal as Sig\n",
            "hub/dispatch.py": (
                "class Signal:\n    @staticmethod\n    async def send():\n        return 1\n"
            ),
            "other.py": "class Signal:\n    @staticmethod\n    def send():\n        return 2\n",
            "uses_other.py": "from other import Signal\n\n\ndef f():\n    Signal.send()\n",
            "uses_hub.py": "from hub import Sig\n\n\ndef f():\n    Sig.send()\n",
        },
    )
    on = audit_paths([str(root)], Config(cache=False, jobs=1))
    off = audit_paths([str(root)], Config(cache=False, jobs=1, skip=False))
    assert on.findings == off.findings
    assert [(Path(f.path).name, f.code) for f in on.findings] == [("uses_hub.py", "AG301")]


@pytest.mark.parametrize(
    ("text", "hit"),
    [
        ("async def f(): ...", True),
        ("async  \\\n  def f(): ...", True),  # a backslash continues the line
        ("x = 1;async def f(): ...", True),
        # ``async for``/``async with``/async comprehensions exist only inside an async def
        ("x = [y async for y in z]", False),
        ("the async pool, async results", False),  # prose in a docstring or comment
        ("1async def f(): ...", True),  # a digit cannot start a name: still the keyword
        ("éasync def f(): ...", False),
        ("async define", False),
        ("x.aget_many()", False),  # a cache method, not the ORM
        ("def is_async(): ...", False),  # an identifier holds no keyword
        ("# asynchronous work", False),
        ("@async_unsafe", False),
        ("target = 1", False),  # no call of the async ORM's aget
        ("await Order.objects.aget(pk=1)", True),
        ("Order.objects.aget_or_create()", True),
        ("(Order.objects  # the first one\n    .  # really\n    afirst())", True),
        ("acount = len(rows)", False),  # the ORM's methods matter only as attributes
        ("AsyncToSync(f)()", True),
        ("def fetch_sync(): ...", False),  # AG304 needs the async twin beside it
        ("async def fetch(): ...\ndef fetch_sync(): ...", True),
        ("import asyncio", True),
        ("import os,asyncio", True),
        ("from asyncio.events import get_event_loop", True),
        # another module called asyncio, and another get_event_loop: not the stdlib's
        ("from django.utils.asyncio import async_unsafe", False),
        ("from kombu.asynchronous import get_event_loop\nloop = get_event_loop()", False),
        ("import asyncio_compat", False),
    ],
)
def test_trigger_pattern_keywords_and_orm_methods_are_whole_words(text: str, hit: bool) -> None:
    assert TriggerTest(triggers(Config())).search(text) is hit


def test_config_from_pyproject_and_errors(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        "[tool.async_guard]\nselect = ['AG1']\nignore = 'AG106'\nexclude = ['gen/*']\n"
        "per-file-ignores = { 'legacy/*' = ['AG102'] }\ntask-decorators = ['periodic']\n"
        "known-async = ['sdk.fetch']\nfail-on = 'error'\njobs = 2\ncache = false\n"
    )
    config = load_pyproject(pyproject)
    assert config.select == ("AG1",) and config.ignore == ("AG106",)
    assert config.enabled("AG101") and not config.enabled("AG106") and not config.enabled("AG201")
    assert config.excluded("gen/x.py") and config.excluded(str(tmp_path / "gen" / "x.py"))
    assert config.ignored_in("legacy/old.py", "AG102") and not config.ignored_in("x.py", "AG102")
    assert config.fail_on == "error" and config.jobs == 2 and config.cache is False
    for bad, needle in [
        ({"selct": []}, "selct: unknown key"),
        ({"select": ["XX1"]}, "not a rule code"),
        ({"select": 3}, "expected a list of rule codes"),
        ({"exclude": [1]}, "expected a list of strings"),
        ({"per-file-ignores": []}, "expected a table"),
        ({"fail-on": "often"}, "expected one of"),
        ({"cache": "yes"}, "expected true or false"),
        ({"jobs": -1}, "whole number"),
    ]:
        with pytest.raises(ConfigError, match=needle) as info:
            from_mapping(bad, "pyproject.toml [tool.async_guard]")
        assert str(info.value).startswith("pyproject.toml [tool.async_guard]")
    broken = tmp_path / "broken" / "pyproject.toml"
    broken.parent.mkdir()
    broken.write_text("[tool.async_guard\n")
    with pytest.raises(ConfigError, match="cannot read"):
        load_pyproject(broken)


def test_suppression_comments() -> None:
    assert suppressed_codes("x()  # noqa: AG101") == {"AG101"}
    assert suppressed_codes("x()  # noqa: E501, AG1") == {"AG1"}
    assert suppressed_codes("x()  # noqa") == frozenset()
    assert suppressed_codes("x()  # async-guard: ignore[AG101, AG102]") == {"AG101", "AG102"}
    source = (
        "import asyncio\nasyncio.get_event_loop()  # noqa\n"
        "asyncio.get_event_loop()  # noqa: AG106\n"
    )
    assert [f.line for f in audit_source(source)] == [2]


def test_per_file_ignores_and_select_in_audit_source() -> None:
    config = Config(per_file_ignores=(("legacy/*", ("AG1",)),))
    assert audit_source(BUG, "legacy/x.py", config=config) == []
    assert audit_source(BUG, "x.py", config=Config(select=("AG2",))) == []
    assert audit_source("def f(:\n", "x.py", config=Config(ignore=("AG000",))) == []


def test_index_across_files(tmp_path: Path) -> None:
    """Contexts propagate through calls, re-exports and project base classes."""
    root = write_tree(
        tmp_path / "tree",
        {
            "core/__init__.py": "from core.base import TimeStamped\n",
            "core/base.py": "from django.db import models\n\n\nclass TimeStamped(models.Model):\n"
            "    class Meta:\n        abstract = True\n",
            "shop/__init__.py": "",
            "shop/models.py": "from core import TimeStamped\nfrom django.db import models\n\n\n"
            "class Order(TimeStamped):\n"
            "    customer = models.ForeignKey('C', on_delete=models.CASCADE)\n"
            "    def sync(self):\n        return run_it()\n\n\ndef run_it():\n    import asyncio\n"
            "    return asyncio.run(remote())\n\n\nasync def remote():\n    return 1\n",
            "shop/commands.py": "from django.core.management.base import BaseCommand\n\n\n"
            "class Base(BaseCommand):\n    pass\n",
            "shop/run.py": "import asyncio\nfrom shop.commands import Base\n"
            "from shop.models import Order\n\n\n"
            "async def main():\n    return await Order.objects.acount()\n\n\n"
            "class Command(Base):\n    def handle(self, *a, **k):\n        asyncio.run(main())\n",
        },
    )
    result = audit_paths([str(root)], Config(cache=False, jobs=1))
    assert codes(result) == [("run.py", 12, "AG103")]
    from async_guard.audit.analysis.facts import collect_facts
    from async_guard.audit.analysis.index import ProjectIndex
    from async_guard.audit.analysis.source import SourceFile

    facts = [
        collect_facts(SourceFile.from_text(p.read_text(), str(p)))
        for p in sorted(root.rglob("*.py"))
    ]
    index = ProjectIndex(facts)
    assert index.is_model("shop.models.Order") and index.is_model("core.TimeStamped")
    assert not index.is_model("shop.commands.Base")
    assert index.model_fields("shop.models.Order") == {"customer": "fk"}
    assert "objects" in index.model_managers("shop.models.Order")
    assert index.class_role("shop.run.Command") == "management-command"
    assert index.is_coroutine_function("shop.run.main")
    assert index.reaches_orm("shop.run.main") and index.reaches_async_orm("shop.run.main")
    assert index.contexts_of("shop.run.main") == {"management-command"}


def test_cache_entry_pickles_facts(tmp_path: Path) -> None:
    from async_guard.audit.speed.cache import Cache, CacheEntry

    cache = Cache(tmp_path, "1", "cfg")
    cache.store("ab" * 8, CacheEntry(facts=None, problem=(1, "x")))
    assert cache.load("ab" * 8) == CacheEntry(facts=None, problem=(1, "x"))
    assert cache.load("cd" * 8) is None
    path = next(tmp_path.rglob("*.pickle"))
    path.write_bytes(pickle.dumps(["not an entry"]))
    assert cache.load("ab" * 8) is None


def test_every_antipattern_example_is_found() -> None:
    """Each runnable anti-pattern names its audit code in its docstring; the audit finds it."""
    import re

    root = Path(__file__).resolve().parents[2]
    examples = sorted((root / "examples" / "antipatterns").glob("[!_]*.py"))
    result = audit_paths(
        [str(p) for p in examples] + [str(root / "trading")], Config(cache=False, jobs=1)
    )
    found = {(Path(f.path).name, f.code) for f in result.findings}
    assert examples
    for example in examples:
        documented = re.findall(r"Audit: (AG\d+)", example.read_text(encoding="utf-8"))
        assert documented, f"{example.name} names no audit code"
        for code in documented:
            assert (example.name, code) in found, f"{code} not found in {example.name}"


@hypothesis.given(
    hypothesis.strategies.text(alphabet=" \t\nd efx#(", max_size=60),
)
def test_count_defs_counts_the_lines_that_start_with_def(text: str) -> None:
    """The skipped files' inventory counts what ``^[ \\t]*def[ \\t]`` would, faster."""
    import re

    from async_guard.audit.speed.words import count_defs

    assert count_defs(text) == len(re.findall(r"^[ \t]*def[ \t]", text, re.M))


def _decode_as_the_interpreter(data: bytes) -> str | None:
    import io
    import tokenize

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (SyntaxError, UnicodeDecodeError, LookupError):
        return None
    return text[1:] if text.startswith("\ufeff") else text


@hypothesis.given(
    hypothesis.strategies.lists(
        hypothesis.strategies.sampled_from(
            [
                b"x = 1",
                b"# -*- coding: latin-1 -*-",
                b"# coding: utf-8",
                b"\xe9",
                b"\xc3\xa9",
                b"\xef\xbb\xbf",
                b"\n",
                b"#",
                b"coding",
                b"  ",
            ]
        ),
        max_size=8,
    ).map(b"".join)
)
def test_decode_source_decodes_as_the_interpreter_does(data: bytes) -> None:
    """The UTF-8 fast path (no BOM, no cookie) agrees with tokenize's detection."""
    from async_guard.audit.analysis.source import SourceProblem, decode_source

    try:
        got: str | None = decode_source(data)
    except SourceProblem:
        got = None
    assert got == _decode_as_the_interpreter(data)
