from __future__ import annotations

import re
from datetime import datetime, timedelta
from html.parser import HTMLParser

import pytest
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.factories import TEST_PASSWORD

NEW_PASSWORD = "violet kettle under moonlight"


class _Inputs(HTMLParser):
    """Collect the attributes of every <input>, by id."""

    def __init__(self) -> None:
        super().__init__()
        self.by_id: dict[str, dict[str, str | None]] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "input" and attributes.get("id"):
            self.by_id[attributes["id"]] = attributes


def input_attrs(response, input_id: str) -> dict[str, str | None]:
    parser = _Inputs()
    parser.feed(response.content.decode())
    return parser.by_id[input_id]


def main_of(response) -> str:
    """The page's <main>: what it says, without the per-request CSRF token in <body>."""
    return re.search(r"<main.*</main>", response.content.decode(), re.DOTALL).group(0)


def signed_in(client: Client) -> bool:
    return client.get(reverse("my_media")).status_code == 200


def sign_in(password: str) -> Client:
    """A fresh browser that posts the sign-in form as Olivia."""
    client = Client()
    client.post(reverse("login"), {"username": "olivia", "password": password})
    return client


def change(client: Client, old: str, new1: str, new2: str | None = None):
    return client.post(
        reverse("password_change"),
        {"old_password": old, "new_password1": new1, "new_password2": new2 or new1},
    )


def request_reset(client: Client, email: str):
    return client.post(reverse("password_reset"), {"email": email})


def reset_link(message: mail.EmailMessage) -> str:
    """The path of the reset link in a reset mail."""
    match = re.search(r"http://testserver(/accounts/password/reset/\S+/\S+/)", message.body)
    assert match, message.body
    return match.group(1)


# Changing the password --------------------------------------------------------------------


def test_the_change_page_sends_anonymous_visitors_to_sign_in(client, db):
    response = client.get(reverse("password_change"))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={reverse('password_change')}"


def test_the_change_page_asks_for_the_current_and_a_new_password(as_olivia):
    response = as_olivia.get(reverse("password_change"))

    assert response.status_code == 200
    assert "<title>Change your password · MediaSpace</title>" in response.content.decode()
    assert input_attrs(response, "id_old_password")["autocomplete"] == "current-password"
    assert input_attrs(response, "id_new_password1")["autocomplete"] == "new-password"
    assert input_attrs(response, "id_new_password2")["autocomplete"] == "new-password"


def test_the_change_page_shows_the_password_rules_as_a_list_tied_to_the_field(as_olivia):
    response = as_olivia.get(reverse("password_change"))

    page = response.content.decode()
    assert '<div class="field-help" id="id_new_password1_helptext"><ul>' in page
    assert "<li>Your password must contain at least 8 characters.</li>" in page
    assert "&lt;li&gt;" not in page
    assert input_attrs(response, "id_new_password1")["aria-describedby"] == (
        "id_new_password1_helptext"
    )


def test_a_wrong_old_password_is_refused_next_to_the_field(as_olivia, olivia):
    response = change(as_olivia, "not my password", NEW_PASSWORD)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Your old password was entered incorrectly" in page
    assert '<div id="id_old_password_error">' in page
    old = input_attrs(response, "id_old_password")
    assert old["aria-invalid"] == "true"
    assert old["aria-describedby"] == "id_old_password_error"
    olivia.refresh_from_db()
    assert olivia.check_password(TEST_PASSWORD)


def test_mismatched_new_passwords_are_refused(as_olivia, olivia):
    response = change(as_olivia, TEST_PASSWORD, NEW_PASSWORD, "violet kettle under sunlight")

    assert response.status_code == 200
    assert "The two password fields didn’t match." in response.content.decode()
    assert input_attrs(response, "id_new_password2")["aria-invalid"] == "true"
    olivia.refresh_from_db()
    assert olivia.check_password(TEST_PASSWORD)


