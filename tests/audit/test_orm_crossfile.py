"""The ORM and coroutine rules across files: a model, its base, a coroutine or a task
decorator defined in one module and used in another, audited with ``audit_paths`` on
a real tree (skipping on and off must agree)."""

from __future__ import annotations

from pathlib import Path

from async_guard.audit.config import Config
from async_guard.audit.finding import Finding
from async_guard.audit.runner import audit_paths
from tests.audit.conftest import write_tree

BASE = """\
from django.db import models


class TimeStamped(models.Model):
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
"""

MODELS = """\
from django.conf import settings
from django.db import models

from core.base import TimeStamped


class Account(TimeStamped):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)


class Position(TimeStamped):
    account = models.ForeignKey(Account, on_delete=models.CASCADE)
    symbol = models.CharField(max_length=10)
"""

CONSUMER = """\
from asgiref.sync import sync_to_async

from trading.models import Position


async def refresh(pk):
    position = Position.objects.get(pk=pk)
    return position


async def owner_email(pk):
    position = await Position.objects.aget(pk=pk)
    return position.account.user.email


async def handed_in(position: "Position"):
    return position.account


async def fine(pk):
    position = await Position.objects.select_related("account").aget(pk=pk)
    rows = await sync_to_async(list)(Position.objects.filter(symbol="QQQ"))
    return position.account, rows
"""


def audit(root: Path, **config: object) -> list[Finding]:
    """Findings of the AG2xx/AG3xx rules; skipping on and off must give the same."""
    results = [
        audit_paths([str(root)], Config(cache=False, jobs=1, skip=skip, **config))  # type: ignore[arg-type]
        for skip in (True, False)
    ]
    assert sorted(results[0].findings) == sorted(results[1].findings)
    return [f for f in sorted(results[0].findings) if f.code[:3] in ("AG2", "AG3")]


def where(findings: list[Finding]) -> list[tuple[str, int, str]]:
    return [(Path(f.path).name, f.line, f.code) for f in findings]


def trading_tree(root: Path, **extra: str) -> Path:
    files = {
        "core/__init__.py": "",
        "core/base.py": BASE,
        "trading/__init__.py": "",
        "trading/models.py": MODELS,
        "trading/consumers.py": CONSUMER,
    }
    files.update(extra)
    return write_tree(root, files)


def test_model_through_a_base_in_another_file(tmp_path: Path) -> None:
    findings = audit(trading_tree(tmp_path))
    assert where(findings) == [
        ("consumers.py", 7, "AG201"),
        ("consumers.py", 13, "AG202"),
        ("consumers.py", 17, "AG202"),
    ]
    lazy, param = findings[1], findings[2]
    assert (lazy.severity, param.severity) == ("error", "warning")
    assert "select_related('account')" in lazy.hint
    assert lazy.symbol == "owner_email" and lazy.context == "async-function"
    assert "parameter position" in param.message


def test_the_same_names_without_django_models_are_silent(tmp_path: Path) -> None:
    not_models = """\
        class TimeStamped:
            objects = {}
        """
    plain = MODELS.replace("from django.db import models", "from core import fields as models")
    tree = trading_tree(
        tmp_path,
        **{"core/base.py": not_models, "trading/models.py": plain, "core/fields.py": "x = 1\n"},
    )
    assert audit(tree) == []


def test_boto3_objects_in_async_code_are_silent(tmp_path: Path) -> None:
    tree = trading_tree(
        tmp_path,
        **{
            "trading/storage.py": """\
                import boto3

                from trading.s3 import bucket


                async def keys():
                    for obj in bucket.objects.all():
                        yield obj.key
                    await boto3.resource("s3").Bucket("b").objects.filter(Prefix="x").delete()
                """,
            "trading/s3.py": """\
                import boto3

                bucket = boto3.resource("s3").Bucket("reports")
                """,
        },
    )
    assert [f for f in audit(tree) if "storage" in f.path] == []


