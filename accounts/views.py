"""Account pages that need more than Django's own views."""

from __future__ import annotations

from axes.utils import reset as axes_reset
from django.contrib.auth import views as auth_views
from django.http import HttpResponse

from accounts.forms import PasswordResetRequestForm


class PasswordResetRequest(auth_views.PasswordResetView):
    """Ask for a reset link: at most one is mailed to a person every few minutes."""

    form_class = PasswordResetRequestForm


class PasswordResetConfirm(auth_views.PasswordResetConfirmView):
    """Choose a new password from a mailed link.

    A reset also lifts the sign-in lockouts on the username: whoever holds the mailbox has
    shown who they are, and should not wait out a lockout someone else caused.
    """

    def form_valid(self, form) -> HttpResponse:
        response = super().form_valid(form)
        axes_reset(username=form.user.get_username())
        return response
