"""Models of the reference trading project: accounts, positions and their trades."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class TradingAccount(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="trading_accounts"
    )
    account_number = models.CharField(max_length=32)
    is_primary = models.BooleanField(default=False)
    # OAuth refresh token for this account's login: a credential, never logged.
    refresh_token = models.TextField(blank=True, default="")
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "account_number"], name="unique_account_per_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_number} ({'primary' if self.is_primary else 'secondary'})"


class Position(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSING = "closing", "Closing"
        CLOSED = "closed", "Closed"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="positions"
    )
    account = models.ForeignKey(TradingAccount, on_delete=models.PROTECT, related_name="positions")
    symbol = models.CharField(max_length=16)
    strategy = models.CharField(max_length=32, default="call_spread")
    # [{"symbol": "...", "action": "Sell to Open", "quantity": 1}, ...]
    legs = models.JSONField(default=list)
    quantity = models.PositiveIntegerField(default=1)
    opening_credit = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    profit_target_details = models.JSONField(default=dict, blank=True)
    child_order_ids = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Position {self.pk} {self.symbol} {self.strategy} ({self.status})"


class Trade(models.Model):
    class Kind(models.TextChoices):
        OPEN = "open", "Open"
        CLOSE = "close", "Close"
        PROFIT_TARGET = "profit_target", "Profit target"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        LIVE = "live", "Live"
        FILLED = "filled", "Filled"
        CANCELLED = "cancelled", "Cancelled"
        REJECTED = "rejected", "Rejected"

    position = models.ForeignKey(Position, on_delete=models.CASCADE, related_name="trades")
    broker_order_id = models.CharField(max_length=64, blank=True, default="")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    quantity = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Trade {self.pk} {self.kind} {self.broker_order_id or '-'} ({self.status})"
