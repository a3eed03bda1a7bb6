"""Unit tests of async_guard.audit.analysis.orm: what a body does with the ORM, on real parsed
files and a real project index (no engine needed)."""

from __future__ import annotations

import ast
import textwrap

import pytest

from async_guard.audit.analysis import orm
from async_guard.audit.analysis.facts import collect_facts
from async_guard.audit.analysis.index import ProjectIndex
from async_guard.audit.analysis.orm.values import RelationRead, defs_in
from async_guard.audit.analysis.scope import Scope
from async_guard.audit.analysis.source import SourceFile
from async_guard.audit.analysis.walker import Walker
from async_guard.audit.config import Config

MODELS = """\
from django.db import models

from app.managers import OpenManager


class Base(models.Model):
    class Meta:
        abstract = True


class Account(Base):
    owner = models.ForeignKey("auth.User", on_delete=models.CASCADE)


class Position(Base):
    account = models.ForeignKey(Account, on_delete=models.CASCADE)
    hedge = models.OneToOneField("self", null=True, on_delete=models.SET_NULL)
    tags = models.ManyToManyField("Tag")
    symbol = models.CharField(max_length=10)
    open_positions = OpenManager()
"""


def project(source: str, *others: tuple[str, str]) -> tuple[SourceFile, ProjectIndex]:
    sf = SourceFile.from_text(textwrap.dedent(source), "app/code.py")
    files = [sf, *(SourceFile.from_text(textwrap.dedent(t), p) for p, t in others)]
    config = Config()
    return sf, ProjectIndex([collect_facts(f, config) for f in files], config)


def analyze(body: str, name: str = "f") -> orm.OrmFacts:
    """The facts of function ``name`` in ``body`` (models imported from app/models.py)."""
    source = "from app.models import Account, Position\n" + textwrap.dedent(body)
    sf, index = project(source, ("app/models.py", MODELS))
    node = next(
        n
        for n in ast.walk(sf.tree)
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name
    )
    analyzer = orm.OrmAnalyzer(sf, index)
    analyzer.local_defs.update(defs_in(sf.tree.body))
    return analyzer.function(node)


def texts(nodes: object) -> list[str]:
    assert isinstance(nodes, dict)
    return sorted(ast.unparse(n.node if isinstance(n, RelationRead) else n) for n in nodes.values())


def test_the_model_comes_from_the_index_through_an_abstract_project_base() -> None:
    facts = analyze(
        """
        async def f():
            Position.objects.get(pk=1)
            Account._default_manager.count()
            Position.open_positions.first()
        """
    )
    assert texts(facts.evaluations) == [
        "Account._default_manager.count()",
        "Position.objects.get(pk=1)",
        "Position.open_positions.first()",
    ]


def test_objects_of_anything_else_is_not_the_orm() -> None:
    facts = analyze(
        """
        import boto3
        from app.other import Thing

        class Registry:
            objects = {}

        async def f(bucket, model):
            list(boto3.resource("s3").Bucket("b").objects.all())
            for obj in bucket.objects.all():
                pass
            Registry.objects.get("x")
            Thing.objects.get(pk=1)
            model.objects.get(pk=1)
            Position.objects.custom_method()
            Position.nothing.get()
        """
    )
    assert facts.evaluations == {}


