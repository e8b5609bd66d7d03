"""The site's URLs plus the benchmark's floor page; only `manage.py bench` uses this."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from mediaspace.urls import urlpatterns as site_urlpatterns


@require_GET
def floor(request: HttpRequest) -> HttpResponse:
    """Render the bare base template for a signed-in user: the cheapest real page."""
    return render(request, "bench/floor.html")


urlpatterns = [
    path("_bench/floor/", floor, name="bench_floor"),
    *site_urlpatterns,
]
