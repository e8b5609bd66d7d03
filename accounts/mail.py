"""The demo's mail: printed on the console as a person reads it."""

from __future__ import annotations

from django.core.mail import EmailMessage
from django.core.mail.backends.console import EmailBackend


class ReadableConsoleBackend(EmailBackend):
    """Django's console backend, printing each mail's addresses, subject and plain text.

    Django's prints the encoded message, where a long line (a reset link) is cut in two
    by quoted-printable soft breaks and cannot be opened from the terminal.
    """

    def write_message(self, message: EmailMessage) -> None:
        self.stream.write(
            f"From: {message.from_email}\nTo: {', '.join(message.to)}\n"
            f"Subject: {message.subject}\n\n{message.body}\n{'-' * 79}\n"
        )
