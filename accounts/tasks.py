"""Background work for accounts: mail goes out from the worker, not the request."""

from __future__ import annotations

from django.core.mail import EmailMessage
from django.tasks import task


@task
def mail_send(*, subject: str, body: str, to: list[str], from_email: str | None = None) -> None:
    """Send a plain-text mail (a failure is the task's: the worker records it)."""
    EmailMessage(subject, body, from_email, to).send()
