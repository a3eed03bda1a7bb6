"""The code the audit benchmark and the skip-safety tests run on.

Two kinds of tree:

- ``real_corpus(dest)``: code nobody here wrote, the release wheels of Django,
  Celery, kombu, asgiref and channels at pinned versions, downloaded once with pip
  into ``benchmarks/.corpus/wheels/`` (gitignored, reused) and unzipped (their
  ``.py`` files) into ``dest/<dist>-<version>/``.
- ``generated_tree(dest, files)`` and ``generated_module(path, lines)``: synthetic
  but realistic Django projects (models, views, tasks, admin, forms, services),
  mostly sync with some async code and a few planted bugs, deterministic for a
  given size, for the scale measurements.

Both trees get a ``pyproject.toml`` with empty ``[tool.async_guard]`` and
``[tool.ruff]`` tables at their root so neither tool picks up the configuration
of a repository the tree happens to sit in (this repository excludes
``benchmarks/*`` from its own audit).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from string import Template

#: Distribution -> pinned version: the benchmark corpus is the same code on every run.
WHEELS: dict[str, str] = {
    "django": "5.2.19",
    "celery": "5.7.0",
    "kombu": "5.7.0",
    "asgiref": "3.13.0",
    "channels": "4.3.2",
}

WHEEL_CACHE = Path(__file__).resolve().parent / ".corpus" / "wheels"

ISOLATING_PYPROJECT = """\
# Written by benchmarks/corpus.py: roots the audit's and ruff's configuration here.
[tool.async_guard]

[tool.ruff]
"""


class CorpusUnavailableError(RuntimeError):
    """The wheels are neither cached nor downloadable (no network or no registry)."""


def _wheel_path(cache: Path, dist: str, version: str) -> Path | None:
    for wheel in cache.glob("*.whl"):
        name, _, rest = wheel.name.partition("-")
        if name.lower().replace("_", "-") == dist and rest.startswith(f"{version}-"):
            return wheel
    return None


def download_wheels(cache: Path = WHEEL_CACHE) -> dict[str, Path]:
    """The pinned wheels, downloaded with pip unless already in ``cache``."""
    cache.mkdir(parents=True, exist_ok=True)
    missing = [d for d, v in WHEELS.items() if _wheel_path(cache, d, v) is None]
    if missing:
        pins = [f"{dist}=={WHEELS[dist]}" for dist in missing]
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
        command += ["--disable-pip-version-check", "-q", "-d", str(cache), *pins]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired as exc:
            raise CorpusUnavailableError(f"pip download {' '.join(pins)} timed out") from exc
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise CorpusUnavailableError(f"pip download {' '.join(pins)} failed: {last}")
    wheels = {d: _wheel_path(cache, d, v) for d, v in WHEELS.items()}
    lost = [d for d, w in wheels.items() if w is None]
    if lost:
        raise CorpusUnavailableError(f"pip reported success but no wheel for {lost} in {cache}")
    return {d: w for d, w in wheels.items() if w is not None}


def real_corpus(dest: Path, cache: Path = WHEEL_CACHE) -> Path:
    """Unzip the ``.py`` files of the pinned wheels into ``dest``; return ``dest``.

    A distribution already unzipped there (its folder exists) is kept as it is.
    Each one is unzipped into a temporary sibling folder first and renamed into
    place, so an interrupted run never leaves a half-extracted package behind.
    """
    dest.mkdir(parents=True, exist_ok=True)
    _write_isolating_pyproject(dest)
    for dist, wheel in download_wheels(cache).items():
        target = dest / f"{dist}-{WHEELS[dist]}"
        if target.is_dir():
            continue
        partial = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=dest))
        try:
            with zipfile.ZipFile(wheel) as archive:
                for member in archive.namelist():
                    if member.endswith(".py"):
                        archive.extract(member, partial)
            partial.rename(target)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    return dest


def _write_isolating_pyproject(root: Path) -> None:
    pyproject = root / "pyproject.toml"
    if not pyproject.exists():
        pyproject.write_text(ISOLATING_PYPROJECT, encoding="utf-8")


def count_lines(root: Path) -> tuple[int, int]:
    """(files, lines) of the ``.py`` files under ``root``."""
    files = lines = 0
    for path in root.rglob("*.py"):
        files += 1
        with path.open("rb") as handle:
            lines += sum(1 for _ in handle)
    return files, lines


# ---------------------------------------------------------------------------
# Generated Django-like code. Each template is one module of a Django app;
# ``$n`` makes every name unique per app, ``$app`` is the app's package name.
# Most modules are plain sync Django; ``async_views`` and ``clients`` hold the
# async code an application with an async SDK integration really has, written
# the correct way (aget, sync_to_async, async_to_sync in tasks).

_MODELS = Template('''\
"""Models of the $app app."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone


