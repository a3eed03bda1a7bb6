from django.urls import path

from tests.runtime import views

urlpatterns = [
    path("save-asyncio-run/", views.save_asyncio_run),
    path("save-async-to-sync/", views.save_async_to_sync),
    path("sync-orm/", views.sync_orm),
    path("sync-orm-in-async-def/", views.sync_orm_in_async_def),
    path("returns-coroutine/", views.returns_coroutine),
    path("loop-left-open/", views.loop_left_open),
    path("async-orm/", views.async_orm),
    path("nested-loop/", views.nested_loop_touching_orm),
    path("save-thread-insensitive/", views.save_thread_insensitive),
]
