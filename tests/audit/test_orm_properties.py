"""Properties of the ORM rules over generated function bodies made of ORM vocabulary.

* nothing crashes;
* sync code never gets AG201/AG202 (only code on the event loop can block it);
* the same code with a plain class instead of a Django model gets no AG2xx finding
  at all (``objects`` of anything but a model is not the ORM);
* a line inside a nested sync ``def`` never gets AG201/AG202 (it runs where it is called).
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from async_guard.audit.config import Config
from async_guard.audit.walk import audit_source

MODEL = """\
from asgiref.sync import sync_to_async
from django.db import models


class M(models.Model):
    account = models.ForeignKey("Account", on_delete=models.CASCADE)
    tags = models.ManyToManyField("Tag")
"""

NOT_A_MODEL = """\
from asgiref.sync import sync_to_async


class Registry(dict):
    pass


class M:
    objects = Registry()
    account = None
    tags = Registry()
"""

EXPRESSIONS = [
    "M.objects.get(pk=1)",
    "M.objects.filter(a=1)",
    "M.objects.filter(a=1).first()",
    "M.objects.select_related('account')",
    "M.objects.all()[:3]",
    "M.objects.count()",
    "list(M.objects.all())",
    "len(qs)",
    "qs[0]",
    "qs",
    "p.account",
    "p.save()",
    "p.tags.add(1)",
    "x in qs",
    "bool(qs)",
    "[i for i in qs]",
    "sync_to_async(M.objects.get(pk=1))",
    "sync_to_async(p.save, thread_sensitive=False)",
    "sync_to_async(list)(qs)",
    "await M.objects.aget(pk=1)",
    "await M.objects.select_related('account').afirst()",
    "await sync_to_async(M.objects.get)(pk=1)",
    "M(account_id=1)",
]

STATEMENTS = [
    "qs = {e}",
    "p = {e}",
    "{e}",
    "for p in {e}:\n    pass",
    "if {e}:\n    pass",
    "x = {e}",
    "p.account = {e}",
    "def inner():\n    return {e}",
    "async for p in {e}:\n    pass",
]

body = st.lists(
    st.tuples(st.sampled_from(STATEMENTS), st.sampled_from(EXPRESSIONS)), min_size=1, max_size=8
)


def render(statements: list[tuple[str, str]], *, is_async: bool) -> tuple[str, set[int]]:
    """The function's source and the line numbers inside nested sync defs."""
    lines = [f"{'async ' if is_async else ''}def f(p: M, x):"]
    nested: set[int] = set()
    for template, expr in statements:
        if not is_async and ("await" in expr or template.startswith("async")):
            continue
        if template.startswith("def inner") and "await" in expr:
            continue
        for i, line in enumerate(template.format(e=expr).splitlines()):
            lines.append("    " + line)
            if template.startswith("def inner") and i > 0:
                nested.add(len(lines))
    lines.append("    return None")
    return "\n".join(lines) + "\n", nested


def audit(header: str, function: str) -> list[tuple[int, str]]:
    findings = audit_source(header + "\n\n" + function, "app/services.py", config=Config())
    offset = (header + "\n\n").count("\n")
    return [(f.line - offset, f.code) for f in findings if f.code.startswith("AG2")]


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


@SETTINGS
@given(body)
def test_sync_code_never_blocks_the_loop(statements: list[tuple[str, str]]) -> None:
    function, _ = render(statements, is_async=False)
    assert not [f for f in audit(MODEL, function) if f[1] in ("AG201", "AG202")]


@SETTINGS
@given(body, st.booleans())
def test_objects_of_a_plain_class_is_not_the_orm(
    statements: list[tuple[str, str]], is_async: bool
) -> None:
    function, _ = render(statements, is_async=is_async)
    assert audit(NOT_A_MODEL, function) == []


@SETTINGS
@given(body)
def test_nested_sync_defs_are_not_on_the_loop(statements: list[tuple[str, str]]) -> None:
    function, nested = render(statements, is_async=True)
    findings = audit(MODEL, function)
    assert not [f for f in findings if f[0] in nested and f[1] in ("AG201", "AG202")]


def test_the_generator_reaches_the_rules() -> None:
    """Not vacuous: the vocabulary does produce findings in async code."""
    function, _ = render(
        [("{e}", "M.objects.count()"), ("x = {e}", "p.account"), ("{e}", "p.save()")],
        is_async=True,
    )
    assert sorted(audit(MODEL, function)) == [(2, "AG201"), (3, "AG202"), (4, "AG201")]