def test_coroutine_defined_elsewhere_and_reexported(tmp_path: Path) -> None:
    tree = write_tree(
        tmp_path,
        {
            "broker/__init__.py": "from broker.client import cancel_order\n",
            "broker/client.py": """\
                class Client:
                    async def refresh(self):
                        return None


                async def cancel_order(order_id):
                    return order_id


                async def stream():
                    yield 1
                """,
            "jobs/__init__.py": "",
            "jobs/cleanup.py": """\
                from broker import cancel_order
                from broker.client import Client, stream


                class Job(Client):
                    def run(self):
                        self.refresh()


                def cleanup(ids):
                    for order_id in ids:
                        cancel_order(order_id)
                    stream()
                """,
        },
    )
    assert where(audit(tree)) == [("cleanup.py", 7, "AG301"), ("cleanup.py", 12, "AG301")]


def test_async_def_rewrapped_by_a_decorator_elsewhere_is_not_a_coroutine(tmp_path: Path) -> None:
    tree = write_tree(
        tmp_path,
        {
            "broker/__init__.py": "",
            "broker/client.py": """\
                import functools

                from asgiref.sync import async_to_sync


                @async_to_sync
                async def bridged(order_id):
                    return order_id


                @functools.wraps(bridged)
                async def still_a_coroutine(order_id):
                    return order_id
                """,
            "jobs/__init__.py": "",
            "jobs/cleanup.py": """\
                from broker.client import bridged, still_a_coroutine


                def cleanup(order_id):
                    bridged(order_id)
                    still_a_coroutine(order_id)
                """,
        },
    )
    assert where(audit(tree)) == [("cleanup.py", 6, "AG301")]


def test_configured_known_async_names(tmp_path: Path) -> None:
    tree = write_tree(
        tmp_path,
        {
            "jobs.py": """\
                from vendor.sdk import fetch_all


                def nightly():
                    fetch_all()
                """,
        },
    )
    assert audit(tree) == []
    assert where(audit(tree, known_async=("vendor.sdk.fetch_all",))) == [("jobs.py", 5, "AG301")]
    # a configured name wins over what the file says (here: a plain def)
    (tmp_path / "local.py").write_text("def legacy():\n    pass\n\n\nlegacy()\n")
    assert where(audit(tmp_path, known_async=("local.legacy",))) == [("local.py", 5, "AG301")]


def test_configured_task_decorator(tmp_path: Path) -> None:
    tree = write_tree(
        tmp_path,
        {
            "apps/__init__.py": "",
            "apps/billing/__init__.py": "",
            "apps/billing/jobs.py": """\
                from apps.core.queue import periodic_job


                @periodic_job
                async def nightly():
                    return None


                @periodic_job(hour=3)
                async def at_three():
                    return None
                """,
        },
    )
    assert audit(tree) == []
    found = audit(tree, task_decorators=("periodic_job",))
    assert where(found) == [("jobs.py", 5, "AG302"), ("jobs.py", 10, "AG302")]
    assert {f.context for f in found} == {"celery-task"}


def test_command_through_a_project_base_in_another_file(tmp_path: Path) -> None:
    tree = write_tree(
        tmp_path,
        {
            "core/__init__.py": "",
            "core/commands.py": """\
                from django.core.management.base import BaseCommand


                class TradingCommand(BaseCommand):
                    requires_system_checks = []
                """,
            "trading/__init__.py": "",
            "trading/management/__init__.py": "",
            "trading/management/commands/__init__.py": "",
            "trading/management/commands/fix.py": """\
                from core.commands import TradingCommand


                class Command(TradingCommand):
                    async def handle(self, *args, **options):
                        return None
                """,
        },
    )
    assert where(audit(tree)) == [("fix.py", 5, "AG303")]


def test_sync_twin_is_reported_at_its_def(tmp_path: Path) -> None:
    tree = write_tree(
        tmp_path,
        {
            "services/__init__.py": "",
            "services/quotes.py": """\
                import asyncio


                class QuoteService:
                    async def get_quote(self, symbol):
                        return symbol

                    def get_quote_sync(self, symbol):
                        return asyncio.run(self.get_quote(symbol))
                """,
        },
    )
    (finding,) = audit(tree)
    assert (finding.line, finding.code, finding.severity) == (8, "AG304", "warning")
    assert finding.symbol == "QuoteService.get_quote_sync"
    assert "async_to_sync(self.get_quote)" in finding.hint
