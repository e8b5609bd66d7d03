"""Throttled sign-in: django-axes, told where the client is and how to answer a lockout.

Axes' backend comes first in AUTHENTICATION_BACKENDS, so a locked-out attempt is refused
before Django's backend hashes the password. The refusal is the sign-in page (the
admin's, for the admin) with a message saying when to try again, the same whether or
not the username exists.
"""

from __future__ import annotations

import math
from datetime import datetime

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off, get_credentials
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Max, QuerySet, Sum
from django.forms.utils import ErrorDict
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.forms import SignInForm


def client_address(request: HttpRequest) -> str:
    """Return the client's address: REMOTE_ADDR, or the one the last trusted proxy saw.

    Each proxy appends the address it received the request from to X-Forwarded-For, so
    with N trusted proxies the client is the N-th address from the right; anything left of
    it was sent by the client and proves nothing. With no trusted proxy the header is
    ignored: a client could otherwise pick a fresh address for every attempt.
    """
    proxies = settings.TRUSTED_PROXIES
    if proxies:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


class SignInHandler(AxesDatabaseHandler):
    """Axes' database handler, plus a ceiling on failures from one address.

    Lockouts are per username and address (or per username, as the operator chooses); an
    address that fails SIGN_IN_ADDRESS_FAILURES times within the cool-off, whatever the
    usernames it tries, is refused as well, so that no one keeps the server hashing.
    """

    def is_locked(self, request: HttpRequest, credentials: dict | None = None) -> bool:
        return super().is_locked(request, credentials) or (
            address_failures(request) >= settings.SIGN_IN_ADDRESS_FAILURES
        )


def _address_attempts(request: HttpRequest) -> QuerySet[AccessAttempt]:
    """Return the attempts from the request's address that still count (the cool-off)."""
    cool_off = get_cool_off(request)
    assert cool_off is not None  # settings.AXES_COOLOFF_TIME is always set
    return AccessAttempt.objects.filter(
        ip_address=request.axes_ip_address,  # type: ignore[attr-defined]
        attempt_time__gte=timezone.now() - cool_off,
    )


def address_failures(request: HttpRequest) -> int:
    """Return the failures counted from the request's address within the cool-off."""
    total = _address_attempts(request).aggregate(total=Sum("failures_since_start"))["total"]
    return total or 0


def locked_until(request: HttpRequest, credentials: dict | None) -> datetime:
    """Return when this sign-in will be allowed again: the cool-off after the last failure
    that counts against it (its username and address, or the address alone)."""
    counted = SignInHandler().get_user_attempts(request, credentials)
    if address_failures(request) >= settings.SIGN_IN_ADDRESS_FAILURES:
        counted.append(_address_attempts(request))
    latest = [attempts.aggregate(latest=Max("attempt_time"))["latest"] for attempts in counted]
    cool_off = get_cool_off(request)
    assert cool_off is not None
    return max((moment for moment in latest if moment), default=timezone.now()) + cool_off


def lockout_message(until: datetime) -> str:
    """Say that sign-in is refused for now and when to try again (nothing about the user)."""
    minutes = max(1, math.ceil((until - timezone.now()).total_seconds() / 60))
    if minutes < 120:
        wait = f"{minutes} minute{pluralize(minutes)}"
    else:
        wait = f"{math.ceil(minutes / 60)} hours"
    at = timezone.localtime(until).strftime("%H:%M %Z")
    return (
        f"Too many failed sign-ins. For your security, signing in with this username from "
        f"here is paused: try again in {wait} (at {at}). If you have forgotten your "
        f"password, reset it."
    )


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """Answer a locked-out sign-in with 429 and the sign-in page saying when to retry.

    The username stays in the form, the password does not.
    """
    credentials = credentials or get_credentials(request.POST.get("username"))
    until = locked_until(request, credentials)
    message = lockout_message(until)
    if request.path.startswith(reverse("admin:index")):
        context = {
            **admin.site.each_context(request),
            "title": "Log in",
            "app_path": request.get_full_path(),
            "form": _refused(AdminAuthenticationForm, request, message),
            REDIRECT_FIELD_NAME: _next(request) or reverse("admin:index"),
        }
        response = render(request, "admin/login.html", context, status=429)
    else:
        context = {"form": _refused(SignInForm, request, message), "next": _next(request)}
        response = render(request, "accounts/sign_in.html", context, status=429)
    response["Retry-After"] = str(max(1, int((until - timezone.now()).total_seconds())))
    return response


def _refused(
    form_class: type[AuthenticationForm], request: HttpRequest, message: str
) -> AuthenticationForm:
    """Return the sign-in form as sent, without its password, showing only `message`."""
    data = {"username": request.POST.get("username", "")[:150], "password": ""}
    form = form_class(request, data=data)
    # Not validated (refused before that): the lockout is its only error.
    form._errors, form.cleaned_data = ErrorDict(), {}  # type: ignore[attr-defined]
    form.add_error(None, message)
    return form


def _next(request: HttpRequest) -> str:
    """Return the page to go to after signing in, when it is one of ours."""
    target = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""
