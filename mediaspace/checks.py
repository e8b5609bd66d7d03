"""System checks for settings a deployment can get wrong without failing to start."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]", "testserver"}


@register(Tags.security)
def check_production_mode(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """Warn when a server for other hosts runs without production mode (HTTPS only)."""
    if settings.PRODUCTION or settings.DEBUG:
        return []
    public = [host for host in settings.ALLOWED_HOSTS if host not in LOCAL_HOSTS]
    if not public:
        return []
    return [
        Warning(
            f"MediaSpace serves {', '.join(public)} without production mode: session and "
            "CSRF cookies are not marked Secure, there is no HSTS and no redirect to HTTPS.",
            hint="Behind TLS, set MEDIASPACE_PRODUCTION=1 (see the README's production "
            "checklist). A demo on a local network over plain HTTP may ignore this.",
            id="mediaspace.W001",
        )
    ]
