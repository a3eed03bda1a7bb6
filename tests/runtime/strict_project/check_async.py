"""Async tests: pytest-asyncio's, and async methods of a Django TestCase."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import Group
from django.test import TestCase
from shop import signup


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_good_async_orm():
    await sync_to_async(Group.objects.create)(name="g1")
    assert await Group.objects.filter(name="g1").aexists()


@pytest.mark.asyncio
async def test_bad_agr106_forgot_await():
    signup.fetch_quote()


@pytest.mark.asyncio
async def test_bad_agr102_async_loop_left_open():
    asyncio.new_event_loop()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_bad_agr108_sync_orm_in_async():
    Group.objects.create(name="g2")


class SignupCase(TestCase):
    async def test_good_async_method(self):
        await sync_to_async(Group.objects.create)(name="tc")
        self.assertTrue(await Group.objects.filter(name="tc").aexists())

    def test_good_sync_method(self):
        signup.signup_bridged("tc-sync")
        self.assertTrue(Group.objects.filter(name="tc-sync").exists())

    def test_bad_agr101_sync_method(self):
        signup.signup("tc-bad")

    async def test_bad_agr106_async_method(self):
        signup.fetch_quote()
