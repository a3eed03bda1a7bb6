"""Django's model graph across files: the index's answers on real parsed files, and the
findings they give on real trees audited with ``audit_paths`` (skipping on and off
agree: see ``test_orm_crossfile.audit``)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from async_guard.audit.analysis.facts import collect_facts
from async_guard.audit.analysis.index import ProjectIndex
from async_guard.audit.analysis.source import SourceFile
from async_guard.audit.config import Config
from tests.audit.conftest import write_tree
from tests.audit.test_orm_crossfile import audit


def index_of(files: dict[str, str], config: Config | None = None) -> ProjectIndex:
    config = config or Config()
    facts = [
        collect_facts(SourceFile.from_text(textwrap.dedent(text), path), config)
        for path, text in files.items()
    ]
    return ProjectIndex(facts, config)


SHOP = {
    "shop/models/__init__.py": "from .order import Order\n",
    "shop/models/order.py": """\
        from django.db import models


        class Order(models.Model):
            total = models.IntegerField()
        """,
    "lines/models.py": """\
        from django.db import models


        class Line(models.Model):
            order = models.ForeignKey("shop.Order", related_name="lines",
                                      related_query_name="line", on_delete=models.CASCADE)
            replaces = models.OneToOneField("self", null=True, on_delete=models.SET_NULL)


        class Note(models.Model):
            order = models.ForeignKey("shop.Order", related_query_name="remark",
                                      on_delete=models.CASCADE)


        class Hidden(models.Model):
            order = models.ForeignKey("shop.Order", related_name="hidden+",
                                      on_delete=models.CASCADE)


        class Tagged(models.Model):
            orders = models.ManyToManyField("shop.Order", related_name="%(app_label)s_%(class)ss")

            class Meta:
                app_label = "tagging"


        class Owned(models.Model):
            order = models.ForeignKey("shop.Order", on_delete=models.CASCADE)
            shared = models.ForeignKey("shop.Order", related_name="owners",
                                       on_delete=models.CASCADE)

            class Meta:
                abstract = True
        """,
}


def test_reverse_accessors_follow_djangos_naming() -> None:
    index = index_of(SHOP)
    relations = index.model_relations("shop.models.Order")
    assert relations == {
        "lines": ("rfk", "lines.models.Line"),
        "note_set": ("rfk", "lines.models.Note"),  # related_query_name names no accessor
        "tagging_taggeds": ("rm2m", "lines.models.Tagged"),
        "owners": ("rfk", "lines.models.Owned"),  # an abstract model's plain related_name
    }
    assert index.model_relations("lines.models.Line") == {
        "order": ("fk", "shop.models.order.Order"),
        "replaces": ("o2o", "lines.models.Line"),
        "line": ("ro2o", "lines.models.Line"),
    }
    # the re-exporting package and the module name the same model
    assert index.model_relations("shop.models.order.Order") == relations


def test_contrib_models_and_a_custom_user_model_from_settings() -> None:
    files = {
        "config/settings.py": 'AUTH_USER_MODEL = "accounts.Member"\n',
        "accounts/models.py": """\
            from django.contrib.auth.models import AbstractUser


            class Member(AbstractUser):
                pass
            """,
        "profiles/models.py": """\
            from django.conf import settings
            from django.db import models


            class Profile(models.Model):
                user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
            """,
    }
    index = index_of(files)
    assert index.model_named("@user") == "accounts.models.Member"
    member = index.model_relations("accounts.models.Member")
    assert member["groups"] == ("m2m", "django.contrib.auth.models.Group")
    assert member["profile"] == ("ro2o", "profiles.models.Profile")
    assert member["logentry_set"] == ("rfk", "django.contrib.admin.models.LogEntry")
    group = index.model_relations("django.contrib.auth.models.Group")
    assert group["user_set"][0] == "rm2m"
    assert group["permissions"] == ("m2m", "django.contrib.auth.models.Permission")
    # without a settings module that names it, the user model is Django's own
    default = index_of({k: v for k, v in files.items() if "settings" not in k})
    assert default.model_named("@user") == "django.contrib.auth.models.User"
    assert "profile" in default.model_relations("django.contrib.auth.models.User")
    # settings modules that disagree (or compute it) leave it unknown: silence
    files["config/test_settings.py"] = 'AUTH_USER_MODEL = "auth.User"\n'
    assert index_of(files).model_named("@user") == ""
    computed = {"config/settings.py": "import os\nAUTH_USER_MODEL = os.environ['M']\n"}
    assert index_of(computed).model_named("@user") == ""


def test_managers_and_their_methods() -> None:
    index = index_of(
        {
            "shop/querysets.py": """\
                from django.db import models


                class OrderQuerySet(models.QuerySet):
                    def open(self):
                        return self.filter(status="open")

                    def total(self):
                        return self.aggregate(models.Sum("total"))

                    @property
                    def first_open(self):
                        return self.open()


                class Orders(models.Manager):
                    def recent(self):
                        if self.model:
                            return super().get_queryset().order_by("-pk")
                        return OrderQuerySet(self.model)
                """,
            "shop/models.py": """\
                from decimal import Decimal

                from django.db import models

                from shop.querysets import OrderQuerySet, Orders


                class Order(models.Model):
                    objects = Orders()
                    catalog = OrderQuerySet.as_manager()
                    both = models.Manager.from_queryset(OrderQuerySet)()
                    zero = Decimal("0")
                """,
        }
    )
    managers = index.model_managers("shop.models.Order")
    assert {"objects", "catalog", "both"} <= managers and "zero" not in managers
    assert index.manager_sources("shop.models.Order.catalog") == ("shop.querysets.OrderQuerySet",)
    assert index.manager_sources("shop.models.Order.both") == (
        "django.db.models.Manager",
        "shop.querysets.OrderQuerySet",
    )
    assert index.returns_queryset("shop.querysets.OrderQuerySet.open")
    assert index.returns_queryset("shop.querysets.Orders.recent")
    assert not index.returns_queryset("shop.querysets.OrderQuerySet.total")
    assert not index.returns_queryset("shop.querysets.OrderQuerySet.first_open")


def test_app_labels_and_get_model(tmp_path: Path) -> None:
    tree = write_tree(
        tmp_path,
        {
            "apps/__init__.py": "",
            "apps/billing/__init__.py": "",
            "apps/billing/models.py": """\
                from django.db import models


                class Invoice(models.Model):
                    number = models.CharField(max_length=10)


                class Payment(models.Model):
                    invoice = models.ForeignKey("billing.Invoice", on_delete=models.CASCADE)

                    class Meta:
                        app_label = "payments"


                class Refund(models.Model):
                    # a bare name is relative to the declaring model's app: billing.Payment
                    # does not exist (Payment's label is "payments"), so no accessor
                    payment = models.ForeignKey("Payment", on_delete=models.CASCADE)
                """,
            "apps/billing/views.py": """\
                from django.apps import apps


                async def show(pk):
                    Invoice = apps.get_model("billing", "Invoice")
                    invoice = await Invoice.objects.aget(pk=pk)
                    payments = invoice.payment_set.count()
                    other = apps.get_model("payments.Payment").objects.count()
                    unknown = apps.get_model("nowhere", "Invoice").objects.count()
                    payment = await apps.get_model("payments", "Payment").objects.aget(pk=pk)
                    return payments, other, unknown, payment.refund_set.count()
                """,
        },
    )
    assert [(Path(f.path).name, f.line, f.code) for f in audit(tree)] == [
        ("views.py", 7, "AG201"),
        ("views.py", 8, "AG201"),
    ]


def test_async_main_reaching_the_user_model_is_ag103(tmp_path: Path) -> None:
    tree = write_tree(
        tmp_path,
        {
            "fix_users.py": """\
                import asyncio

                from django.contrib.auth import get_user_model


                async def main():
                    return get_user_model().objects.filter(is_active=False).delete()


                if __name__ == "__main__":
                    asyncio.run(main())
                """,
        },
    )
    assert [(f.line, f.code) for f in audit(tree)] == [(7, "AG201")]
    from async_guard.audit.runner import audit_paths

    result = audit_paths([str(tree)], Config(cache=False, jobs=1))
    assert [(f.line, f.code) for f in result.findings if f.code == "AG103"] == [(11, "AG103")]


def test_views_routed_by_a_router_and_as_view(tmp_path: Path) -> None:
    tree = write_tree(
        tmp_path,
        {
            "api/__init__.py": "",
            "api/routes.py": """\
                from rest_framework import routers

                from api.handlers import Orders, Refunds

                router = routers.DefaultRouter()
                router.register("orders", Orders)
                urlpatterns = [Refunds.as_view()]
                """,
            "api/handlers.py": """\
                from shop.models import Order


                class Orders:
                    async def list(self, request):
                        return Order.objects.count()


                class Refunds:
                    async def post(self, request):
                        return Order.objects.count()


                class NotRouted:
                    async def post(self, request):
                        return Order.objects.count()
                """,
            "shop/__init__.py": "",
            "shop/models.py": "from django.db import models\n\n\n"
            "class Order(models.Model):\n    pass\n",
        },
    )
    found = [(f.line, f.code, f.context) for f in audit(tree)]
    assert found == [
        (6, "AG201", "view"),
        (11, "AG201", "view"),
        (16, "AG201", "async-function"),
    ]


def test_graph_facts_only_where_the_text_test_finds_them() -> None:
    """The skip reads for their facts only the files ``holds_graph_facts`` picks: a
    fact of the graph anywhere else would be seen with skipping off and not on."""
    from async_guard.audit.analysis.facts import holds_graph_facts

    root = Path(__file__).resolve().parents[2]
    folders = [root / "tests" / "eval_files", root / "trading", root / "settings"]
    checked = 0
    for path in sorted(p for folder in folders for p in folder.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        try:
            facts = collect_facts(SourceFile.from_text(text, str(path.relative_to(root))))
        except Exception:
            continue  # the syntax-error fixtures
        graph = bool(
            facts.relations or facts.model_refs or facts.user_models or facts.routed
            or facts.app_labels
        )  # fmt: skip
        if graph:
            checked += 1
            assert holds_graph_facts(text), path
    assert checked >= 5
    # the shapes the text test looks for, and look-alikes it rules out
    assert holds_graph_facts("class A(Model):\n    b = models.ForeignKey(B, on_delete=C)\n")
    assert holds_graph_facts("class A(Model):\n    b: Any = ParentalKey('B')\n")
    assert holds_graph_facts('AUTH_USER_MODEL = "a.B"\n')
    assert holds_graph_facts("User = auth.get_user_model()\n")
    assert holds_graph_facts("urlpatterns = [path('', v)]\n")
    assert holds_graph_facts("api_router.register('x', V)\n")
    assert holds_graph_facts("class A:\n    class Meta:\n        app_label = 'x'\n")
    assert not holds_graph_facts("# b = models.ForeignKey(B)\nisinstance(f, ForeignKey)\n")
    assert not holds_graph_facts("def f():\n    m = apps.get_model('a', 'B')\n")
    assert not holds_graph_facts("for p in resolver.urlpatterns:\n    pass\n")
    assert not holds_graph_facts("def f(model):\n    app_label = model._meta.app_label\n")


def test_a_warm_run_keeps_reverse_relations_of_unchanged_files(tmp_path: Path) -> None:
    """On a warm run the files unchanged since the last one are not read again, but the
    model graph still needs the relation declared in one of them."""
    from async_guard.audit.runner import audit_paths

    root, cache = tmp_path / "tree", tmp_path / "cache"
    files = {
        "shop/__init__.py": "",
        "shop/models.py": "from django.db import models\n\n\n"
        "class Order(models.Model):\n    pass\n",
        "lines/__init__.py": "",
        "lines/models.py": "from django.db import models\n\n\n"
        "class Line(models.Model):\n"
        "    order = models.ForeignKey('shop.Order', related_name='lines', on_delete=None)\n",
        "shop/views.py": "from shop.models import Order\n\n\nasync def v(pk):\n    return 1\n",
    }
    write_tree(root, files)
    audit_paths([str(root)], Config(cache=True, cache_dir=str(cache)))
    write_tree(
        root,
        {
            "shop/views.py": "from shop.models import Order\n\n\nasync def v(pk):\n"
            "    order = await Order.objects.aget(pk=pk)\n    return order.lines.count()\n"
        },
    )
    warm = audit_paths([str(root)], Config(cache=True, cache_dir=str(cache)))
    fresh = audit_paths([str(root)], Config(cache=False, skip=False))
    assert [(f.line, f.code) for f in warm.findings] == [(6, "AG201")]
    assert warm.findings == fresh.findings
    assert warm.stats.cached
