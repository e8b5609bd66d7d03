from __future__ import annotations

from django.urls import path

from rooms import views

urlpatterns = [
    path("rooms/new/", views.room_create, name="room_create"),
    path("media/<int:entry_id>/roles/moderators/add/", views.moderators_add, name="moderators_add"),
]
