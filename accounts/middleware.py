"""Middleware for signed-in sessions: an idle timeout, and pages no cache keeps."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

LAST_SEEN = "_last_seen"
# A session notes its last request at most once a minute (a write to the session store):
# the idle timeout is exact to the minute, and a room polling every two seconds does not
# write the session thirty times a minute.
LAST_SEEN_STEP = 60


def idle_clock_start(sender: object, request: HttpRequest | None, **kwargs: object) -> None:
    """Start the idle clock at sign-in (connected to user_logged_in in AccountsConfig), so
    that the first page after it does not write the session again."""
    if request is not None and hasattr(request, "session"):
        request.session[LAST_SEEN] = int(time.time())


def idle_limit(user) -> int:
    """Return how many seconds this user's session may stay idle."""
    return settings.SESSION_STAFF_IDLE_SECONDS if user.is_staff else settings.SESSION_IDLE_SECONDS


class SessionIdleTimeoutMiddleware:
    """Sign out a session that made no request for longer than its idle limit."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            now = int(time.time())
            last_seen = request.session.get(LAST_SEEN)
            limit = idle_limit(user)
            if last_seen is not None and now - last_seen > limit:
                logout(request)
                messages.info(
                    request,
                    f"You were signed out after {limit // 60} minutes without activity. "
                    "Sign in again to go on.",
                )
                htmx = HtmxDetails(request)  # HtmxMiddleware comes later
                if htmx:
                    # A partial would land inside the page: send the whole page to sign in.
                    current = htmx.current_url_abs_path or "/"
                    return HttpResponseClientRedirect(redirect_to_login(current).url)
            elif last_seen is None or now - last_seen >= LAST_SEEN_STEP:
                request.session[LAST_SEEN] = now
        return self.get_response(request)


class PrivatePagesMiddleware:
    """Mark every response to a signed-in user `Cache-Control: private, no-store`.

    A shared computer's back button, a proxy or the browser's disk cache must not keep who
    has access to what, or a chat, after sign-out.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response
