from __future__ import annotations

from django.urls import path

from mediaspace import views

urlpatterns = [
    path("my-media/", views.my_media, name="my_media"),
    path("media/<id:entry_id>/", views.media_detail, name="media_detail"),
    path("media/<id:entry_id>/edit/", views.media_edit, name="media_edit"),
    path("media/<id:entry_id>/edit/roles/", views.media_roles, name="media_roles"),
    path("media/<id:entry_id>/status/", views.media_status, name="media_status"),
    path("media/<id:entry_id>/delete/", views.media_delete, name="media_delete"),
    path(
        "media/<id:entry_id>/roles/suggest/",
        views.principals_suggest,
        name="principals_suggest",
    ),
    path(
        "media/<id:entry_id>/roles/collaborators/add/",
        views.collaborators_add,
        name="collaborators_add",
    ),
    path(
        "media/<id:entry_id>/roles/moderators/add/",
        views.moderators_add,
        name="moderators_add",
    ),
    path("media/<id:entry_id>/roles/check/", views.access_check, name="access_check"),
    path("media/<id:entry_id>/roles/activity/", views.access_activity, name="access_activity"),
    path("media/<id:entry_id>/roles/copy/", views.access_copy, name="access_copy"),
    path(
        "media/<id:entry_id>/roles/transfer/", views.ownership_transfer, name="ownership_transfer"
    ),
    path("media/<id:entry_id>/roles/why/<id:user_id>/", views.access_why, name="access_why"),
    path(
        "media/<id:entry_id>/roles/<str:kind>/<id:principal_id>/edit/",
        views.access_edit,
        name="access_edit",
    ),
    path(
        "media/<id:entry_id>/roles/<str:kind>/<id:principal_id>/remove/",
        views.access_remove,
        name="access_remove",
    ),
]
