"""Models known only from the app registry (``manage.py audit_async``): Django's own
``User`` and the reference project's models, with their relation fields, make the
ORM rules fire in a tree that contains none of the model classes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from async_guard.audit.config import Config
from async_guard.audit.runner import audit_paths
from async_guard.management.commands.audit_async import registry_facts
from tests.audit.conftest import write_tree

CODE = """\
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User

from trading.models import Position, TradingAccount


async def report(pk, account: TradingAccount):
    user = User.objects.get(pk=pk)
    position = await Position.objects.aget(pk=pk)
    owner = position.user
    selected = await Position.objects.select_related("account").aget(pk=pk)
    return user, owner, selected.account, account.user, position.account_id


async def unknown_models(pk):
    model = get_user_model()
    return model.objects.get(pk=pk)
"""


def audit(root: Path, config: Config) -> list[tuple[int, str, str]]:
    result = audit_paths([str(root)], config)
    return sorted((f.line, f.code, f.severity) for f in result.findings if f.code[:3] == "AG2")


def test_registry_models_and_fields_drive_the_orm_rules(tmp_path: Path) -> None:
    (tmp_path / "reports.py").write_text(textwrap.dedent(CODE), encoding="utf-8")
    base = Config(cache=False, jobs=1)
    # Without the registry only django.contrib's models are known (the built-in table).
    assert audit(tmp_path, base) == [(8, "AG201", "error"), (17, "AG201", "error")]
    with_registry = base.merged(**registry_facts())
    assert audit(tmp_path, with_registry) == [
        (8, "AG201", "error"),
        (10, "AG202", "error"),
        (12, "AG202", "warning"),
        (17, "AG201", "error"),
    ]


# --- through a real ``manage.py audit_async``, on a small project of its own -------------

MANAGE = """\
import sys

from django.core.management import execute_from_command_line

execute_from_command_line(sys.argv)
"""
SETTINGS = """\
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
SECRET_KEY = "test"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "async_guard",
    "vendor_coupons",
    "members",
    "shop",
]
AUTH_USER_MODEL = "members.Member"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
USE_TZ = True
"""
# A third-party app: installed, outside BASE_DIR, never scanned.
VENDOR = """\
from django.conf import settings
from django.db import models


class CouponQuerySet(models.QuerySet):
    def valid(self):
        return self.filter(used=False)


class Coupon(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="coupons",
                              on_delete=models.CASCADE)
    used = models.BooleanField(default=False)
    objects = CouponQuerySet.as_manager()


class Wallet(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
"""
VIEWS = """\
from vendor_coupons.models import Coupon


async def coupons(request):
    user = await request.auser()
    mine = user.coupons.count()
    wallet = user.wallet
    first = Coupon.objects.get(pk=1)
    orders = user.orders.exists()
    groups = user.groups.count()
    return mine, wallet, first, orders, groups
"""


def registry_project(root: Path) -> tuple[Path, dict[str, str]]:
    project = root / "project"
    site = root / "lib" / "site-packages"
    write_tree(
        project,
        {
            "manage.py": MANAGE,
            "proj/__init__.py": "",
            "proj/settings.py": SETTINGS,
            "members/__init__.py": "",
            "members/models.py": "from django.contrib.auth.models import AbstractUser\n\n\n"
            "class Member(AbstractUser):\n    pass\n",
            "shop/__init__.py": "",
            "shop/models.py": "from django.conf import settings\nfrom django.db import models\n\n\n"
            "class Order(models.Model):\n"
            "    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, related_name='orders',\n"
            "                              on_delete=models.CASCADE)\n",
            "shop/views.py": VIEWS,
        },
    )
    write_tree(site, {"vendor_coupons/__init__.py": "", "vendor_coupons/models.py": VENDOR})
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "proj.settings",
        "PYTHONPATH": os.pathsep.join([str(site), str(project)]),
    }
    return project, env


def found(result: subprocess.CompletedProcess[str]) -> list[tuple[str, int, str]]:
    assert result.returncode in (0, 1), result.stderr
    data = json.loads(result.stdout)
    return [(f["path"], f["line"], f["code"]) for f in data["findings"]]


def test_manage_py_audit_async_knows_the_registry(tmp_path: Path) -> None:
    project, env = registry_project(tmp_path)
    options = ["--format", "json", "--no-cache", "--jobs", "1"]
    with_registry = subprocess.run(
        [sys.executable, "manage.py", "audit_async", *options],
        cwd=project, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    views = "shop/views.py"
    # every installed model (the vendor app's too), its reverse accessors and managers,
    # and the user model (members.Member) come from the registry
    assert found(with_registry) == [
        (views, 6, "AG201"),
        (views, 7, "AG202"),
        (views, 8, "AG201"),
        (views, 9, "AG201"),
        (views, 10, "AG201"),
    ]
    # the standalone front end knows only the files (and django.contrib's table): the
    # vendor app's models and accessors are out of its reach, and it stays silent there
    standalone = subprocess.run(
        [sys.executable, "-m", "async_guard", "check", "members", "shop", *options],
        cwd=project, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert found(standalone) == [(views, 9, "AG201"), (views, 10, "AG201")]
