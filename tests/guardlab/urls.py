"""The lab's URLs under ``/guardlab/``, beside the reference project's (``/health/``)."""

from django.urls import include, path

from tests.guardlab import views

lab = [
    path("program/<str:name>/<str:variant>/<int:pk>/", views.run_program),
    # A tag of the caller's choosing makes every request's path, and so its unit, unique.
    path("program/<str:name>/<str:variant>/<int:pk>/<str:tag>/", views.run_program),
    path("async/sync-orm/bad/<int:pk>/", views.async_view_sync_orm),
    path("async/sync-orm/good/<int:pk>/", views.async_orm),
    path("async/async-to-sync/bad/<int:pk>/", views.async_view_async_to_sync),
    path("async/async-to-sync/good/<int:pk>/", views.async_view_await),
    path("async/apply-task/bad/<int:pk>/", views.async_view_apply_task),
    path("async/apply-task/good/<int:pk>/", views.async_view_apply_task_in_thread),
    path("sync/returns-coroutine/bad/<int:pk>/", views.sync_view_returns_coroutine),
    path("sync/returns-coroutine/good/<int:pk>/", views.sync_view_bridges_coroutine),
]

urlpatterns = [
    path("guardlab/", include(lab)),
    path("", include("settings.urls")),
]
