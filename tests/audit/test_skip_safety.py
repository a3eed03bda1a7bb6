"""Skipping files without parsing them never loses (or adds) a finding.

The engine may skip a file whose text holds no trigger of any enabled rule and
nothing the cross-file index needs. That is only safe if it is exact, so every
tree here is audited twice, with skipping on and off, and the findings must be
identical: the rule fixtures, the anti-pattern examples, small projects built
to defeat a naive skip (the finding sits in a file with no async text at all,
or depends on a fact that only a file without any trigger provides), a
generated Django project, and the release wheels of Django, Celery, kombu,
asgiref and channels (slow: downloads them once into benchmarks/.corpus/).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from async_guard.audit.config import Config
from async_guard.audit.finding import Finding
from async_guard.audit.results import AuditResult
from async_guard.audit.rules import all_rules
from async_guard.audit.runner import audit_paths
from benchmarks import corpus
from tests.audit.conftest import write_tree
from tests.support import services

ROOT = Path(__file__).resolve().parents[2]


def audit(paths: Sequence[Path], *, skip: bool, **config: Any) -> AuditResult:
    return audit_paths([str(p) for p in paths], Config(skip=skip, cache=False, **config))


def assert_same_findings(paths: Sequence[Path], **config: Any) -> tuple[list[Finding], AuditResult]:
    """Audit ``paths`` with skipping on and off; the findings must agree.

    Returns the findings and the result of the run with skipping on (its stats say
    how many files were skipped).
    """
    skipped, full = audit(paths, skip=True, **config), audit(paths, skip=False, **config)
    lost = sorted(set(full.findings) - set(skipped.findings))
    extra = sorted(set(skipped.findings) - set(full.findings))
    assert not lost, "skipping lost findings:\n" + "\n".join(map(str, lost))
    assert not extra, "skipping added findings:\n" + "\n".join(map(str, extra))
    assert sorted(skipped.findings) == sorted(full.findings)  # duplicates too
    # what equality leaves out depends on the index as much: severity, context, message
    assert [f.as_json() for f in sorted(skipped.findings)] == [
        f.as_json() for f in sorted(full.findings)
    ]
    assert skipped.files_scanned == full.files_scanned
    assert sorted(map(str, skipped.parse_errors)) == sorted(map(str, full.parse_errors))
    return sorted(full.findings), skipped


def test_fixture_corpus() -> None:
    folders = [ROOT / "tests" / "eval_files", ROOT / "examples" / "antipatterns"]
    findings, _ = assert_same_findings([f for f in folders if f.is_dir()])
    assert findings, "the fixtures produce findings, so the comparison is not vacuous"


# Each project puts a finding where a skip built only from the rules' own text
# triggers would go wrong: the file with the finding, or a file that supplies
# the fact the finding needs, contains no async vocabulary at all. ``expect``
# names the findings (file name, code) the full audit gives, so the equality
# below is never between two empty lists.
@dataclass(frozen=True)
class Project:
    files: dict[str, str]
    expect: frozenset[tuple[str, str]]
    config: dict[str, Any] = field(default_factory=dict)


PROJECTS: dict[str, Project] = {
    # A django.tasks task in a file without a trigger word reaches, through a helper
    # of another file, an asyncio.run(): the helper is in the task's context; and a
    # task enqueued without await in another file, by its coroutine method.
    "django-task-helper-and-aenqueue": Project(
        {
            "shop/__init__.py": "",
            "shop/jobs.py": """\
                from django.tasks import task

                from shop.helpers import refresh_quotes


                @task
                def nightly(symbol):
                    return refresh_quotes(symbol)
                """,
            "shop/helpers.py": """\
                import asyncio

                from shop.client import fetch


                def refresh_quotes(symbol):
                    return asyncio.run(fetch(symbol))
                """,
            "shop/client.py": "async def fetch(symbol):\n    return symbol\n",
            "shop/views.py": """\
                from shop.jobs import nightly


                def schedule(request):
                    nightly.aenqueue("SPY")
                """,
        },
        frozenset({("helpers.py", "AG101"), ("views.py", "AG301")}),
    ),
    # AG301 in a file without "async"/"await": the coroutine is defined elsewhere.
    "coroutine-called-from-plain-file": Project(
        {
            "pkg/__init__.py": "",
            "pkg/client.py": """\
                async def fetch_quotes(symbol):
                    return symbol
                """,
            "pkg/jobs.py": """\
                from pkg.client import fetch_quotes


                def refresh(symbol):
                    fetch_quotes(symbol)
                """,
        },
        frozenset({("jobs.py", "AG301")}),
    ),
    # ... through a module attribute, a package path, a relative import, a staticmethod
    "coroutine-through-module-attribute": Project(
        {
            "a.py": "async def fetch():\n    return 1\n",
            "x.py": "import a\n\n\ndef f():\n    a.fetch()\n",
        },
        frozenset({("x.py", "AG301")}),
    ),
    "coroutine-through-package-path": Project(
        {
            "a/__init__.py": "",
            "a/b.py": "async def fetch():\n    return 1\n",
            "x.py": "import a.b\n\n\ndef f():\n    a.b.fetch()\n",
        },
        frozenset({("x.py", "AG301")}),
    ),
    "coroutine-through-relative-import": Project(
        {
            "p/__init__.py": "",
            "p/a.py": "async def fetch():\n    return 1\n",
            "p/x.py": "from . import a\n\n\ndef f():\n    a.fetch()\n",
        },
        frozenset({("x.py", "AG301")}),
    ),
    "coroutine-staticmethod": Project(
        {
            "c.py": "class Client:\n    @staticmethod\n    async def fetch():\n        return 1\n",
            "x.py": "from c import Client\n\n\ndef f():\n    Client.fetch()\n",
        },
        frozenset({("x.py", "AG301")}),
    ),
    # ... re-exported by a package under another name, once or twice
    "reexport-under-alias": Project(
        {
            "pkg/__init__.py": "from .impl import fetch as get_data\n",
            "pkg/impl.py": "async def fetch():\n    return 1\n",
            "x.py": "from pkg import get_data\n\n\ndef f():\n    get_data()\n",
        },
        frozenset({("x.py", "AG301")}),
    ),
    "reexport-alias-two-hops": Project(
        {
            "pkg/__init__.py": "from pkg.impl import fetch as get_data\n",
            "pkg/impl.py": "async def fetch():\n    return 1\n",
            "pkg2/__init__.py": "from pkg import get_data as grab\n",
            "x.py": "from pkg2 import grab\n\n\ndef f():\n    grab()\n",
        },
        frozenset({("x.py", "AG301")}),
    ),
    "class-reexported-under-alias": Project(
        {
            "c.py": "class Client:\n    @staticmethod\n    async def fetch():\n        return 1\n",
            "alias.py": "from c import Client as C2\n",
            "x.py": "from alias import C2\n\n\ndef f():\n    C2.fetch()\n",
        },
        frozenset({("x.py", "AG301")}),
    ),
    # AG101: the task reaches the helper through a re-export under another name.
    "context-through-an-aliased-reexport": Project(
        {
            "tasks.py": "from celery import shared_task\nfrom mid import h2\n\n\n"
            "@shared_task\ndef t():\n    return h2()\n",
            "mid.py": "from helpers import helper as h2\n",
            "helpers.py": "import asyncio\n\n\nasync def _f():\n    return 1\n\n\n"
            "def helper():\n    return asyncio.run(_f())\n",
        },
        frozenset({("helpers.py", "AG101")}),
    ),
    "reexport-chain": Project(
        {
            "pkg/__init__.py": "from .impl import fetch\n",
            "pkg/impl.py": "async def fetch():\n    return 1\n",
            "x.py": "from pkg import fetch\n\n\ndef f():\n    fetch()\n",
        },
        frozenset({("x.py", "AG301")}),
    ),
    "module-imported-under-alias": Project(
        {
            "impl.py": "async def fetch():\n    return 1\n",
            "alias.py": "import impl as backend\n",
            "x.py": "from alias import backend\n\n\ndef f():\n    backend.fetch()\n",
        },
        frozenset({("x.py", "AG301")}),
    ),
    # A configured known-async name: nothing in the file says async.
    "configured-known-async": Project(
        {"jobs.py": "from sdk import fetch_quotes\n\n\ndef refresh(s):\n    fetch_quotes(s)\n"},
        frozenset({("jobs.py", "AG301")}),
        {"known_async": ("sdk.fetch_quotes",)},
    ),
    # AG201: the model's base class lives in a file with no ORM call and no async code.
    "model-through-project-base": Project(
        {
            "shop/__init__.py": "",
            "shop/base.py": """\
                from django.db import models


                class Timestamped(models.Model):
                    created = models.DateTimeField(auto_now_add=True)

                    class Meta:
                        abstract = True
                """,
            "shop/models.py": """\
                from shop.base import Timestamped
                from django.db.models import CharField


                class Order(Timestamped):
                    number = CharField(max_length=10)
                """,
            "shop/views.py": """\
                from shop.models import Order


                async def order_detail(request, pk):
                    order = Order.objects.get(pk=pk)
                    return order.number
                """,
        },
        frozenset({("views.py", "AG201")}),
    ),
    "model-base-imported-under-another-name": Project(
        {
            "base.py": """\
                from django.db.models import Model as M


                class Base(M):
                    class Meta:
                        abstract = True
                """,
            "models.py": "from base import Base\n\n\nclass Order(Base):\n    pass\n",
            "v.py": """\
                from models import Order


                async def v():
                    return Order.objects.get(pk=1)
                """,
        },
        frozenset({("v.py", "AG201")}),
    ),
    # AG202: the relation field is declared in a file the async code never mentions.
    "relation-declared-elsewhere": Project(
        {
            "desk/__init__.py": "",
            "desk/models.py": """\
                from django.db import models


                class Account(models.Model):
                    number = models.CharField(max_length=10)


                class Trade(models.Model):
                    account = models.ForeignKey(Account, on_delete=models.CASCADE)
                """,
            "desk/report.py": """\
                from desk.models import Trade


                async def describe(trade: Trade) -> str:
                    return trade.account.number
                """,
        },
        frozenset({("report.py", "AG202")}),
    ),
    "relation-in-abstract-mixin": Project(
        {
            "models.py": """\
                from django.db import models
                from mix import HasOwner


                class Acct(models.Model):
                    n = models.IntegerField()


                class Order(HasOwner, models.Model):
                    pass
                """,
            "mix.py": """\
                from django.db.models import CASCADE, ForeignKey, Model


                class HasOwner(Model):
                    owner = ForeignKey("models.Acct", on_delete=CASCADE)

                    class Meta:
                        abstract = True
                """,
            "v.py": """\
                from models import Order


                async def v():
                    o = await Order.objects.aget(pk=1)
                    return o.owner.n
                """,
        },
        frozenset({("v.py", "AG202")}),
    ),
    # AG101: the helper is a Celery task's only caller path; the task's file has no
    # asyncio text, yet it is what makes the helper run in a task.
    "context-from-caller-file": Project(
        {
            "jobs/__init__.py": "",
            "jobs/tasks.py": """\
                from celery import shared_task

                from jobs.helpers import pull


                @shared_task
                def pull_task(account_id):
                    return pull(account_id)
                """,
            "jobs/helpers.py": """\
                import asyncio

                from asgiref.sync import sync_to_async

                from jobs.models import Position


                async def _fetch(account_id):
                    count = Position.objects.filter(account_id=account_id).count
                    return await sync_to_async(count)()


                def pull(account_id):
                    return asyncio.run(_fetch(account_id))
                """,
            "jobs/models.py": """\
                from django.db import models


                class Position(models.Model):
                    account_id = models.IntegerField()
                """,
        },
        frozenset({("helpers.py", "AG101")}),
    ),
    # AG101 three calls away from the task, through files with no trigger at all.
    "context-through-a-call-chain": Project(
        {
            "tasks.py": "from celery import shared_task\nfrom a1 import f1\n\n\n"
            "@shared_task\ndef t():\n    return f1()\n",
            "a1.py": "from a2 import f2\n\n\ndef f1():\n    return f2()\n",
            "a2.py": "from helpers import helper\n\n\ndef f2():\n    return helper()\n",
            "helpers.py": "import asyncio\n\n\nasync def _f():\n    return 1\n\n\n"
            "def helper():\n    return asyncio.run(_f())\n",
        },
        frozenset({("helpers.py", "AG101")}),
    ),
    # Entry points whose base class (View, Task, MiddlewareMixin) is a project class.
    "view-base-elsewhere": Project(
        {
            "base.py": "from django.views import View\n\n\nclass BaseV(View):\n    pass\n",
            "pages.py": "from base import BaseV\nfrom helpers import helper\n\n\n"
            "class V(BaseV):\n    def get(self, req):\n        return helper()\n",
            "helpers.py": "import asyncio\n\n\nasync def _f():\n    return 1\n\n\n"
            "def helper():\n    return asyncio.run(_f())\n",
        },
        frozenset({("helpers.py", "AG101")}),
    ),
    "middleware-base-elsewhere": Project(
        {
            "base.py": "from django.utils.deprecation import MiddlewareMixin as M\n\n\n"
            "class B(M):\n    pass\n",
            "mw.py": "from base import B\nfrom helpers import helper\n\n\n"
            "class Mw(B):\n    def process_request(self, r):\n        return helper()\n",
            "helpers.py": "import asyncio\n\n\nasync def _f():\n    return 1\n\n\n"
            "def helper():\n    return asyncio.run(_f())\n",
        },
        frozenset({("helpers.py", "AG101")}),
    ),
    # Models and a coroutine function re-exported by ``from .x import *``: the package
    # never names them, and no file on the way holds a trigger.
    "star-import-models": Project(
        {
            "shop/__init__.py": "",
            "shop/models/__init__.py": "from .order import *\nfrom .base import *\n",
            "shop/models/base.py": "from django.db import models\n\n\n"
            "class Base(models.Model):\n    class Meta:\n        abstract = True\n",
            "shop/models/order.py": "from .base import Base\n\n\nclass Order(Base):\n    pass\n",
            "shop/views.py": "from shop.models import Order\n\n\nasync def show(pk):\n"
            "    return Order.objects.get(pk=pk)\n",
        },
        frozenset({("views.py", "AG201")}),
    ),
    "star-import-coroutine": Project(
        {
            "sdk/__init__.py": "from .impl import *\n",
            "sdk/impl.py": "async def fetch_quotes(symbol):\n    return symbol\n",
            "jobs.py": "from sdk import fetch_quotes\n\n\ndef refresh(s):\n    fetch_quotes(s)\n",
        },
        frozenset({("jobs.py", "AG301")}),
    ),
    # AG101 in a task of a Celery app defined in another file.
    "task-of-an-app-elsewhere": Project(
        {
            "app.py": "from celery import Celery\n\napp = Celery()\n",
            "t.py": """\
                import asyncio

                from app import app


                @app.task
                def t():
                    asyncio.run(main())


                async def main():
                    return 1
                """,
        },
        frozenset({("t.py", "AG101")}),
    ),
    # The standard library's asyncio audited as a tree: its modules name its functions
    # through relative imports, without the word "asyncio" (see REFINED_TRIGGERS).
    "inside-a-package-called-asyncio": Project(
        {
            "asyncio/__init__.py": "",
            "asyncio/events.py": "def new_event_loop():\n    return object()\n",
            "asyncio/runner.py": """\
                from .events import new_event_loop


                def main():
                    loop = new_event_loop()
                    loop.run_forever()
                """,
        },
        frozenset({("runner.py", "AG102")}),
    ),
    # Prose says "async" and "asyncio" everywhere; the one coroutine function is
    # called unawaited from a file that holds no trigger word at all.
    "async-only-in-prose": Project(
        {
            "pool.py": '''\
                """The async pool: asyncio-free, used by the async results poller."""


                def drain(results):
                    """Collect the async results."""
                    return list(results)
                ''',
            "client.py": "async def fetch():\n    return 1\n",
            "use.py": "from client import fetch\n\n\ndef go():\n    fetch()\n",
        },
        frozenset({("use.py", "AG301")}),
    ),
    # The model graph: a reverse accessor is declared in the file of the *other* model,
    # which no lookup from the async code reaches, and which holds no trigger.
    "reverse-relation-declared-elsewhere": Project(
        {
            "shop/__init__.py": "",
            "shop/models/__init__.py": "from shop.models.order import Order\n",
            "shop/models/order.py": "from core.base import Stamped\n\n\n"
            "class Order(Stamped):\n    pass\n",
            "core/__init__.py": "",
            "core/base.py": "from django.db import models\n\n\n"
            "class Stamped(models.Model):\n    class Meta:\n        abstract = True\n",
            "lines/__init__.py": "",
            "lines/models.py": """\
                from django.db import models

                from core.base import Stamped


                class Line(Stamped):
                    order = models.ForeignKey("shop.Order", related_name="lines",
                                              on_delete=models.CASCADE)


                class Note(models.Model):
                    order = models.ForeignKey("shop.Order", on_delete=models.CASCADE)


                class Invoice(models.Model):
                    order = models.OneToOneField("shop.Order", on_delete=models.CASCADE)
                """,
            "shop/views.py": """\
                from shop.models import Order


                async def detail(pk):
                    order = await Order.objects.aget(pk=pk)
                    return order.lines.count(), list(order.note_set.all()), order.invoice
                """,
        },
        frozenset({("views.py", "AG201"), ("views.py", "AG202")}),
    ),
    # A custom queryset class in a module that neither the models nor the code name a
    # trigger in, and a manager class made by ``from_queryset`` at module level.
    "custom-manager-in-another-module": Project(
        {
            "shop/__init__.py": "",
            "shop/querysets.py": """\
                from django.db import models


                class OrderQuerySet(models.QuerySet):
                    def open(self):
                        return self.filter(status="open")


                class OrderManager(models.Manager):
                    def recent(self):
                        return self.order_by("-pk")


                RecentOrders = OrderManager.from_queryset(OrderQuerySet)
                """,
            "shop/models.py": """\
                from django.db import models

                from shop.querysets import OrderQuerySet, RecentOrders


                class Order(models.Model):
                    status = models.CharField(max_length=10)
                    objects = OrderQuerySet.as_manager()
                    recent_orders = RecentOrders()
                """,
            "shop/views.py": """\
                from shop.models import Order


                async def open_orders():
                    return list(Order.objects.open()), Order.recent_orders.recent().open().count()
                """,
        },
        frozenset({("views.py", "AG201")}),
    ),
    # The user model named by the settings module, its reverse one-to-one declared in a
    # third app, and the model bound by ``get_user_model()`` in a helper module.
    "user-model-from-settings": Project(
        {
            "config/__init__.py": "",
            "config/settings.py": 'AUTH_USER_MODEL = "accounts.Member"\n',
            "accounts/__init__.py": "",
            "accounts/models.py": "from django.contrib.auth.models import AbstractUser\n\n\n"
            "class Member(AbstractUser):\n    pass\n",
            "profiles/__init__.py": "",
            "profiles/models.py": """\
                from django.conf import settings
                from django.db import models


                class Profile(models.Model):
                    user = models.OneToOneField(settings.AUTH_USER_MODEL, related_name="profile",
                                                on_delete=models.CASCADE)
                """,
            "accounts/utils.py": "from django.contrib.auth import get_user_model\n\n"
            "User = get_user_model()\n",
            "accounts/views.py": """\
                from accounts.utils import User


                async def me(request):
                    user = await request.auser()
                    return user.profile, User.objects.count(), request.user.groups.count()
                """,
        },
        frozenset({("views.py", "AG201"), ("views.py", "AG202")}),
    ),
    # Views routed by a URLconf in another file: a function whatever its name or file,
    # a class through ``as_view()`` whatever its bases.
    "urlconf-view-in-another-file": Project(
        {
            "site/__init__.py": "",
            "site/urls.py": """\
                from django.urls import path

                from site import handlers

                urlpatterns = [
                    path("orders/<int:pk>/", handlers.show),
                    path("sync/", handlers.Refresher.as_view()),
                ]
                """,
            "site/handlers.py": """\
                from site.jobs import refresh


                def show(req, pk):
                    return refresh(pk)


                class Refresher:
                    def post(self, req):
                        return refresh(0)
                """,
            "site/jobs.py": """\
                import asyncio


                async def pull(pk):
                    return pk


                def refresh(pk):
                    return asyncio.run(pull(pk))
                """,
        },
        frozenset({("jobs.py", "AG101")}),
    ),
}


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_cross_file_project(name: str, tmp_path: Path) -> None:
    project = PROJECTS[name]
    root = write_tree(tmp_path, project.files)
    findings, _ = assert_same_findings([root], **project.config)
    assert {(Path(f.path).name, f.code) for f in findings} == project.expect


def test_generated_django_project(tmp_path: Path) -> None:
    # 10 apps of 11 files; the first app has the planted AG201 bug
    root = corpus.generated_tree(tmp_path / "project", 1 + 11 * 10)
    findings, skipped = assert_same_findings([root])
    planted = [f for f in findings if f.code == "AG201" and "order_total" in f.symbol]
    assert len(planted) == 1, findings
    assert skipped.stats.skipped > 0, "the generated project has files nothing can flag"


# Edits applied one after another to one tree; after each, an audit that reuses the
# cache (and skips) must equal a fresh audit without cache or skipping. Files that
# were skipped (and cached as such) become relevant when another file changes.
EDITS: list[tuple[dict[str, str], set[tuple[str, str]]]] = [
    (
        {
            "client.py": "def fetch_quotes(symbol):\n    return symbol\n",
            "jobs.py": "from client import fetch_quotes\n\n\ndef refresh(s):\n"
            "    fetch_quotes(s)\n",
            "base.py": "class Base:\n    pass\n",
            "models.py": "from base import Base\n\n\nclass Order(Base):\n    pass\n",
            "views.py": "from models import Order\n\n\nasync def v():\n"
            "    return Order.objects.get(pk=1)\n",
        },
        set(),
    ),
    ({"client.py": "async def fetch_quotes(symbol):\n    return symbol\n"}, {("jobs.py", "AG301")}),
    (
        {
            "base.py": "from django.db import models\n\n\nclass Base(models.Model):\n"
            "    class Meta:\n        abstract = True\n"
        },
        {("jobs.py", "AG301"), ("views.py", "AG201")},
    ),
    ({"client.py": "def fetch_quotes(symbol):\n    return symbol\n"}, {("views.py", "AG201")}),
    ({"base.py": "class Base:\n    pass\n"}, set()),
]


def test_incremental_edits_with_cache(tmp_path: Path) -> None:
    root, cache = tmp_path / "tree", tmp_path / "cache"
    for step, (files, expected) in enumerate(EDITS):
        write_tree(root, files)
        warm = audit_paths([str(root)], Config(cache=True, cache_dir=str(cache)))
        fresh = audit([root], skip=False)
        assert warm.findings == fresh.findings, f"after edit {step}"
        assert [f.as_json() for f in warm.findings] == [f.as_json() for f in fresh.findings]
        assert {(Path(f.path).name, f.code) for f in warm.findings} == expected, step
        if step:
            assert warm.stats.cached, "the cache took part"


@pytest.fixture(scope="module")
def small_trees(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The fixtures, the cross-file projects and a small generated project, together."""
    root = tmp_path_factory.mktemp("small")
    for name, project in PROJECTS.items():
        if not project.config:
            write_tree(root / "projects" / name, project.files)
    corpus.generated_tree(root / "generated", 1 + 11 * 10)
    folders = [ROOT / "tests" / "eval_files", ROOT / "examples" / "antipatterns"]
    return [*(f for f in folders if f.is_dir()), root]