class Account$n(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    number = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=120, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["number"]
        indexes = [models.Index(fields=["owner", "is_active"])]

    def __str__(self) -> str:
        return f"{self.number} ({self.name})"

    def deactivate(self) -> None:
        self.is_active = False
        self.save(update_fields=["is_active"])


class PositionQuerySet$n(models.QuerySet):
    def open(self):
        return self.filter(quantity__gt=0)

    def for_symbol(self, symbol: str):
        return self.filter(symbol__iexact=symbol)

    def total_value(self) -> Decimal:
        total = Decimal("0")
        for position in self.select_related("account"):
            total += position.market_value()
        return total


class Position$n(models.Model):
    account = models.ForeignKey(Account$n, related_name="positions", on_delete=models.CASCADE)
    symbol = models.CharField(max_length=16)
    quantity = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    average_price = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    last_price = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PositionQuerySet$n.as_manager()

    class Meta:
        unique_together = [("account", "symbol")]

    def __str__(self) -> str:
        return f"{self.symbol} x {self.quantity}"

    def market_value(self) -> Decimal:
        price = self.last_price if self.last_price is not None else self.average_price
        return self.quantity * price

    def apply_fill(self, quantity: Decimal, price: Decimal) -> None:
        new_quantity = self.quantity + quantity
        if new_quantity:
            cost = self.quantity * self.average_price + quantity * price
            self.average_price = cost / new_quantity
        self.quantity = new_quantity
        self.save()


class Order$n(models.Model):
    class Status(models.TextChoices):
        NEW = "new"
        FILLED = "filled"
        CANCELLED = "cancelled"

    account = models.ForeignKey(Account$n, related_name="orders", on_delete=models.CASCADE)
    symbol = models.CharField(max_length=16)
    quantity = models.DecimalField(max_digits=18, decimal_places=4)
    limit_price = models.DecimalField(max_digits=18, decimal_places=4, null=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW)
    broker_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.symbol} {self.quantity} @ {self.limit_price}"

    def cancel(self) -> None:
        if self.status == self.Status.NEW:
            self.status = self.Status.CANCELLED
            self.save(update_fields=["status"])
''')

_VIEWS = Template('''\
"""Views of the $app app (sync: the bulk of a real project)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import DetailView, ListView

from .forms import OrderForm$n
from .models import Account$n, Order$n, Position$n


@login_required
@require_GET
def account_list(request: HttpRequest) -> HttpResponse:
    accounts = Account$n.objects.filter(owner=request.user, is_active=True)
    paginator = Paginator(accounts, 25)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "$app/account_list.html", {"page": page})


@login_required
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account$n, pk=pk, owner=request.user)
    positions = account.positions.open().order_by("symbol")
    context = {"account": account, "positions": positions, "value": positions.total_value()}
    return render(request, "$app/account_detail.html", context)


@login_required
@require_POST
def place_order(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account$n, pk=pk, owner=request.user)
    form = OrderForm$n(request.POST)
    if not form.is_valid():
        return render(request, "$app/order_form.html", {"form": form}, status=400)
    with transaction.atomic():
        order = form.save(commit=False)
        order.account = account
        order.save()
    return redirect("$app:order-detail", pk=order.pk)


@login_required
@require_GET
def positions_json(request: HttpRequest, pk: int) -> JsonResponse:
    account = get_object_or_404(Account$n, pk=pk, owner=request.user)
    data = [
        {"symbol": p.symbol, "quantity": str(p.quantity), "value": str(p.market_value())}
        for p in Position$n.objects.filter(account=account).open()
    ]
    return JsonResponse({"positions": data})


class OrderListView$n(ListView):
    model = Order$n
    paginate_by = 50
    template_name = "$app/order_list.html"

    def get_queryset(self):
        queryset = super().get_queryset().select_related("account")
        status = self.request.GET.get("status")
        if status:
            queryset = queryset.filter(status=status)
        return queryset.filter(account__owner=self.request.user)


class OrderDetailView$n(DetailView):
    model = Order$n
    template_name = "$app/order_detail.html"

    def get_queryset(self):
        return super().get_queryset().filter(account__owner=self.request.user)

    def post(self, request, *args, **kwargs):
        order = self.get_object()
        order.cancel()
        return redirect("$app:order-detail", pk=order.pk)
''')

_ASYNC_VIEWS = Template('''\
"""Async views of the $app app: the async ORM API and sync_to_async, done right."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.http import HttpRequest, JsonResponse

