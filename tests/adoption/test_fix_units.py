"""Each fixer's refusals and corner cases, with findings placed by hand on the text.

The fixture test (test_fix_files.py) runs the real audit; here the finding is put
exactly where a rule would put it, to reach cases the fixtures do not hold.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Iterator
from importlib import metadata

import libcst as cst
import pytest

from async_guard.audit.finding import Finding
from async_guard.fix import FIXABLE_CODES, FixResult, fix_source
from async_guard.fix.base import Edit, FixContext, Fixer
from async_guard.fix.fixers import ag201_async_orm


def at(source: str, code: str, needle: str, occurrence: int = 0) -> Finding:
    """A finding of ``code`` at the ``occurrence``-th place ``needle`` starts in ``source``."""
    offset = -1
    for _ in range(occurrence + 1):
        offset = source.index(needle, offset + 1)
    line = source.count("\n", 0, offset) + 1
    col = offset - (source.rfind("\n", 0, offset) + 1) + 1
    text = source.splitlines()[line - 1]
    return Finding(
        "x.py",
        line,
        col,
        code,
        line,
        col + len(needle),
        name="n",
        severity="error",
        message="m",
        source_line=text.strip(),
    )


def fix(source: str, code: str, needle: str, occurrence: int = 0) -> FixResult:
    source = textwrap.dedent(source)
    result = fix_source(source, [at(source, code, needle, occurrence)])
    ast.parse(result.source)
    return result


def skipped(source: str, code: str, needle: str, occurrence: int = 0) -> str:
    result = fix(source, code, needle, occurrence)
    assert not result.applied and result.source == textwrap.dedent(source)
    ((_, reason),) = result.skipped
    return reason


def test_fixable_codes() -> None:
    assert FIXABLE_CODES == {"AG101", "AG102", "AG201", "AG203", "AG303"}


def test_other_codes_are_ignored_and_nothing_is_parsed() -> None:
    finding = at("x = (\n", "AG202", "x")
    assert fix_source("x = (\n", [finding]) == FixResult("x = (\n")


def test_a_file_that_does_not_parse_is_left_alone_with_the_reason() -> None:
    source = "import asyncio\nasyncio.run(f())\nx = (\n"
    result = fix_source(source, [at(source, "AG101", "asyncio.run")])
    assert result.source == source
    assert "does not parse" in result.skipped[0][1]


def test_a_stale_finding_says_it_cannot_locate_the_code() -> None:
    source = "import asyncio\n\n\nx = 1\n"
    finding = at("import asyncio\nasyncio.run(f())\n", "AG101", "asyncio.run")
    assert "cannot locate" in fix_source(source, [finding]).skipped[0][1]
    beyond = Finding(**{**finding.__dict__, "line": 40, "end_line": 40})
    assert "cannot locate" in fix_source(source, [beyond]).skipped[0][1]


def test_a_fixer_class_without_a_code_is_not_registered() -> None:
    class Helper(Fixer):
        pass

    assert Helper not in {type(fixer) for fixer in Fixer.registry.values()}


def test_a_fix_inside_another_fixes_locked_code_waits() -> None:
    source = textwrap.dedent(
        """\
        from asgiref.sync import sync_to_async

        async def view():
            return await sync_to_async(build(Model.objects.count()))
        """
    )
    findings = [at(source, "AG203", "sync_to_async(build"), at(source, "AG201", "Model")]
    result = fix_source(source, findings)
    assert "await sync_to_async(build)(Model.objects.count())" in result.source
    ((finding, reason),) = result.skipped
    assert finding.code == "AG201" and "overlaps the AG203 fix at line 4" in reason


def test_a_byte_order_mark_is_kept() -> None:
    source = "\ufeffimport asyncio\n\ndef task(pr):\n    return asyncio.run(fetch(pr))\n"
    finding = at(source.lstrip("\ufeff"), "AG101", "asyncio.run")
    fixed = fix_source(source, [finding]).source
    assert fixed.startswith("\ufefffrom asgiref.sync import async_to_sync\n")
    assert fix_source(source, [at("x = (\n", "AG101", "x")]).source == source


# --- AG101 ----------------------------------------------------------------------------

RUN = """\
import asyncio

def task(pr):
    return asyncio.run(fetch(pr))
