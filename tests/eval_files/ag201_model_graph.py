# path: shop/models.py
# codes: AG201, AG202, AG301
"""Django's model graph: reverse and many-to-many managers, reverse one-to-ones,
custom managers and querysets, the user model, and every way code gets an instance."""
from asgiref.sync import sync_to_async
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import models
from django.http import HttpRequest


class OrderQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status="open")

    def big(self, amount):
        return self.open().filter(total__gte=amount)

    def total_value(self):
        return self.aggregate(models.Sum("total"))


class OrderManager(models.Manager):
    def recent(self):
        return self.get_queryset().order_by("-created")


class Order(models.Model):
    status = models.CharField(max_length=10)
    total = models.IntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)

    objects = OrderManager.from_queryset(OrderQuerySet)()
    catalog = OrderQuerySet.as_manager()
    archive = OrderManager()


class Line(models.Model):
    order = models.ForeignKey(Order, related_name="lines", on_delete=models.CASCADE)
    product = models.CharField(max_length=20)


class Note(models.Model):
    order = models.ForeignKey("shop.Order", on_delete=models.CASCADE)


class Tag(models.Model):
    orders = models.ManyToManyField(Order)


class Invoice(models.Model):
    order = models.OneToOneField(Order, on_delete=models.CASCADE)


class Profile(models.Model):
    user = models.OneToOneField("auth.User", related_name="profile", on_delete=models.CASCADE)


# --- reverse foreign keys and many-to-many managers ------------------------------


async def related_managers(pk):
    order = await Order.objects.aget(pk=pk)
    for line in order.lines.all():  # expect: AG201
        print(line.product)
    count = order.note_set.count()  # expect: AG201
    tagged = order.tag_set.exists()  # expect: AG201
    first = order.lines.first()  # expect: AG201
    rows = list(order.lines.filter(product="x"))  # expect: AG201
    size = len(order.note_set.all())  # expect: AG201
    has = first in order.lines.all()  # expect: AG201
    order.lines.acount()  # expect: AG301
    return count, tagged, rows, size, has


async def reverse_one_to_one(pk):
    order = await Order.objects.aget(pk=pk)
    return order.invoice  # expect: AG202


async def contrib_relations(pk):
    group = await Group.objects.aget(pk=pk)
    members = group.user_set.exists()  # expect: AG201
    perms = [p.codename for p in group.permissions.all()]  # expect: AG201
    permission = await Permission.objects.aget(pk=pk)
    kind = permission.content_type  # expect: AG202
    return members, perms, kind


# --- custom managers and querysets -------------------------------------------------


async def custom_managers():
    opened = list(Order.objects.open())  # expect: AG201
    big = Order.objects.big(100).count()  # expect: AG201
    for order in Order.catalog.open():  # expect: AG201
        print(order)
    recent = Order.archive.recent().first()  # expect: AG201
    chained = Order.objects.filter(total=1).open().exists()  # expect: AG201
    default = Order._default_manager.count()  # expect: AG201
    return opened, big, recent, chained, default


# --- instances, however the code got them ------------------------------------------


async def instances(pk):
    made = Order.objects.create(status="new")  # expect: AG201
    made.lines.count()  # expect: AG201
    order, created = Order.objects.get_or_create(pk=pk)  # expect: AG201
    order.note_set.count()  # expect: AG201
    other, _ = await Order.objects.aupdate_or_create(pk=pk)
    other.lines.count()  # expect: AG201
    fetched = await sync_to_async(Order.objects.get)(pk=pk)
    fetched.lines.count()  # expect: AG201
    new = await Order.objects.acreate(status="new")
    new.tag_set.count()  # expect: AG201
    async for each in Order.objects.all():
        each.lines.count()  # expect: AG201
    return created


async def annotated(order: Order):
    return order.lines.count()  # expect: AG201


async def lazy_queryset_from_a_thread():
    qs = await sync_to_async(Order.objects.filter)(status="open")
    return [order.pk for order in qs]  # expect: AG201


# --- the user model ------------------------------------------------------------------

User = get_user_model()


async def users(request: HttpRequest, pk):
    user = User.objects.get(pk=pk)  # expect: AG201
    names = [g.name for g in request.user.groups.all()]  # expect: AG201
    profile = request.user.profile  # expect: AG202
    me = await request.auser()
    mine = me.profile  # expect: AG202
    model = apps.get_model("shop", "Order")
    count = model.objects.count()  # expect: AG201
    same = apps.get_model("shop.Line").objects.count()  # expect: AG201
    return user, names, profile, mine, count, same