from .clients import QuoteClient$n
from .models import Account$n, Order$n, Position$n
from .selectors import open_positions_for


async def account_summary(request: HttpRequest, pk: int) -> JsonResponse:
    account = await Account$n.objects.select_related("owner").aget(pk=pk)
    positions = await sync_to_async(open_positions_for)(account.pk)
    count = await Order$n.objects.filter(account_id=account.pk).acount()
    return JsonResponse(
        {
            "account": account.number,
            "owner": account.owner.get_username(),
            "positions": positions,
            "orders": count,
        }
    )


async def refresh_quotes(request: HttpRequest, pk: int) -> JsonResponse:
    client = QuoteClient$n()
    symbols = [p.symbol async for p in Position$n.objects.filter(account_id=pk)]
    quotes = await client.quotes(symbols)
    updated = 0
    async for position in Position$n.objects.filter(account_id=pk, symbol__in=quotes):
        position.last_price = quotes[position.symbol]
        await position.asave(update_fields=["last_price"])
        updated += 1
    return JsonResponse({"updated": updated})


async def order_status(request: HttpRequest, pk: int) -> JsonResponse:
    order = await Order$n.objects.select_related("account").aget(pk=pk)
    return JsonResponse({"status": order.status, "account": order.account.number})
''')

# A planted bug (sync ORM call inside async def): one app in fifty has it, so the
# scaled trees have findings in proportion to their size.
_ASYNC_VIEWS_BUG = Template("""\


async def order_total(request: HttpRequest, pk: int) -> JsonResponse:
    order = Order$n.objects.get(pk=pk)
    return JsonResponse({"total": str(order.quantity * (order.limit_price or 0))})
""")

_CLIENTS = Template('''\
"""An async SDK client of the $app app, with the sync twin Celery tasks use."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from urllib.parse import urlencode

from asgiref.sync import async_to_sync


class QuoteError$n(Exception):
    pass


class QuoteClient$n:
    base_url = "https://quotes.example.invalid"

    def __init__(self, timeout: float = 5.0) -> None:
        self.timeout = timeout

    async def _get(self, path: str, params: dict[str, str]) -> dict:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("quotes.example.invalid", 443, ssl=True), self.timeout
        )
        try:
            writer.write(f"GET {path}?{urlencode(params)} HTTP/1.0\\r\\n\\r\\n".encode())
            await writer.drain()
            body = await asyncio.wait_for(reader.read(), self.timeout)
        finally:
            writer.close()
            await writer.wait_closed()
        return json.loads(body.split(b"\\r\\n\\r\\n", 1)[1])

    async def quotes(self, symbols: list[str]) -> dict[str, Decimal]:
        if not symbols:
            return {}
        data = await self._get("/v1/quotes", {"symbols": ",".join(symbols)})
        return {item["symbol"]: Decimal(item["last"]) for item in data.get("quotes", [])}

    async def submit(self, symbol: str, quantity: Decimal) -> str:
        data = await self._get("/v1/orders", {"symbol": symbol, "quantity": str(quantity)})
        if "id" not in data:
            raise QuoteError$n(data.get("error", "no order id"))
        return str(data["id"])


def quotes_sync(symbols: list[str]) -> dict[str, Decimal]:
    return async_to_sync(QuoteClient$n().quotes)(symbols)


def submit_sync(symbol: str, quantity: Decimal) -> str:
    return async_to_sync(QuoteClient$n().submit)(symbol, quantity)
''')

_TASKS = Template('''\
"""Celery tasks of the $app app: sync tasks that bridge to the async client."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction

