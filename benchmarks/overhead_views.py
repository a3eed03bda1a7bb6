"""Views only the overhead benchmark serves: its children's ``ROOT_URLCONF``, beside the lab's."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import include, path


def select_20(request: HttpRequest) -> JsonResponse:
    """A view whose work is 20 trivial queries: the guard's per-query cost, times 20."""
    with connection.cursor() as cursor:
        for _ in range(20):
            cursor.execute("SELECT 1")
            cursor.fetchone()
    return JsonResponse({"ok": True})


urlpatterns = [
    path("bench/select-20/", select_20),
    path("", include("tests.guardlab.urls")),
]
