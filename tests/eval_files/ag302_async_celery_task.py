# path: apps/billing/tasks.py
"""AG302: a Celery task defined ``async def``."""
import celery
from asgiref.sync import async_to_sync
from celery import Celery, Task, shared_task
from celery import shared_task as st

app = Celery("billing")


@shared_task
async def charge_customers():  # expect: AG302
    return None


@shared_task(bind=True, max_retries=3)
async def charge_one(self, pk):  # expect: AG302
    return pk


@app.task
async def refund():  # expect: AG302
    return None


@app.task(name="billing.invoice")
async def invoice():  # expect: AG302
    return None


@celery.shared_task
async def aliased_module():  # expect: AG302
    return None


@st
async def aliased_name():  # expect: AG302
    return None


class SyncInvoices(Task):
    async def run(self, *args, **kwargs):  # expect: AG302
        return None


class SyncOnAppTask(app.Task):
    async def run(self):  # expect: AG302
        return None


class SyncThroughProjectBase(SyncInvoices):
    async def run(self):  # expect: AG302
        return None


# --- clean counterparts -----------------------------------------------------------


async def _charge(pk):
    return pk


@shared_task
def charge_sync(pk):
    return async_to_sync(_charge)(pk)


@app.task(bind=True)
def invoice_sync(self):
    return None


class SyncTask(Task):
    def run(self):
        return None

    async def helper(self):
        return None


class NotATask:
    async def run(self):
        return None


def task(fn):
    return fn


@task
async def local_decorator_named_task():
    return None


class Receiver:
    async def task(self):
        return None


import dramatiq


@dramatiq.actor
async def dramatiq_awaits_async_actors():
    return None


@dramatiq.actor(max_retries=3)
async def dramatiq_with_options():
    return None