from .clients import quotes_sync, submit_sync
from .models import Order$n, Position$n

logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=3)
def submit_order(self, order_id: int) -> str:
    with transaction.atomic():
        order = Order$n.objects.select_for_update().get(pk=order_id)
        if order.status != Order$n.Status.NEW:
            return order.status
        order.broker_id = submit_sync(order.symbol, order.quantity)
        order.save(update_fields=["broker_id"])
    logger.info("submitted order %s as %s", order.pk, order.broker_id)
    return order.broker_id


@shared_task
def refresh_prices(account_id: int) -> int:
    positions = list(Position$n.objects.filter(account_id=account_id).open())
    quotes = quotes_sync([p.symbol for p in positions])
    for position in positions:
        if position.symbol in quotes:
            position.last_price = quotes[position.symbol]
    Position$n.objects.bulk_update(positions, ["last_price"])
    return len(positions)


@shared_task
def cancel_stale_orders(days: int = 3) -> int:
    from datetime import timedelta

    from django.utils import timezone

    cutoff = timezone.now() - timedelta(days=days)
    stale = Order$n.objects.filter(status=Order$n.Status.NEW, created_at__lt=cutoff)
    return stale.update(status=Order$n.Status.CANCELLED)
''')

_ADMIN = Template('''\
"""Admin of the $app app."""

from __future__ import annotations

from django.contrib import admin

from .models import Account$n, Order$n, Position$n


class PositionInline$n(admin.TabularInline):
    model = Position$n
    extra = 0
    readonly_fields = ("updated_at",)


