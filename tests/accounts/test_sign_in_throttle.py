"""Throttled sign-in (django-axes): lockouts per username and address, refused before any
password is hashed, the same for unknown usernames, on the site's sign-in and the admin's."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from axes.models import AccessAttempt, AccessLog
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client
from django.urls import reverse

from tests.factories import TEST_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
LOCKED = "Too many failed sign-ins"
WRONG = "That username and password do not match"


@pytest.fixture(autouse=True)
def limits(settings):
    """Five failures per username and address, a fifteen-minute cool-off (the defaults)."""
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    settings.AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
    settings.SIGN_IN_ADDRESS_FAILURES = 50
    settings.TRUSTED_PROXIES = 0
    return settings


def sign_in(client: Client, username: str, password: str, address: str = "10.0.0.1", **extra):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        **extra,
    )


def fail(client: Client, username: str, times: int, address: str = "10.0.0.1") -> list:
    return [sign_in(client, username, "wrong password", address) for _ in range(times)]


@contextmanager
def hashes_counted():
    """Count every password hash computed (checking a password or hashing a dummy one)."""
    with mock.patch.object(
        MD5PasswordHasher, "encode", autospec=True, side_effect=MD5PasswordHasher.encode
    ) as encode:
        yield encode


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_four_failures_only_say_the_password_is_wrong(client, olivia):
    answers = fail(client, "olivia", 4)

    assert [answer.status_code for answer in answers] == [200] * 4
    assert all(WRONG in answer.content.decode() for answer in answers)
    assert sign_in(client, "olivia", TEST_PASSWORD).status_code == 302


def test_the_fifth_failure_locks_and_says_when_to_try_again(client, olivia):
    *_, fifth = fail(client, "olivia", 5)

    html = fifth.content.decode()
    assert fifth.status_code == 429
    assert LOCKED in html
    assert "try again in 15 minutes" in html
    assert re.search(r"\(at \d\d:\d\d UTC\)", html)
    assert 14 * 60 <= int(fifth["Retry-After"]) <= 15 * 60
    assert 'value="olivia"' in html  # the username stays in the form
    assert WRONG not in html


def test_the_right_password_is_refused_while_locked(client, olivia):
    fail(client, "olivia", 5)

    answer = sign_in(client, "olivia", TEST_PASSWORD)

    assert answer.status_code == 429
    assert LOCKED in answer.content.decode()
    assert not signed_in(client)


def test_a_locked_attempt_is_refused_before_the_password_is_hashed(client, olivia):
    fail(client, "olivia", 5)

    with hashes_counted() as hashes:
        answer = sign_in(client, "olivia", "sixth wrong password")
        also = sign_in(client, "olivia", TEST_PASSWORD)

    assert (answer.status_code, also.status_code) == (429, 429)
    assert hashes.call_count == 0


def test_an_attempt_that_is_not_locked_does_hash(client, olivia):
    """The counterpart of the test above: the counting sees a password check."""
    with hashes_counted() as hashes:
        sign_in(client, "olivia", "wrong password")

    assert hashes.call_count >= 1


def test_unknown_usernames_are_answered_exactly_like_known_ones(olivia):
    def answers(username: str) -> list[tuple[int, str]]:
        client = Client()
        seen = []
        for password in ["wrong"] * 5 + [TEST_PASSWORD]:
            answer = sign_in(client, username, password)
            html = re.sub(
                r'value="[\w-]{64}"|"X-CSRFToken": "[\w-]{64}"', "", answer.content.decode()
            )
            html = re.sub(r"\(at \d\d:\d\d UTC\)", "", html)
            html = re.sub(r'nonce="[^"]*"', "", html)
            seen.append((answer.status_code, html.replace(username, "NAME")))
        return seen

    assert answers("olivia")[:5] == answers("nobody-here")[:5]
    assert answers("nobody-there")[-1][0] == 429


def test_a_lockout_from_one_address_leaves_others_free(client, olivia):
    fail(client, "olivia", 5, address="10.0.0.1")

    answer = sign_in(Client(), "olivia", TEST_PASSWORD, address="10.0.0.2")

    assert answer.status_code == 302


def test_the_operator_may_lock_the_username_from_every_address(limits, client, olivia):
    limits.AXES_LOCKOUT_PARAMETERS = ["username"]
    fail(client, "olivia", 5, address="10.0.0.1")

    answer = sign_in(Client(), "olivia", TEST_PASSWORD, address="10.0.0.2")

    assert answer.status_code == 429


def test_the_operator_sets_the_number_of_failures(limits, client, olivia):
    limits.AXES_FAILURE_LIMIT = 2

    assert [answer.status_code for answer in fail(client, "olivia", 2)] == [200, 429]


def test_sign_in_works_again_after_the_cool_off(client, olivia):
    fail(client, "olivia", 5)
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16)
    )

    assert sign_in(client, "olivia", TEST_PASSWORD).status_code == 302


def test_attempts_during_the_lockout_do_not_extend_it(client, olivia):
    fail(client, "olivia", 5)
    locked_at = AccessAttempt.objects.get().attempt_time

    fail(client, "olivia", 3)

    attempt = AccessAttempt.objects.get()
    assert (attempt.attempt_time, attempt.failures_since_start) == (locked_at, 5)


def test_a_successful_sign_in_forgets_earlier_failures(client, olivia):
    fail(client, "olivia", 4)
    sign_in(client, "olivia", TEST_PASSWORD)
    client.post(reverse("logout"))

    assert [answer.status_code for answer in fail(client, "olivia", 4)] == [200] * 4


def test_one_address_trying_many_usernames_is_stopped_before_hashing(limits, olivia):
    limits.SIGN_IN_ADDRESS_FAILURES = 6
    client = Client()
    for number in range(6):
        sign_in(client, f"guess{number}", "wrong password")

    with hashes_counted() as hashes:
        answer = sign_in(client, "olivia", TEST_PASSWORD)

    assert answer.status_code == 429
    assert LOCKED in answer.content.decode()
    assert hashes.call_count == 0
    assert sign_in(Client(), "olivia", TEST_PASSWORD, address="10.0.0.9").status_code == 302


def test_a_forged_forwarded_for_header_does_not_escape_the_lockout(client, olivia):
    for number in range(5):
        sign_in(client, "olivia", "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{number}")

    answer = sign_in(client, "olivia", TEST_PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.99")

    assert answer.status_code == 429


def test_behind_a_trusted_proxy_the_client_is_the_address_it_saw(limits, olivia):
    limits.TRUSTED_PROXIES = 1
    proxy = {"address": "10.0.0.254"}
    for _ in range(5):
        sign_in(Client(), "olivia", "wrong", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7", **proxy)

    # Another client behind the same proxy signs in; the locked one stays locked.
    other = sign_in(Client(), "olivia", TEST_PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.3", **proxy)
    locked = sign_in(Client(), "olivia", TEST_PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)

    assert (other.status_code, locked.status_code) == (302, 429)
    assert AccessAttempt.objects.get().ip_address == "203.0.113.7"


# The admin's sign-in ------------------------------------------------------------------------


def admin_sign_in(client: Client, username: str, password: str):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR="10.0.0.1",
    )


@pytest.fixture
def opal(db):
    from tests.conftest import make_person

    user = make_person("opal", "Opal Operator")
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    return user


def test_the_admin_sign_in_is_throttled_too(client, opal):
    answers = [admin_sign_in(client, "opal", "wrong") for _ in range(5)]
    with hashes_counted() as hashes:
        locked = admin_sign_in(client, "opal", TEST_PASSWORD)

    assert [answer.status_code for answer in answers] == [200] * 4 + [429]
    assert locked.status_code == 429
    assert hashes.call_count == 0
    html = locked.content.decode()
    assert LOCKED in html
    assert "Django administration" in html or "MediaSpace" in html
    assert not signed_in(client)


def test_failures_on_either_sign_in_page_count_together(client, opal):
    fail(client, "opal", 3)
    admin_sign_in(client, "opal", "wrong")

    assert admin_sign_in(client, "opal", "wrong").status_code == 429
    assert sign_in(client, "opal", TEST_PASSWORD).status_code == 429


def test_operators_see_the_attempts_and_unlock_them_in_the_admin(client, olivia, opal):
    fail(client, "olivia", 5)
    operator = Client()
    operator.force_login(opal)

    listing = operator.get(reverse("admin:axes_accessattempt_changelist"))
    attempt = AccessAttempt.objects.get()
    unlock = operator.post(
        reverse("admin:axes_accessattempt_changelist"),
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
    )

    assert listing.status_code == 200
    assert "olivia" in listing.content.decode()
    assert "10.0.0.1" in listing.content.decode()
    assert unlock.status_code == 302
    assert not AccessAttempt.objects.exists()
    assert sign_in(client, "olivia", TEST_PASSWORD).status_code == 302
    assert AccessLog.objects.filter(username="olivia").exists()  # successful sign-ins listed


def test_no_password_is_kept_with_the_attempts(client, olivia):
    sign_in(client, "olivia", "my-secret-guess")

    attempt = AccessAttempt.objects.get()
    assert "my-secret-guess" not in attempt.post_data
    assert "my-secret-guess" not in attempt.get_data


# The operator's settings ------------------------------------------------------------------


def settings_in_a_new_process(**environment: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **environment}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'mediaspace.settings'; "
        "from django.conf import settings as s; "
        "print(s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME, s.AXES_LOCKOUT_PARAMETERS, "
        "s.SIGN_IN_ADDRESS_FAILURES, s.TRUSTED_PROXIES)"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_the_operator_sets_the_limits_in_the_environment():
    result = settings_in_a_new_process(
        MEDIASPACE_SIGN_IN_FAILURES="8",
        MEDIASPACE_SIGN_IN_COOLOFF_MINUTES="30",
        MEDIASPACE_SIGN_IN_LOCKOUT="username",
        MEDIASPACE_SIGN_IN_ADDRESS_FAILURES="100",
        MEDIASPACE_TRUSTED_PROXIES="1",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["8", "0:30:00", "['username']", "100", "1"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MEDIASPACE_SIGN_IN_FAILURES", "0"),
        ("MEDIASPACE_SIGN_IN_FAILURES", "five"),
        ("MEDIASPACE_SIGN_IN_COOLOFF_MINUTES", "-1"),
        ("MEDIASPACE_SIGN_IN_LOCKOUT", "address"),
    ],
)
def test_a_malformed_limit_stops_start_naming_the_variable(name, value):
    result = settings_in_a_new_process(**{name: value})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr
