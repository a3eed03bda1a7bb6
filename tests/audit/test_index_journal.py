"""The index's journal and its misses: what lets the run read other files on demand.

A walk records every question it asks the index (``journal``); the run replays the
journals on the index of every file read so far and reads the unread modules an
answer passed through (``missing``). These tests pin both halves, then the run's
use of them: a fact two files away from any trigger is still found, and the cache
keeps a file's findings while its answers stand.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

from async_guard.audit.analysis.facts import FileFacts, collect_facts
from async_guard.audit.analysis.index import ProjectIndex
from async_guard.audit.analysis.source import SourceFile
from async_guard.audit.config import Config
from async_guard.audit.runner import audit_paths
from async_guard.audit.speed.journal import JournaledQuestions, Undefined, demanded, replay
from tests.audit.conftest import write_tree


class Asked:
    """The index as the speed layer asks it: its answers, and the modules they demand
    (``missing``) given the text test ``undefined``."""

    def __init__(
        self,
        facts: Iterable[FileFacts],
        unread: Collection[str] = (),
        aliased: Collection[str] | None = None,
    ) -> None:
        self.index = ProjectIndex(facts, unread=unread)
        self.questions = JournaledQuestions(self.index, aliased)
        self.undefined: Undefined | None = None

    def __getattr__(self, question: str) -> Any:
        return getattr(self.questions, question)

    @property
    def misses(self) -> set[tuple[str, str, str]]:
        return self.questions.misses

    @property
    def missing(self) -> set[str]:
        return demanded(self.questions.misses, self.undefined)


def facts(path: str, text: str) -> FileFacts:
    return collect_facts(SourceFile.from_text(textwrap.dedent(text), path))


VIEWS = facts(
    "shop/views.py",
    """\
    from shop.models import Order
    from shop.client import Client


    async def show(pk):
        return Order.objects.get(pk=pk)
    """,
)
MODELS = facts(
    "shop/models.py",
    """\
    from shop.base import Base


    class Order(Base):
        pass
    """,
)
BASE = facts(
    "shop/base.py",
    """\
    from django.db import models


    class Base(models.Model):
        pass


    class Client:
        def fetch(self):
            pass
    """,
)


def test_an_answer_through_an_unread_module_names_it() -> None:
    index = Asked([VIEWS], unread={"shop.models", "shop.base"})
    assert not index.is_model("shop.models.Order")
    assert index.missing == {"shop.models"}
    # once that module is read, the answer leads on to the next one
    index = Asked([VIEWS, MODELS], unread={"shop.base"})
    assert not index.is_model("shop.models.Order")
    assert index.missing == {"shop.base"}
    index = Asked([VIEWS, MODELS, BASE])
    assert index.is_model("shop.models.Order")
    assert index.missing == set()


def test_modules_outside_the_tree_are_no_miss() -> None:
    index = Asked([VIEWS], unread={"shop.models"})
    assert not index.is_model("django.contrib.auth.models.User")
    assert index.missing == set()


def test_a_coroutine_question_reads_a_module_only_for_its_imports_or_a_matching_class() -> None:
    from async_guard.audit.speed.words import may_define

    text = "def fetch():\n    pass\n\n\nclass Client(Base):\n    pass\n"
    index = Asked([VIEWS], unread={"shop.client"})
    index.undefined = lambda module, name, classes: not may_define(text, name, classes=classes)
    # an unread module holds no ``async def``, and this one re-exports nothing
    assert not index.is_coroutine_function("shop.client.fetch")
    assert index.missing == set()
    # no async def of the tree is called ``fetch``: no base can lend one to Client
    assert not index.is_coroutine_function("shop.client.Client.fetch")
    assert index.missing == set()
    # one is: a method may be inherited from a class of a file that has been read
    remote = facts("shop/remote.py", "class Remote:\n    async def fetch(self):\n        pass\n")
    index = Asked([VIEWS, remote], unread={"shop.client"})
    index.undefined = lambda module, name, classes: not may_define(text, name, classes=classes)
    assert not index.is_coroutine_function("shop.client.Client.fetch")
    assert index.missing == {"shop.client"}
    # a re-export counts whatever the name
    text = "from shop.remote import Remote as Client\n"
    index = Asked([VIEWS], unread={"shop.client"})
    index.undefined = lambda module, name, classes: not may_define(text, name, classes=classes)
    assert not index.is_coroutine_function("shop.client.Client.get")
    assert index.missing == {"shop.client"}


def test_a_coroutine_question_about_a_name_nothing_renames_to_makes_no_demand() -> None:
    """Reading a module keeps a name's last part but for an ``as``: when no async def of
    the tree is called ``reverse`` and no file renames anything to ``reverse``, no
    unread module can make ``shop.urls.reverse`` a coroutine function."""
    from async_guard.audit.speed.words import may_define

    text = "from shop.base import reverse\n"  # a re-export, which the text test sees
    index = Asked([VIEWS], unread={"shop.urls"}, aliased={"fetch_async"})
    index.undefined = lambda module, name, classes: not may_define(text, name, classes=classes)
    assert not index.is_coroutine_function("shop.urls.reverse")
    assert index.missing == set() and index.misses == set()
    # some file says ``... as reverse``: the re-export may rename an async def
    index = Asked([VIEWS], unread={"shop.urls"}, aliased={"reverse"})
    index.undefined = lambda module, name, classes: not may_define(text, name, classes=classes)
    assert not index.is_coroutine_function("shop.urls.reverse")
    assert index.missing == {"shop.urls"}
    # an async def is called ``show``: a question about ``show`` reads the module too
    index = Asked([VIEWS], unread={"shop.urls"}, aliased=())
    index.undefined = lambda module, name, classes: False
    assert not index.is_coroutine_function("shop.urls.show")
    assert index.missing == {"shop.urls"}


def test_alias_names_are_read_after_as_across_lines() -> None:
    from async_guard.audit.speed.words import alias_names as _alias_names

    text = b"from x import (\n    a as b,\n)\nimport y as \\\n    z\nwith f() as g:\n    pass\n"
    assert {"b", "z", "g"} <= _alias_names(text)
    assert "a" not in _alias_names(text)


def test_the_call_graph_makes_no_demand() -> None:
    entry = facts(
        "shop/tasks.py",
        """\
        from celery import shared_task
        from shop.helpers import helper


        @shared_task
        def job():
            helper()
        """,
    )
    index = Asked([entry], unread={"shop.helpers"})
    assert index.contexts_of("shop.tasks.job") == {"celery-task"}
    assert index.missing == set()


def test_replay_tells_whether_the_answers_stand() -> None:
    asked = JournaledQuestions(ProjectIndex([VIEWS, MODELS], unread={"shop.base"}))
    asked.is_model("shop.models.Order")
    asked.model_managers("shop.models.Order")
    journal = asked.journal
    assert journal[("is_model", "shop.models.Order")] is False
    assert replay(ProjectIndex([VIEWS, MODELS], unread={"shop.base"}), journal, None)[0]
    later = ProjectIndex([VIEWS, MODELS, BASE])
    assert not replay(later, journal, None)[0]  # Order turned out to be a model


def test_a_fact_two_files_from_any_trigger_is_found(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "shop/__init__.py": "",
            "shop/views.py": """\
                from shop.models import Order


                async def show(pk):
                    return Order.objects.get(pk=pk)
                """,
            "shop/models.py": "from shop.base import Base\n\n\nclass Order(Base):\n    pass\n",
            "shop/base.py": "from django.db import models\n\n\n"
            "class Base(models.Model):\n    class Meta:\n        abstract = True\n",
            "shop/unrelated.py": "def tax(x):\n    return x * 2\n",
        },
    )
    result = audit_paths([str(root)], Config(cache=False))
    assert [(Path(f.path).name, f.code) for f in result.findings] == [("views.py", "AG201")]
    # unrelated.py: nothing leads there; shop/__init__.py: shop.models is a module of
    # its own, so no name is looked up in the package
    assert result.stats.skipped == 2


def test_cached_findings_stand_while_their_answers_do(tmp_path: Path) -> None:
    root, cache = tmp_path / "tree", tmp_path / "cache"
    files = {
        "views.py": "from models import Order\n\n\nasync def show(pk):\n"
        "    return Order.objects.get(pk=pk)\n",
        "models.py": "from django.db import models\n\n\nclass Order(models.Model):\n    pass\n",
    }
    write_tree(root, files)
    config = Config(cache=True, cache_dir=str(cache), jobs=1)
    first = audit_paths([str(root)], config)
    assert [f.code for f in first.findings] == ["AG201"]
    # another model changes the index, but no answer views.py's walk was given
    other = "\n\nclass Other(models.Model):\n    pass\n"
    write_tree(root, {"models.py": files["models.py"] + other})
    second = audit_paths([str(root)], config)
    assert second.findings == first.findings
    assert second.stats.parsed == 1, "only models.py is parsed again; views.py is not re-walked"
    # Order stops being a model: the answer changed, so views.py is walked again
    write_tree(root, {"models.py": "class Order:\n    pass\n"})
    assert audit_paths([str(root)], config).findings == []


def test_a_warm_run_reads_no_file_until_one_is_touched(tmp_path: Path, monkeypatch) -> None:
    from async_guard.audit.speed.pool import worker as engine

    root, cache = tmp_path / "tree", tmp_path / "cache"
    write_tree(root, {"views.py": "async def show():\n    return Order.objects.get(pk=1)\n"})
    config = Config(cache=True, cache_dir=str(cache), jobs=1)
    first = audit_paths([str(root)], config)
    reads: list[str] = []
    real_read = engine.read_file

    def counting_read(path: str) -> bytes:
        reads.append(os.fspath(path))
        return real_read(path)

    monkeypatch.setattr(engine, "read_file", counting_read)
    assert audit_paths([str(root)], config).findings == first.findings
    assert reads == [], "nothing was touched: the stat of each file is enough"
    # touched but not changed: read (the content decides), then known by its stat again
    os.utime(root / "views.py", ns=(1, 1))
    assert audit_paths([str(root)], config).findings == first.findings
    assert reads == [str(root / "views.py")]
    assert audit_paths([str(root)], config).findings == first.findings
    assert reads == [str(root / "views.py")]


def test_a_module_that_names_no_such_class_is_no_demand_for_a_type_question() -> None:
    index = Asked([VIEWS], unread={"shop.signals"})
    index.undefined = lambda module, name, classes: True  # the text defines no such class
    assert not index.is_model("shop.signals.order_placed")
    assert not index.is_coroutine_function("shop.signals.order_placed.send")
    assert index.missing == set()
    # what a function reaches through its calls still needs the module's facts
    assert not index.reaches_orm("shop.signals.notify")
    assert index.missing == {"shop.signals"}


def test_may_define_finds_classes_and_imports_only() -> None:
    from async_guard.audit.speed.words import may_define

    assert may_define("class Order(Base):\n    pass\n", "Order")
    assert not may_define("class Order(Base):\n    pass\n", "Order", classes=False)
    assert may_define("from .order import Order\n", "Order", classes=False)
    assert may_define("from .order import (\n    Line,\n    Order,\n)\n", "Order")
    assert may_define("from .order import Line as Order\n", "Order")
    assert not may_define("order_placed = Signal()\n", "order_placed")
    assert not may_define("x = Order\nimport os\n", "Order")  # used before any import
    assert not may_define("class Orders:\n    pass\n", "Order")


def test_the_index_a_worker_gets_carries_facts_not_the_engines_state() -> None:
    import pickle

    index = ProjectIndex([VIEWS, MODELS, BASE], unread={"shop.client"})
    assert index.is_model("shop.models.Order")  # fills the memos
    copy = pickle.loads(pickle.dumps(index))
    assert copy._canonical_memo == {} and copy._model_memo == {}
    assert not any(callable(value) for value in vars(copy).values())
    assert copy.is_model("shop.models.Order") and copy.unread == {"shop.client"}