def test_evaluations_by_kind() -> None:
    facts = analyze(
        """
        async def f(x):
            q1, q2, q3, q4, q5, q6, q7, q8, q9 = x
            q1 = Position.objects.filter(symbol="A")
            if q1:
                pass
            while page := Position.objects.filter(symbol="B")[:10]:
                break
            y = x or q1
            z = 1 if q1.values("symbol") else 2
            w = Position.objects.filter(symbol="C")[0]
            ok = x not in Position.objects.filter(symbol="D")
            n = sorted(Position.objects.iterator())
            for i, p in enumerate(Position.objects.all()):
                pass
            again = Position.objects.filter(symbol="E")
            len(again)
            s = {p.symbol for p in Position.objects.all()}
            d = {p: 1 for p in Position.objects.all()}
            async for p in Position.objects.all():
                pass
            a = [p async for p in Position.objects.all()]
        """
    )
    got = sorted((n.lineno, ast.unparse(n)) for n in facts.evaluations.values())
    # line 1 is the models import, line 2 the blank line opening the body
    assert got == [
        (6, "q1"),
        (8, "(page := Position.objects.filter(symbol='B')[:10])"),
        (11, "q1.values('symbol')"),
        (12, "Position.objects.filter(symbol='C')[0]"),
        (13, "x not in Position.objects.filter(symbol='D')"),
        (14, "sorted(Position.objects.iterator())"),
        (15, "enumerate(Position.objects.all())"),
        (18, "len(again)"),
        (19, "Position.objects.all()"),
        (20, "Position.objects.all()"),
    ]


def test_a_queryset_evaluated_once_is_read_from_memory_after() -> None:
    facts = analyze(
        """
        async def f(x):
            from asgiref.sync import sync_to_async
            qs = Position.objects.filter(symbol="A")
            rows = [p for p in qs]
            again = (len(qs), bool(qs), qs[0], x in qs, qs.count(), qs.exists(), list(qs))
            fresh = (qs.filter(quantity=1).count(), qs.get(pk=1), qs.all().exists())
            done = Position.objects.filter(symbol="B")
            await sync_to_async(list)(done)
            for p in done:
                pass
            fetched = Position.objects.filter(symbol="C")
            async for p in fetched:
                pass
            return len(fetched)
        """
    )
    got = sorted((n.lineno, ast.unparse(n)) for n in facts.evaluations.values())
    assert got == [
        (6, "qs"),
        (8, "qs.all().exists()"),
        (8, "qs.filter(quantity=1).count()"),
        (8, "qs.get(pk=1)"),
    ]


def test_instances_and_their_methods() -> None:
    facts = analyze(
        """
        from asgiref.sync import sync_to_async

        async def f(pk, given: Position, maybe: "Position | None", opt: "Optional[Account]"):
            a = await Position.objects.aget(pk=pk)
            b = await sync_to_async(Position.objects.get)(pk=pk)
            c = Account(owner_id=1)
            d = a
            a.save()
            b.delete()
            c.refresh_from_db()
            d.save()
            given.save()
            maybe.save()
            Position().save()
            await a.asave()
            a.full_clean()
        """
    )
    assert texts(facts.evaluations) == [
        "Position().save()",
        "a.save()",
        "b.delete()",
        "c.refresh_from_db()",
        "d.save()",
        "given.save()",
        "maybe.save()",
    ]
    assert texts(facts.async_calls) == ["Position.objects.aget(pk=pk)", "a.asave()"]


@pytest.mark.parametrize(
    ("annotation", "model"),
    [
        ("Position", "app.models.Position"),
        ('"Position"', "app.models.Position"),
        ("Position | None", "app.models.Position"),
        ("None | Position", "app.models.Position"),
        ('"Optional[Position]"', "app.models.Position"),
        ("typing.Optional[Account]", "app.models.Account"),
        ("Position | Account", None),
        ("list[Position]", None),
        ('"not valid python ("', None),
        ("int", None),
        ("dict", None),
    ],
)
def test_annotation_model(annotation: str, model: str | None) -> None:
    sf, index = project(
        f"import typing\nfrom typing import Optional\nfrom app.models import Account, Position\n"
        f"x: {annotation}\n",
        ("app/models.py", MODELS),
    )
    assign = sf.tree.body[-1]
    assert isinstance(assign, ast.AnnAssign)
    assert orm.OrmAnalyzer(sf, index).annotation_model(assign.annotation) == model


