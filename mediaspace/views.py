from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from mediaspace.types import AuthenticatedHttpRequest


@require_GET
def my_media(request: AuthenticatedHttpRequest):
    """Show the entries the user owns or that are shared with them."""
    return render(request, "mediaspace/my_media.html", {})
