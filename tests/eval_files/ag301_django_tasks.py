# path: shop/views.py
from django.tasks import task


@task
def send_receipt(order_id):
    return order_id


async def checkout(request, order_id):
    send_receipt.aenqueue(order_id)  # expect: AG301
    result = await send_receipt.aenqueue(order_id)
    await send_receipt.aget_result(result.id)
    send_receipt.acall(order_id)  # expect: AG301
    return result


def checkout_sync(request, order_id):
    send_receipt.enqueue(order_id)


class Other:
    def aenqueue(self):
        return 1


async def not_a_task(request):
    Other().aenqueue()
