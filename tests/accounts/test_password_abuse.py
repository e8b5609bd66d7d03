"""The reset page is no way to flood a mailbox, and a reset lifts sign-in lockouts."""

from __future__ import annotations

from datetime import timedelta

from axes.models import AccessAttempt
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.forms import RESET_MAIL_EVERY
from accounts.models import User
from tests.accounts.test_password import reset_link

NEW_PASSWORD = "a brand new passphrase 42"


def request_reset(client: Client, email: str = "olivia@example.com"):
    return client.post(reverse("password_reset"), {"email": email})


def test_a_second_request_within_minutes_mails_nothing_and_answers_the_same(client, olivia):
    first = request_reset(client)
    second = request_reset(Client())

    assert (first.status_code, first["Location"]) == (second.status_code, second["Location"])
    assert len(mail.outbox) == 1


def test_a_request_after_the_interval_mails_again(client, olivia):
    request_reset(client)
    User.objects.filter(pk=olivia.pk).update(
        password_reset_mailed_at=User.objects.get(pk=olivia.pk).password_reset_mailed_at
        - RESET_MAIL_EVERY
    )

    request_reset(client)

    assert len(mail.outbox) == 2


def test_the_interval_is_per_person(client, olivia, evan):
    request_reset(client, "olivia@example.com")
    request_reset(client, "evan@example.com")

    assert sorted(message.to[0] for message in mail.outbox) == [
        "evan@example.com",
        "olivia@example.com",
    ]


def test_a_reset_lifts_the_sign_in_lockout_on_the_username(client, olivia, settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    for _ in range(5):
        client.post(reverse("login"), {"username": "olivia", "password": "wrong"})
    assert AccessAttempt.objects.filter(username="olivia").exists()

    request_reset(client)
    set_password_url = client.get(reset_link(mail.outbox[0]))["Location"]
    client.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert not AccessAttempt.objects.filter(username="olivia").exists()
    signing_in = client.post(reverse("login"), {"username": "olivia", "password": NEW_PASSWORD})
    assert signing_in.status_code == 302


def test_the_demo_prints_a_mail_with_its_link_whole():
    import io

    from django.core.mail import EmailMessage

    from accounts.mail import ReadableConsoleBackend

    stream = io.StringIO()
    link = "http://127.0.0.1:8000/accounts/password/reset/NQ/" + "x" * 60 + "/"
    message = EmailMessage("Reset", f"Open this link:\n\n{link}\n", to=["paula@example.com"])

    ReadableConsoleBackend(stream=stream, alias="default").send_messages([message])

    printed = stream.getvalue()
    assert "To: paula@example.com" in printed
    assert "Subject: Reset" in printed
    assert f"\n{link}\n" in printed
