"""Models known only from the app registry (``manage.py audit_async``): Django's own
``User`` and the reference project's models, with their relation fields, make the
ORM rules fire in a tree that contains none of the model classes."""

from __future__ import annotations

import textwrap
from pathlib import Path

from async_guard.audit.config import Config
from async_guard.audit.runner import audit_paths
from async_guard.management.commands.audit_async import registry_facts

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
    # Without the registry none of these classes is known to be a model: silence.
    assert audit(tmp_path, base) == []
    with_registry = base.merged(**registry_facts())
    assert audit(tmp_path, with_registry) == [
        (8, "AG201", "error"),
        (10, "AG202", "error"),
        (12, "AG202", "warning"),
    ]
