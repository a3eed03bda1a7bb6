# path: trading/consumers.py
# codes: AG201, AG202
"""AG202: a ForeignKey/OneToOne read in ``async def`` that was not loaded with the instance."""
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import models


class Account(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    number = models.CharField(max_length=20)


class Profile(models.Model):
    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="profile")
    tags = models.ManyToManyField("Tag")


class Tag(models.Model):
    name = models.CharField(max_length=20)


class Position(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE)
    opened_by = models.ForeignKey("auth.User", null=True, on_delete=models.SET_NULL)
    symbol = models.CharField(max_length=10)


# --- account.user without select_related -----------------------------------------


async def fetched_without_select_related(pk):
    account = await Account.objects.aget(pk=pk)
    email = account.user.email  # expect: AG202
    return email


async def first_without_select_related():
    account = await Account.objects.filter(number="1").afirst()
    return account.user  # expect: AG202


async def wrapped_get(pk):
    position = await sync_to_async(Position.objects.get)(pk=pk)
    return position.account.number  # expect: AG202


async def wrong_relation_selected(pk):
    position = await Position.objects.select_related("opened_by").aget(pk=pk)
    return position.account  # expect: AG202


async def iterated():
    async for position in Position.objects.filter(symbol="QQQ"):
        print(position.account.number)  # expect: AG202


async def one_to_one(pk):
    profile = await Profile.objects.aget(pk=pk)
    return profile.account  # expect: AG202


# --- an instance passed to an async helper ----------------------------------------


async def parameter(position: Position):
    return position.account.number  # expect: AG202


async def optional_parameter(account: "Account | None"):
    return account.user if account else None  # expect: AG202


class Command:
    async def _async_work(self, position: Position):
        return position.opened_by  # expect: AG202


# --- clean counterparts -----------------------------------------------------------


async def select_related_before_access(pk):
    account = await Account.objects.select_related("user").aget(pk=pk)
    return account.user.email


async def select_related_all(pk):
    position = await Position.objects.select_related().aget(pk=pk)
    return position.account, position.opened_by


async def deeper_select_related(pk):
    position = await Position.objects.select_related("account__user").aget(pk=pk)
    return position.account.number


async def prefetch_related_before_access():
    async for position in Position.objects.prefetch_related("account"):
        print(position.account)


async def wrapped_select_related(pk):
    qs = Position.objects.select_related("account")
    position = await sync_to_async(qs.get)(pk=pk)
    return position.account


async def ids_and_plain_fields(pk):
    position = await Position.objects.aget(pk=pk)
    return position.account_id, position.symbol, position.pk


async def m2m_manager(pk):
    profile = await Profile.objects.aget(pk=pk)
    return [tag async for tag in profile.tags.all()]


async def assignment_is_not_a_read(pk, account):
    position = await Position.objects.aget(pk=pk)
    position.account = account
    await position.asave()


async def reassigned(pk):
    position = await Position.objects.aget(pk=pk)
    position = await Position.objects.select_related("account").aget(pk=position.pk)
    return position.account


async def relation_in_sync_helper(position: Position):
    def label():
        return position.account.number

    return await sync_to_async(label)()


def sync_code(position: Position):
    return position.account.number


async def unannotated(position):
    return position.account


async def not_a_model(obj: dict):
    return obj.account


class Order(models.Model):
    position = models.ForeignKey(Position, on_delete=models.CASCADE)

    async def describe(self):
        return self.position.symbol  # expect: AG202

    async def describe_id(self):
        return self.position_id

    def sync_describe(self):
        return self.position.symbol


from django.shortcuts import get_object_or_404


def sync_view_then_async_helper(request, pk):
    position = get_object_or_404(Position.objects.select_related("account"), pk=pk)
    return position.account


async def shortcut_in_async(pk):
    position = get_object_or_404(Position, pk=pk)  # expect: AG201
    return position.account  # expect: AG202


# --- lists of instances fetched through sync_to_async(list) or an async comprehension --


async def fetched_list():
    positions = await sync_to_async(list)(Position.objects.filter(symbol="QQQ"))
    for position in positions:
        print(position.account)  # expect: AG202
    rows = [p async for p in Position.objects.all()]
    return [row.opened_by for row in rows]  # expect: AG202


async def fetched_list_with_relation():
    positions = await sync_to_async(list)(Position.objects.select_related("account"))
    for position in positions:
        print(position.account)
    rows = [p async for p in Position.objects.select_related("opened_by")]
    names = [p.symbol async for p in Position.objects.all()]
    return [row.opened_by for row in rows], names