@admin.register(Account$n)
class AccountAdmin$n(admin.ModelAdmin):
    list_display = ("number", "name", "owner", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("number", "name", "owner__username")
    inlines = [PositionInline$n]
    actions = ["deactivate"]

    @admin.action(description="Deactivate selected accounts")
    def deactivate(self, request, queryset):
        updated = queryset.update(is_active=False)
        self.message_user(request, f"{updated} accounts deactivated")


@admin.register(Order$n)
class OrderAdmin$n(admin.ModelAdmin):
    list_display = ("symbol", "quantity", "limit_price", "status", "account", "created_at")
    list_filter = ("status",)
    list_select_related = ("account",)
    date_hierarchy = "created_at"
    search_fields = ("symbol", "broker_id")
''')

_FORMS = Template('''\
"""Forms of the $app app."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from .models import Order$n


class OrderForm$n(forms.ModelForm):
    class Meta:
        model = Order$n
        fields = ["symbol", "quantity", "limit_price"]

    def clean_symbol(self) -> str:
        symbol = self.cleaned_data["symbol"].strip().upper()
        if not symbol.isalnum():
            raise ValidationError("A symbol is letters and digits only.")
        return symbol

    def clean_quantity(self) -> Decimal:
        quantity = self.cleaned_data["quantity"]
        if quantity == 0:
            raise ValidationError("The quantity cannot be zero.")
        return quantity

    def clean(self):
        cleaned = super().clean()
        price = cleaned.get("limit_price")
        if price is not None and price <= 0:
            self.add_error("limit_price", "A limit price must be positive.")
        return cleaned
''')

_SELECTORS = Template('''\
"""Read-only queries of the $app app, shared by views, tasks and the API."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, F, Sum

from .models import Account$n, Order$n, Position$n


def open_positions_for(account_id: int) -> list[dict[str, str]]:
    rows = Position$n.objects.filter(account_id=account_id).open().order_by("symbol")
    return [{"symbol": row.symbol, "quantity": str(row.quantity)} for row in rows]


def exposure_by_symbol(owner_id: int) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    rows = (
        Position$n.objects.filter(account__owner_id=owner_id)
        .values("symbol")
        .annotate(value=Sum(F("quantity") * F("average_price")))
    )
    for row in rows:
        totals[row["symbol"]] += row["value"] or Decimal("0")
    return dict(totals)


def busiest_accounts(limit: int = 10):
    return (
        Account$n.objects.annotate(order_count=Count("orders"))
        .filter(order_count__gt=0)
        .order_by("-order_count")[:limit]
    )


def pending_orders(account_id: int):
    return Order$n.objects.filter(account_id=account_id, status=Order$n.Status.NEW)
''')

_URLS = Template('''\
"""URLs of the $app app."""

from django.urls import path

from . import async_views, views

app_name = "$app"

urlpatterns = [
    path("", views.account_list, name="account-list"),
    path("<int:pk>/", views.account_detail, name="account-detail"),
    path("<int:pk>/order/", views.place_order, name="place-order"),
    path("<int:pk>/positions.json", views.positions_json, name="positions-json"),
    path("<int:pk>/summary/", async_views.account_summary, name="account-summary"),
    path("<int:pk>/refresh/", async_views.refresh_quotes, name="refresh-quotes"),
    path("orders/", views.OrderListView$n.as_view(), name="order-list"),
    path("orders/<int:pk>/", views.OrderDetailView$n.as_view(), name="order-detail"),
    path("orders/<int:pk>/status/", async_views.order_status, name="order-status"),
]
''')

_APPS = Template("""\
from django.apps import AppConfig


class Config$n(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "project.$app"
""")

#: The modules of one generated app, in order: 10 files, 2 of them with async code.
APP_MODULES: tuple[tuple[str, Template], ...] = (
    ("apps.py", _APPS),
    ("models.py", _MODELS),
    ("views.py", _VIEWS),
    ("async_views.py", _ASYNC_VIEWS),
    ("clients.py", _CLIENTS),
    ("tasks.py", _TASKS),
    ("admin.py", _ADMIN),
    ("forms.py", _FORMS),
    ("selectors.py", _SELECTORS),
    ("urls.py", _URLS),
)
BUG_EVERY = 50  # apps; the n-th app with n % BUG_EVERY == 0 gets the planted bug


def generated_tree(dest: Path, files: int) -> Path:
    """A Django project of ``files`` modules (apps of 10, plus ``__init__.py`` files).

    ``files`` counts every ``.py`` file written: each app is an ``__init__.py``
    plus the modules of ``APP_MODULES`` (11 files); the last app is cut short to
    hit the count exactly. Same size, same tree.
    """
    dest.mkdir(parents=True, exist_ok=True)
    _write_isolating_pyproject(dest)
    project = dest / "project"
    project.mkdir(exist_ok=True)
    (project / "__init__.py").write_text("", encoding="utf-8")
    written, n = 1, 0
    while written < files:
        app = f"app{n:05d}"
        folder = project / app
        folder.mkdir(exist_ok=True)
        (folder / "__init__.py").write_text("", encoding="utf-8")
        written += 1
        for name, template in APP_MODULES:
            if written >= files:
                break
            text = template.substitute(n=n, app=app)
            if name == "async_views.py" and n % BUG_EVERY == 0:
                text += _ASYNC_VIEWS_BUG.substitute(n=n, app=app)
            (folder / name).write_text(text, encoding="utf-8")
            written += 1
        n += 1
    return dest


def generated_module(path: Path, lines: int) -> Path:
    """One module of at least ``lines`` lines: the app templates, renamed per block.

    The blocks are one app's modules concatenated with unique class names, their
    imports hoisted to the top as a real big module has them.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_isolating_pyproject(path.parent)
    imports: dict[str, None] = {"from __future__ import annotations": None}
    bodies: list[str] = []
    total, n = 0, 0
    while total < lines:
        for name, template in APP_MODULES[1:]:
            text = template.substitute(n=n, app=f"app{n:05d}")
            if name == "async_views.py" and n % BUG_EVERY == 0:
                text += _ASYNC_VIEWS_BUG.substitute(n=n, app=f"app{n:05d}")
            body = []
            for line in text.splitlines():
                stripped = line.strip()
                is_import = line.startswith(("import ", "from ")) and "(" not in line
                if is_import and not line.startswith("from ."):
                    imports[stripped] = None
                elif not line.startswith("from .") and not line.startswith('"""'):
                    body.append(line)
            bodies.append("\n".join(body))
            total += len(body)
        n += 1
    text = '"""One big generated module."""\n\n' + "\n".join(imports) + "\n\n"
    text += "\n\n".join(bodies) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


#: Every finding the audit reports on the pinned wheels, (path, code, line) -> why
#: it is a real bug. ``audit_speed.py`` prints a finding missing here as UNREVIEWED.
VERDICTS: dict[tuple[str, str, int], str] = {}
