from __future__ import annotations

from django.urls import path

from mediaspace import views

urlpatterns = [
    path("my-media/", views.my_media, name="my_media"),
]
