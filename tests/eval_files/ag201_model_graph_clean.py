# path: shop/models.py
# codes: AG201, AG202, AG301
"""Django's model graph, used the async way or where no query runs: no finding."""
from asgiref.sync import sync_to_async
from django.db import models
from django.db.models import Prefetch


class OrderQuerySet(models.QuerySet):
    def total_value(self):
        return self.aggregate(models.Sum("total"))

    def label(self):
        return "orders"


class Order(models.Model):
    total = models.IntegerField(default=0)
    objects = OrderQuerySet.as_manager()


class Line(models.Model):
    order = models.ForeignKey(Order, related_name="lines", on_delete=models.CASCADE)


class Hidden(models.Model):
    order = models.ForeignKey(Order, related_name="+", on_delete=models.CASCADE)


class Widget(models.Model):
    order = models.ForeignKey(Order, related_query_name="item", on_delete=models.CASCADE)


class Invoice(models.Model):
    order = models.OneToOneField(Order, on_delete=models.CASCADE)


class Owned(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)

    class Meta:
        abstract = True


async def prefetched(pk):
    order = await Order.objects.prefetch_related("lines").aget(pk=pk)
    for line in order.lines.all():
        print(line)
    count = order.lines.count()
    some = order.lines.exists()
    orders = Order.objects.prefetch_related(Prefetch("lines"))
    async for each in orders:
        print(len(each.lines.all()))
    return count, some


async def selected(pk):
    order = await Order.objects.select_related("invoice").aget(pk=pk)
    return order.invoice


async def the_async_way(pk):
    order = await Order.objects.aget(pk=pk)
    count = await order.lines.acount()
    async for line in order.lines.all():
        print(line)
    rows = await sync_to_async(list)(order.widget_set.all())
    return count, rows


async def not_accessors(pk):
    order = await Order.objects.aget(pk=pk)
    # "+" hides the accessor, related_query_name names no attribute, and an abstract
    # model's accessor is named after each concrete child: none of these is known
    return order.hidden_set, order.item, order.owned_set


async def methods_that_return_no_queryset():
    label = Order.objects.label()
    return label, len(label)


async def evaluated_in_a_thread_then_read():
    qs = Order.objects.filter(total__gt=0)
    rows = await sync_to_async(list)(qs)
    return rows, len(qs), [o.pk for o in qs], qs.count()


async def made_here(pk):
    order, created = await Order.objects.aget_or_create(pk=pk)
    return order.pk, created


async def views_user(request):
    user = await request.auser()
    return request.user.is_authenticated, request.user.pk, user.username


def sync_code(order: Order):
    return list(order.lines.all()), order.invoice