"""


def test_ag101_keeps_asyncio_when_still_used() -> None:
    result = fix(RUN + "\nloop = asyncio.new_event_loop()\n", "AG101", "asyncio.run")
    assert "import asyncio\n" in result.source
    assert "async_to_sync(fetch)(pr)" in result.source


def test_ag101_aliased_module_import_removed() -> None:
    result = fix(
        "import asyncio as aio\n\ndef task(pr):\n    return aio.run(fetch(pr))\n",
        "AG101",
        "aio.run",
    )
    assert "aio" not in result.source.replace("async_to_sync", "")


def test_ag101_does_not_add_the_import_twice() -> None:
    source = "from asgiref.sync import async_to_sync\n" + textwrap.dedent(RUN)
    result = fix_source(source, [at(source, "AG101", "asyncio.run")])
    assert result.source.count("import async_to_sync") == 1
    assert "import asyncio" not in result.source


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        ("asyncio.run(fetch(pr), debug=True)", "more than the coroutine"),
        ("asyncio.run(lambda: fetch(pr))", "not a call"),
        ("asyncio.run(coro)", "not a call"),
        ("asyncio.run(  # why\n        fetch(pr))", "comment"),
        ("asyncio.get_event_loop().run_until_complete(fetch(pr))", "run_until_complete"),
    ],
)
def test_ag101_refusals(call: str, reason: str) -> None:
    source = f"import asyncio\n\ndef task(pr):\n    return {call}\n"
    needle = "asyncio.get" if "run_until" in call else "asyncio.run"
    assert reason in skipped(source, "AG101", needle)


def test_ag101_refuses_when_async_to_sync_means_something_else() -> None:
    source = "import asyncio\nasync_to_sync = print\n" + textwrap.dedent(RUN)
    assert "bound to something else" in skipped(source, "AG101", "asyncio.run")


# --- AG102 ----------------------------------------------------------------------------

LOOP = """\
import asyncio

def work():
    loop = asyncio.new_event_loop()
    {use}
