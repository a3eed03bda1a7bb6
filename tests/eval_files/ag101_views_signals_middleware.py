# path: shop/views.py
# codes: AG101
import asyncio

from django.db import models
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils.deprecation import MiddlewareMixin
from django.views import View
from django.views.decorators.http import require_POST
from rest_framework.decorators import api_view


async def notify(order_id):
    return order_id


def order_detail(request, pk):
    asyncio.run(notify(pk))  # expect: AG101
    return None


@require_POST
def pay(req, pk):
    asyncio.run(notify(pk))  # expect: AG101


@api_view(["GET"])
def api_orders(req):
    asyncio.run(notify(1))  # expect: AG101


class OrderView(View):
    def get(self, request):
        return asyncio.run(notify(1))  # expect: AG101


@receiver(post_save)
def on_save(sender, instance, **kwargs):
    asyncio.run(notify(instance.pk))  # expect: AG101


def connected_handler(sender, **kwargs):
    asyncio.run(notify(0))  # expect: AG101


post_save.connect(connected_handler)


class AuditMiddleware(MiddlewareMixin):
    def process_request(self, request):
        asyncio.run(notify(0))  # expect: AG101


class TimingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        asyncio.run(notify(0))  # expect: AG101
        return self.get_response(request)


class Order(models.Model):
    def refresh_remote(self):
        asyncio.run(notify(self.pk))  # expect: AG101


async def async_view(request):
    # inside async def this is AG104, not AG101
    await notify(1)


def helper_without_request(pk):
    # a views.py function that does not take `request` and nothing reaches it
    asyncio.run(notify(pk))