def test_relation_reads_follow_select_and_prefetch_related() -> None:
    facts = analyze(
        """
        from django.db.models import Prefetch

        async def f(pk, lookup, p: Position):
            a = await Position.objects.aget(pk=pk)
            b = await Position.objects.select_related("account__owner").aget(pk=pk)
            c = await Position.objects.select_related("account").select_related(None).afirst()
            d = await Position.objects.prefetch_related(Prefetch("hedge")).alast()
            e = await Position.objects.select_related(lookup).aearliest("pk")
            g = await Position.objects.values("account").aget(pk=pk)
            h = await Account.objects.select_related().alatest("pk")
            a.account, a.hedge, a.tags, a.symbol, a.account_id
            b.account, b.hedge
            c.account
            d.hedge, d.account
            e.account, e.hedge
            g.account
            h.owner
            p.account
            p.hedge = a
            p.hedge.account
            a.account.owner
        """
    )
    reads = sorted(
        (r.node.lineno, f"{r.name}.{r.relation}", r.parameter)
        for r in facts.relation_reads.values()
    )
    assert reads == [
        (13, "a.account", False),
        (13, "a.hedge", False),
        (14, "b.hedge", False),
        (15, "c.account", False),
        (16, "d.account", False),
        (20, "p.account", True),
        (23, "a.account", False),
    ]


def test_assignments_that_hide_a_binding() -> None:
    facts = analyze(
        """
        import contextlib
        counter = 0

        async def f(pk, items):
            global counter
            counter = Position.objects.all()
            len(counter)
            qs = Position.objects.all()
            qs += items
            len(qs)
            q1 = Position.objects.all()
            q1, other = items
            len(q1)
            q2 = Position.objects.all()
            *q2, = items
            len(q2)
            q3 = Position.objects.all()
            del q3
            len(q3)
            q4 = Position.objects.all()
            with contextlib.suppress() as q4:
                len(q4)
            q5 = Position.objects.all()
            try:
                pass
            except Exception as q5:
                len(q5)
            q6 = Position.objects.all()
            match items:
                case [q6, *rest]:
                    len(q6)
                case {"k": q6, **rest}:
                    len(q6)
            q7 = Position.objects.all()
            def q7():
                pass
            len(q7)
            q8 = Position.objects.all()
            class q8:
                pass
            len(q8)
            q9 = Position.objects.all()
            import q9
            len(q9)
            q10 = Position.objects.all()
            for q10 in items:
                len(q10)
            q11: list = Position.objects.all()
            items[0] = len(q11)
            q12: int
            len(q12)
            if (q13 := Position.objects.none()):
                pass
            """
    )
    got = sorted((n.lineno, ast.unparse(n)) for n in facts.evaluations.values())
    assert got == [(51, "len(q11)"), (54, "(q13 := Position.objects.none())")]


def test_local_queryset_class_name_is_not_the_model() -> None:
    facts = analyze(
        """
        async def f(Position):
            Position.objects.get(pk=1)
        """
    )
    assert facts.evaluations == {}


def test_shadowed_builtins_are_not_consumers() -> None:
    facts = analyze(
        """
        def list(x):
            return x

        async def f(len):
            list(Position.objects.all())
            len(Position.objects.all())
            tuple(Position.objects.all())
        """
    )
    assert texts(facts.evaluations) == ["tuple(Position.objects.all())"]


def test_wraps_and_thread_sensitivity() -> None:
    facts = analyze(
        """
        from asgiref.sync import sync_to_async

        def load():
            return Position.objects.count()

        def outer():
            return load()

        async def f(p: Position, fn):
            sync_to_async(Position.objects.get(pk=1))
            sync_to_async(p.save())
            sync_to_async(Position.objects.filter(pk=1))
            sync_to_async(Position.objects.get, thread_sensitive=False)
            sync_to_async(Position.objects.filter, thread_sensitive=False)
            sync_to_async(p.save, thread_sensitive=False)
            sync_to_async(p.clean, thread_sensitive=False)
            sync_to_async(load, thread_sensitive=False)
            sync_to_async(outer, thread_sensitive=False)
            sync_to_async(fn, thread_sensitive=False)
            sync_to_async(lambda: p.save(), thread_sensitive=False)
            sync_to_async(lambda: 1, thread_sensitive=False)
            sync_to_async(list, thread_sensitive=False)(Position.objects.all())
            sync_to_async(list, thread_sensitive=False)([1])
            sync_to_async(fn, thread_sensitive=False)(Position.objects.all())
            sync_to_async(load, thread_sensitive=True)
            sync_to_async(thread_sensitive=False)
            sync_to_async(Position.objects.get, thread_sensitive=0)
        """
    )
    assert texts(facts.wrapped_evaluations) == [
        "sync_to_async(Position.objects.get(pk=1))",
        "sync_to_async(p.save())",
    ]
    assert sorted(n.lineno for n in facts.thread_insensitive.values()) == [15, 17, 19, 22, 24]