"""


@pytest.mark.parametrize(
    ("use", "reason"),
    [
        ("return loop", "escapes"),
        ("other = loop", "escapes"),
        ("loop.close()", "nothing runs"),
        ("run = lambda: loop.run_until_complete(f())", "nested"),
    ],
)
def test_ag102_refusals(use: str, reason: str) -> None:
    assert reason in skipped(LOOP.format(use=use), "AG102", "asyncio.new_event_loop")


def test_ag102_refuses_a_loop_used_before_or_beside_its_block() -> None:
    source = """\
    import asyncio

    def work(flag):
        if flag:
            loop = asyncio.new_event_loop()
            loop.run_until_complete(f())
        loop.close()
    """
    assert "outside" in skipped(source, "AG102", "asyncio.new_event_loop")


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("import asyncio\nloop = asyncio.new_event_loop()\nloop.run_forever()\n", "module"),
        ("import asyncio\ndef f():\n    run(asyncio.new_event_loop())\n", "plain name"),
        (
            "import asyncio\ndef f():\n    global loop\n    loop = asyncio.new_event_loop()\n"
            "    loop.run_forever()\n",
            "global",
        ),
        (
            "import asyncio\nclass C:\n    loop = asyncio.new_event_loop()\n",
            "not created inside a function",
        ),
    ],
)
def test_ag102_refuses_unclear_lifetimes(source: str, reason: str) -> None:
    assert reason in skipped(source, "AG102", "asyncio.new_event_loop")


def test_ag102_two_loops_in_one_body_nest() -> None:
    source = textwrap.dedent(
        """\
        import asyncio

        def work():
            first = asyncio.new_event_loop()
            first.run_until_complete(f())
            second = asyncio.new_event_loop()
            second.run_until_complete(g(x=first.time()))
        """
    )
    findings = [
        at(source, "AG102", "asyncio.new_event_loop", 0),
        at(source, "AG102", "asyncio.new_event_loop", 1),
    ]
    result = fix_source(source, findings)
    assert len(result.applied) == 2
    assert result.source.count("finally:") == 2
    assert result.source.index("second.close()") < result.source.index("first.close()")
    again = fix_source(result.source, findings)
    assert again.source == result.source and not again.applied


# --- AG201 ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "fixed"),
    [
        ("x = Model.objects.get(pk=1)[0]", "x = (await Model.objects.aget(pk=1))[0]"),
        ("x = Model.objects.get(pk=1)()", "x = (await Model.objects.aget(pk=1))()"),
        ("x = (Model.objects.count())", "x = (await Model.objects.acount())"),
        ("x = -Model.objects.count()", "x = -await Model.objects.acount()"),
        ("obj.refresh_from_db()", "await obj.arefresh_from_db()"),
    ],
)
def test_ag201_await_placement(code: str, fixed: str) -> None:
    source = f"async def view(obj):\n    {code}\n"
    needle = code.split("= ")[-1].lstrip("(-")
    assert fix(source, "AG201", needle).source == f"async def view(obj):\n    {fixed}\n"


@pytest.mark.parametrize(
    ("body", "needle", "reason"),
    [
        ("return sum(Model.objects.count() for _ in x)", "Model.objects.count", "generator"),
        ("f = lambda: Model.objects.count()", "Model.objects.count", "lambda"),
        ("def inner():\n        return Model.objects.count()", "Model.objects.count", "directly"),
        ("return len(Model.objects.values_list())", "Model.objects.values_list", "drop-in"),
        ("return Model.objects.aget(pk=1)", "Model.objects.aget", "already the async API"),
    ],
)
def test_ag201_refusals(body: str, needle: str, reason: str) -> None:
    source = f"async def view(x):\n    {body}\n"
    assert reason in skipped(source, "AG201", needle)


def test_ag201_outside_any_function_is_refused() -> None:
    assert "not inside" in skipped("x = Model.objects.count()\n", "AG201", "Model.objects")


def test_ag201_asave_needs_django_42(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ag201_async_orm, "django_version", lambda: (4, 1))
    assert "4.2" in skipped("async def v(obj):\n    obj.save()\n", "AG201", "obj.save")


def test_django_version_is_read_from_the_installed_distribution(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import django

    assert ag201_async_orm.django_version() == django.VERSION[:2]

    def missing(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    assert ag201_async_orm.django_version() == (0, 0)


def test_ag201_an_awaited_call_is_left_alone() -> None:
    source = "async def v():\n    return await Model.objects.get(pk=1)\n"
    assert "already awaited" in skipped(source, "AG201", "Model.objects")


# --- AG203 ----------------------------------------------------------------------------

WRAP = "from asgiref.sync import sync_to_async\n\nasync def view():\n    return {expr}\n"


@pytest.mark.parametrize(
    ("expr", "reason"),
    [
        ("await sync_to_async(get_manager().get(pk=1))", "may query"),
        ("await sync_to_async(Model.objects.get(pk=1))(2)", "arguments of its own"),
        ("sync_to_async(Model.objects.get(pk=1))", "neither awaited nor called"),
        ("await sync_to_async(obj)", "not a call"),
        ("await sync_to_async(*args)", "exactly one"),
        ("await sync_to_async(Model.objects.get(pk=1))(  # hm\n    )", "comment"),
    ],
)
def test_ag203_refusals(expr: str, reason: str) -> None:
    assert reason in skipped(WRAP.format(expr=expr), "AG203", "sync_to_async(")


def test_ag203_get_user_model_does_not_query() -> None:
    source = "from django.contrib.auth import get_user_model\n" + WRAP.format(
        expr="await sync_to_async(get_user_model().objects.get(username=u))()"
    )
    fixed = fix(source, "AG203", "sync_to_async(").source
    assert "await sync_to_async(get_user_model().objects.get)(username=u)" in fixed


def test_ag203_found_from_the_inner_call_too() -> None:
    source = WRAP.format(expr="await sync_to_async(list)(Model.objects.filter(a=1).all())")
    assert "not a call" in skipped(source, "AG203", "Model.objects")
    source = WRAP.format(expr="await sync_to_async(Model.objects.filter(a=1).get(pk=1))")
    assert (
        "sync_to_async(Model.objects.filter(a=1).get)(pk=1)"
        in fix(source, "AG203", "Model.objects").source
    )


# --- AG303 ----------------------------------------------------------------------------

HANDLE = """\
class Command(BaseCommand):
    {decorator}
    async def handle({params}):
        return 1
{extra}"""


def test_ag303_forwards_every_kind_of_parameter() -> None:
    source = HANDLE.format(decorator="", params="self, a, /, b, *rest, c, d=1, **kw", extra="")
    result = fix(source, "AG303", "async def")
    assert "return async_to_sync(self._handle_async)(a, b, *rest, c=c, d=d, **kw)" in result.source
    assert "from asgiref.sync import async_to_sync" in result.source


@pytest.mark.parametrize(
    ("decorator", "params", "extra", "reason"),
    [
        ("@staticmethod", "*args", "", "static or class"),
        ("", "", "", "no self"),
        ("", "self", "    def _handle_async(self):\n        pass\n", "already defines"),
    ],
)
def test_ag303_refusals(decorator: str, params: str, extra: str, reason: str) -> None:
    source = HANDLE.format(decorator=decorator, params=params, extra=extra)
    assert reason in skipped(source, "AG303", "async def")


def test_ag303_refuses_a_function_outside_a_class() -> None:
    assert "not a method" in skipped("async def handle(x):\n    pass\n", "AG303", "async def")


# --- the safety net -------------------------------------------------------------------


@pytest.fixture
def broken_fixer() -> Iterator[None]:
    """A deliberately wrong fixer: bad output for ``x``, a crash for ``y`` and ``z``."""

    class _Broken(Fixer):
        code = "AGT99"

        def plan(self, finding: Finding, ctx: FixContext) -> list[Edit]:
            node = ctx.locate(finding, cst.Name)
            if node.value == "z":
                raise KeyError("planning crashed")
            if node.value == "y":
                return [Edit(node, crash)]
            return [Edit(node, lambda _: cst.Name("yield"))]

    def crash(node: cst.CSTNode) -> cst.CSTNode:
        raise RuntimeError("rewrite crashed")

    yield
    del Fixer.registry["AGT99"]


@pytest.mark.usefixtures("broken_fixer")
@pytest.mark.parametrize(("name", "reason"), [("x", "would not parse"), ("y", "crashed")])
def test_a_broken_fix_changes_nothing(name: str, reason: str) -> None:
    source = "x = y = 1\n"
    result = fix_source(source, [at(source, "AGT99", name)])
    assert result.source == source and not result.applied
    assert "internal error" in result.skipped[0][1] and reason in result.skipped[0][1]


@pytest.mark.usefixtures("broken_fixer")
def test_a_fixer_crashing_while_planning_leaves_the_other_fixes() -> None:
    source = "async def v():\n    return Model.objects.count()\nz = 1\n"
    result = fix_source(source, [at(source, "AG201", "Model"), at(source, "AGT99", "z =")])
    assert "await" in result.source
    assert "planning crashed" in result.skipped[0][1]


def test_one_node_reported_twice_is_fixed_once() -> None:
    source = "async def v():\n    return Model.objects.count()\n"
    first = at(source, "AG201", "Model.objects")
    second = Finding(**{**first.__dict__, "end_col": first.end_col + 1})
    result = fix_source(source, [first, second])
    assert len(result.applied) == 2
    assert result.source.count("await") == 1


@pytest.mark.parametrize(
    ("args", "fixed_args"),
    [
        # Continuation lines and comment lines move out with the call.
        (
            "\n            a,\n            # why\n            b,\n        ",
            "\n        a,\n        # why\n        b,\n    ",
        ),
        # Hand alignment that cannot move out by a whole level stays as it was.
        ("\n  a,\n        ", "\n  a,\n        "),
    ],
)
def test_ag101_multi_line_call_moves_out_a_level(args: str, fixed_args: str) -> None:
    call = f"asyncio.run(\n        fetch({args})\n    )"
    source = f"import asyncio\n\ndef task(a, b):\n    return {call}\n"
    result = fix(source, "AG101", "asyncio.run")
    assert result.source == (
        "from asgiref.sync import async_to_sync\n\n"
        f"def task(a, b):\n    return async_to_sync(fetch)({fixed_args})\n"
    )


@pytest.mark.parametrize(
    ("between", "kept"),
    [("\n", ""), ("\n# keep me\n", "    # keep me\n"), ("", "")],
)
def test_ag101_removing_a_local_import_leaves_no_blank_opening(between: str, kept: str) -> None:
    body = "    import asyncio\n" + between.replace("#", "    #") + "    return asyncio.run(f(x))\n"
    result = fix(f"def task(x):\n{body}", "AG101", "asyncio.run")
    assert result.source == (
        "from asgiref.sync import async_to_sync\n\n"
        f"def task(x):\n{kept}    return async_to_sync(f)(x)\n"
    )


@pytest.mark.parametrize("callee", ["factory()", "handlers[0]"])
def test_ag203_a_callee_that_is_not_a_dotted_name_is_refused(callee: str) -> None:
    source = WRAP.format(expr=f"await sync_to_async({callee}(x))")
    assert "may query" in skipped(source, "AG203", "sync_to_async(")