@pytest.mark.parametrize("code", sorted(rule.code for rule in all_rules()))
def test_each_rule_alone(code: str, small_trees: list[Path]) -> None:
    """With one rule selected the skip uses only its triggers (plus the index's).

    With every rule on, one rule's broad triggers can hide another's missing ones;
    selecting each rule alone leaves nothing to hide behind.
    """
    findings, _ = assert_same_findings(small_trees, select=(code,))
    assert findings, f"no {code} finding in the small trees: the comparison would be vacuous"


@pytest.fixture(scope="session")
def benchmark_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    try:
        return corpus.real_corpus(tmp_path_factory.mktemp("wheels"))
    except corpus.CorpusUnavailableError as exc:
        message = f"the benchmark corpus cannot be built: {exc}"
        if services.in_ci():
            pytest.fail(f"{message}; CI=true has the package registry, so it must download")
        pytest.skip(message)


@pytest.mark.slow
def test_benchmark_corpus(benchmark_corpus: Path) -> None:
    _, skipped = assert_same_findings([benchmark_corpus])
    assert skipped.files_scanned > 1000
    # Most of the wheels' files hold nothing a rule could report; if nothing were
    # skipped, the comparison above would say nothing about skipping.
    assert skipped.stats.skipped > 0, skipped.stats