def test_decorated_thread_insensitive_def() -> None:
    facts = analyze(
        """
        from asgiref.sync import sync_to_async

        def f():
            @sync_to_async(thread_sensitive=False)
            def load():
                return Position.objects.first()

            @sync_to_async(thread_sensitive=False)
            def compute():
                return 1

            @sync_to_async
            def plain():
                return Position.objects.first()
        """
    )
    assert sorted(n.lineno for n in facts.thread_insensitive.values()) == [6]


def test_does_orm_work_stops_after_two_levels_of_helpers() -> None:
    sf, index = project("x = 1\n", ("app/models.py", MODELS))
    analyzer = orm.OrmAnalyzer(sf, index, depth=2)
    assert analyzer.does_orm_work(ast.parse("lambda: Position.objects.get()").body[0]) is False
    assert analyzer.does_orm_work(ast.Name("x")) is False


def test_body_facts_are_analyzed_once_per_walk_and_lambdas_are_sync() -> None:
    source = "from app.models import Position\n\nasync def f():\n    Position.objects.get()\n"
    sf, index = project(source, ("app/models.py", MODELS))
    func = sf.tree.body[1]
    module = Scope("module", sf.tree, "")
    scope = Scope("function", func, "app.code.f", is_async=True, parent=module)
    memo: dict[object, object] = {}
    first = orm.body_facts(sf, index, scope, memo)
    assert orm.body_facts(sf, index, scope, memo) is first
    assert len(first.evaluations) == 1
    assert orm.body_facts(sf, index, module, memo).evaluations == {}
    lam = ast.parse("lambda: Position.objects.get()").body[0]
    assert isinstance(lam, ast.Expr)
    lam_scope = Scope("function", lam.value, "app.code.<lambda>", parent=module)
    assert orm.body_facts(sf, index, lam_scope, memo).evaluations == {}


def test_the_memo_lives_and_dies_with_its_walk() -> None:
    """No analysis outlives its walk: nothing grows across the files of a run."""
    sf, index = project("x = 1\n", ("app/models.py", MODELS))
    walker = Walker(sf, [], index)
    trees = [ast.parse("def f(): pass") for _ in range(5)]  # alive: their ids are the keys
    for tree in trees:
        orm.body_facts(sf, index, Scope("function", tree.body[0], "f", parent=None), walker.memo)
    assert len(walker.memo) >= 5
    walker.close()
    assert walker.memo == {}


def test_fetched_lists_keep_their_instances_relations() -> None:
    facts = analyze(
        """
        from asgiref.sync import sync_to_async

        async def f(fetch):
            a = await sync_to_async(tuple)(Position.objects.select_related("hedge"))
            b = await sync_to_async(sorted)(Position.objects.all())
            c = await fetch(Position.objects.all())
            d = [p async for p in Position.objects.all() if p]
            e = [p.pk async for p in Position.objects.all()]
            g = [p for p in a]
            for p in a:
                p.hedge, p.account
            for p in b:
                p.account
            for p in c:
                p.account
            for p in d:
                p.account
            for p in e:
                p.account
            for p in g:
                p.account
        """
    )
    reads = sorted((r.node.lineno, f"{r.name}.{r.relation}") for r in facts.relation_reads.values())
    assert reads == [(13, "p.account"), (19, "p.account")]
    assert facts.evaluations == {}
