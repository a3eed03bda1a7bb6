from django.urls import path

from trading import views

urlpatterns = [
    path("health/", views.health, name="health"),
]
