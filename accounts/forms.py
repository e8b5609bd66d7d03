from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import User
from accounts.tasks import mail_send

# A person gets at most one reset link in this long, however often it is asked for: a
# reset page must not become a way to flood someone's mailbox.
RESET_MAIL_EVERY = timedelta(minutes=5)


class SignInForm(AuthenticationForm):
    """Django's sign-in form with a plainer error message and sensible autocomplete."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That username and password do not match. Check them and try again.",
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update({"autocomplete": "username"})
        self.fields["password"].widget = forms.PasswordInput(
            attrs={"autocomplete": "current-password"}
        )


class PasswordResetRequestForm(PasswordResetForm):
    """Django's form, mailing each person at most one link every RESET_MAIL_EVERY.

    The answer is the same whether a link went out or not, as it is for an unknown address,
    and as quick: the mail is queued for the background worker, not sent by the request.
    """

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        subject = "".join(render_to_string(subject_template_name, context).splitlines())
        body = render_to_string(email_template_name, context)
        mail_send.enqueue(subject=subject, body=body, to=[to_email], from_email=from_email)

    def get_users(self, email: str) -> Iterator[User]:
        now = timezone.now()
        due = Q(password_reset_mailed_at__isnull=True) | Q(
            password_reset_mailed_at__lte=now - RESET_MAIL_EVERY
        )
        for user in super().get_users(email):
            # Claimed by one conditional UPDATE: of two requests at once, one mails.
            if User.objects.filter(due, pk=user.pk).update(password_reset_mailed_at=now):
                yield user
