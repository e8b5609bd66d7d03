from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import TEST_PASSWORD

PROTECTED_URLS = ["/my-media/", "/"]


@pytest.mark.parametrize("url", PROTECTED_URLS)
def test_it_sends_anonymous_visitors_to_sign_in(client, db, url):
    response = client.get(url, follow=True)

    assert response.redirect_chain
    last_url, _ = response.redirect_chain[-1]
    assert last_url.startswith(reverse("login"))
    assert response.templates[0].name == "accounts/sign_in.html"


def test_it_keeps_the_admin_behind_its_own_sign_in(client, db):
    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_it_shows_the_sign_in_page_to_anonymous_visitors(client, db):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert b"Sign in to MediaSpace" in response.content


def test_it_signs_in_and_redirects_to_my_media(client, olivia):
    response = client.post(reverse("login"), {"username": "olivia", "password": TEST_PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("my_media")
    assert client.get(reverse("my_media")).status_code == 200


def test_it_honours_next_after_sign_in(client, olivia):
    response = client.post(
        reverse("login") + "?next=/my-media/%3Fq%3Dlecture",
        {"username": "olivia", "password": TEST_PASSWORD, "next": "/my-media/?q=lecture"},
    )

    assert response["Location"] == "/my-media/?q=lecture"


def test_it_refuses_a_next_on_another_host(client, olivia):
    response = client.post(
        reverse("login"),
        {"username": "olivia", "password": TEST_PASSWORD, "next": "https://evil.example/"},
    )

    assert response["Location"] == reverse("my_media")


def test_it_says_clearly_when_the_password_is_wrong(client, olivia):
    response = client.post(reverse("login"), {"username": "olivia", "password": "nope"})

    assert response.status_code == 200
    assert b"That username and password do not match" in response.content
    assert "_auth_user_id" not in client.session


def test_it_says_which_field_is_missing(client, db):
    response = client.post(reverse("login"), {"username": "", "password": ""})

    assert response.status_code == 200
    assert response.content.count(b"This field is required.") == 2


def test_it_refuses_inactive_users(client, olivia):
    olivia.is_active = False
    olivia.save(update_fields=["is_active"])

    response = client.post(reverse("login"), {"username": "olivia", "password": TEST_PASSWORD})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_it_signs_out_on_post(as_olivia):
    response = as_olivia.post(reverse("logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert as_olivia.get(reverse("my_media")).status_code == 302


def test_it_does_not_sign_out_on_get(as_olivia):
    response = as_olivia.get(reverse("logout"))

    assert response.status_code == 405
    assert as_olivia.get(reverse("my_media")).status_code == 200


def test_it_enforces_csrf_on_sign_in(olivia):
    client = Client(enforce_csrf_checks=True)

    response = client.post(reverse("login"), {"username": "olivia", "password": TEST_PASSWORD})

    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_it_enforces_csrf_on_sign_out(olivia):
    client = Client(enforce_csrf_checks=True)
    client.force_login(olivia)

    response = client.post(reverse("logout"))

    assert response.status_code == 403
    assert client.get(reverse("my_media")).status_code == 200


def test_it_accepts_sign_in_with_the_csrf_token_from_the_form(olivia):
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("login"))
    token = client.cookies["csrftoken"].value

    response = client.post(
        reverse("login"),
        {"username": "olivia", "password": TEST_PASSWORD, "csrfmiddlewaretoken": token},
    )

    assert response.status_code == 302
