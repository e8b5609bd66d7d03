from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="my_media", permanent=False), name="home"),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("", include("mediaspace.media_urls")),
    path("", include("rooms.urls")),
]

handler403 = "mediaspace.views.permission_denied"