@pytest.mark.parametrize(
    ("weak", "complaint"),
    [
        ("password", "This password is too common."),
        ("k9!xq", "This password is too short."),
        ("83749125", "This password is entirely numeric."),
        ("olivia@example", "The password is too similar to the email address."),
    ],
)
def test_a_weak_new_password_is_refused_by_the_validators(as_olivia, olivia, weak, complaint):
    response = change(as_olivia, TEST_PASSWORD, weak)

    assert response.status_code == 200
    assert complaint in response.content.decode()
    olivia.refresh_from_db()
    assert olivia.check_password(TEST_PASSWORD)


def test_a_change_keeps_the_user_signed_in_and_only_the_new_password_works(as_olivia, olivia):
    response = change(as_olivia, TEST_PASSWORD, NEW_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == reverse("password_change_done")
    done = as_olivia.get(response["Location"])
    assert done.status_code == 200
    assert "<h1>Password changed</h1>" in done.content.decode()
    assert signed_in(as_olivia)
    assert signed_in(sign_in(NEW_PASSWORD))
    assert not signed_in(sign_in(TEST_PASSWORD))


def test_a_change_signs_out_the_users_other_sessions(as_olivia, olivia):
    elsewhere = Client()
    elsewhere.force_login(olivia)

    change(as_olivia, TEST_PASSWORD, NEW_PASSWORD)

    assert not signed_in(elsewhere)
    assert signed_in(as_olivia)


def test_the_change_form_enforces_csrf(olivia):
    client = Client(enforce_csrf_checks=True)
    client.force_login(olivia)

    response = change(client, TEST_PASSWORD, NEW_PASSWORD)

    assert response.status_code == 403
    olivia.refresh_from_db()
    assert olivia.check_password(TEST_PASSWORD)


# Resetting a forgotten password -------------------------------------------------------------


def test_the_reset_page_asks_for_the_email_address(client, db):
    response = client.get(reverse("password_reset"))

    assert response.status_code == 200
    assert "<title>Reset your password · MediaSpace</title>" in response.content.decode()
    assert input_attrs(response, "id_email")["autocomplete"] == "email"


def test_a_reset_for_a_known_email_mails_one_link_that_sets_a_new_password(client, olivia):
    response = request_reset(client, "olivia@example.com")

    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    sent = client.get(response["Location"])
    assert "<h1>Check your email</h1>" in sent.content.decode()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["olivia@example.com"]
    assert message.subject == "Reset your MediaSpace password"
    assert "MediaSpace" in message.body
    assert '"olivia"' in message.body
    assert "works for an hour" in message.body
    assert "If you did not ask for this, ignore this email: nothing changes" in message.body

    link = client.get(reset_link(message))
    assert link.status_code == 302
    set_password_url = link["Location"]
    assert set_password_url.endswith("/set-password/")

    form = client.get(set_password_url)
    assert form.status_code == 200
    assert "<h1>Choose a new password</h1>" in form.content.decode()
    assert input_attrs(form, "id_new_password1")["autocomplete"] == "new-password"

    done = client.post(
        set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done.status_code == 302
    assert done["Location"] == reverse("password_reset_complete")
    complete = client.get(done["Location"])
    assert "<h1>Password reset</h1>" in complete.content.decode()
    assert f'href="{reverse("login")}"' in complete.content.decode()

    assert not signed_in(client)  # post_reset_login is off: sign in with the new password
    signing_in = client.post(reverse("login"), {"username": "olivia", "password": NEW_PASSWORD})
    assert signing_in.status_code == 302
    assert signed_in(client)
    assert not signed_in(sign_in(TEST_PASSWORD))


def test_a_reset_matches_the_email_address_whatever_its_case(client, olivia):
    request_reset(client, "Olivia@Example.COM")

    assert [message.to for message in mail.outbox] == [["olivia@example.com"]]


def test_a_reset_for_an_unknown_email_answers_the_same_and_sends_nothing(olivia):
    unknown = request_reset(Client(), "nobody@example.com")
    unknown_page = Client().get(unknown["Location"])

    assert mail.outbox == []

    known = request_reset(Client(), "olivia@example.com")
    known_page = Client().get(known["Location"])

    assert len(mail.outbox) == 1
    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    assert unknown_page.status_code == known_page.status_code == 200
    assert main_of(unknown_page) == main_of(known_page)


def test_a_reset_refuses_a_malformed_email_next_to_the_field(client, db):
    response = request_reset(client, "not an address")

    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    assert input_attrs(response, "id_email")["aria-describedby"] == "id_email_error"
    assert mail.outbox == []


def test_an_invalid_token_shows_the_invalid_link_page(client, olivia):
    request_reset(client, "olivia@example.com")
    uidb64 = reset_link(mail.outbox[0]).split("/")[-3]

    response = client.get(
        reverse("password_reset_confirm", kwargs={"uidb64": uidb64, "token": "abc-123"})
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Reset link not valid</h1>" in page
    assert f'href="{reverse("password_reset")}"' in page
    assert "<form" not in main_of(response)


def test_an_unknown_user_in_the_link_shows_the_invalid_link_page(client, db):
    response = client.get(
        reverse("password_reset_confirm", kwargs={"uidb64": "OTk5OQ", "token": "abc-123"})
    )

    assert response.status_code == 200
    assert "<h1>Reset link not valid</h1>" in response.content.decode()


def test_a_used_link_no_longer_works(client, olivia):
    request_reset(client, "olivia@example.com")
    link = reset_link(mail.outbox[0])
    set_password_url = client.get(link)["Location"]
    client.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    again = Client().get(link)
    assert again.status_code == 200
    assert "<h1>Reset link not valid</h1>" in again.content.decode()

    replay = client.post(
        set_password_url, {"new_password1": "another one entirely", "new_password2": "x"}
    )
    assert "<h1>Reset link not valid</h1>" in replay.content.decode()
    olivia.refresh_from_db()
    assert olivia.check_password(NEW_PASSWORD)


def test_a_link_expires_after_an_hour(client, olivia, monkeypatch):
    request_reset(client, "olivia@example.com")
    link = reset_link(mail.outbox[0])

    later = datetime.now() + timedelta(hours=1, minutes=1)
    monkeypatch.setattr(PasswordResetTokenGenerator, "_now", lambda self: later)
    response = client.get(link)

    assert response.status_code == 200
    assert "<h1>Reset link not valid</h1>" in response.content.decode()


def test_a_reset_with_mismatched_passwords_keeps_the_link_usable(client, olivia):
    request_reset(client, "olivia@example.com")
    set_password_url = client.get(reset_link(mail.outbox[0]))["Location"]

    refused = client.post(
        set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": "something else"}
    )

    assert refused.status_code == 200
    assert "The two password fields didn’t match." in refused.content.decode()
    accepted = client.post(
        set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert accepted["Location"] == reverse("password_reset_complete")


@pytest.mark.parametrize(
    ("name", "kwargs", "heading"),
    [
        ("password_reset", {}, "Reset your password"),
        ("password_reset_done", {}, "Check your email"),
        ("password_reset_complete", {}, "Password reset"),
        ("password_reset_confirm", {"uidb64": "MQ", "token": "abc-123"}, "Reset link not valid"),
    ],
)
def test_the_reset_pages_work_while_signed_out(client, db, name, kwargs, heading):
    response = client.get(reverse(name, kwargs=kwargs))

    assert response.status_code == 200
    assert f"<h1>{heading}</h1>" in response.content.decode()


# Entry points --------------------------------------------------------------------------------


def test_the_user_menu_links_to_change_password_between_my_media_and_sign_out(as_olivia):
    page = as_olivia.get(reverse("my_media")).content.decode()

    link = f'<a class="menu-item" href="{reverse("password_change")}">Change password</a>'
    assert link in page
    menu = page[page.index('<div class="menu-items"') :]
    assert menu.index(">My Media</a>") < menu.index(link) < menu.index(">Sign out</button>")


def test_the_sign_in_page_links_to_forgot_password(client, db):
    page = client.get(reverse("login")).content.decode()

    assert f'<a href="{reverse("password_reset")}">Forgot your password?</a>' in page
    assert page.index("</form>") < page.index("Forgot your password?")
