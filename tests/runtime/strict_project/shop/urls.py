from django.urls import path

from shop import views

urlpatterns = [
    path("groups/", views.groups),
    path("join/", views.join),
]
