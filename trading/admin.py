from django.contrib import admin

from trading.models import Position, Trade, TradingAccount


@admin.register(TradingAccount)
class TradingAccountAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("account_number", "user", "is_primary", "is_active")
    # The refresh token is a credential: never shown in the admin.
    exclude = ("refresh_token",)


@admin.register(Position)
class PositionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("id", "user", "symbol", "strategy", "status", "quantity", "opening_credit")
    list_filter = ("status", "strategy")
    list_select_related = ("user",)


@admin.register(Trade)
class TradeAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("id", "position", "kind", "status", "broker_order_id", "price", "quantity")
    list_filter = ("kind", "status")
