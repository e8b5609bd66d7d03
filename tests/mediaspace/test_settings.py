"""Settings that fail closed: each bad environment stops start with a clear error.

Each case starts `manage.py check` in a new process with only the variables it names (and
none of the project's others), as a server would start.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import RequestFactory
from django.views.defaults import bad_request, server_error

from mediaspace import settings as project_settings

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "x9$Fq2!pL7@vRt4#Kz8&mW1^nB6*hY3(jD5)eG0+uC-sA_oI=lP~"
PRODUCTION = {
    "MEDIASPACE_PRODUCTION": "1",
    "SECRET_KEY": GOOD_KEY,
    "ALLOWED_HOSTS": "media.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://media.example.com",
    "EMAIL_HOST": "smtp.example.com",
}


def start(*command: str, **variables: str) -> subprocess.CompletedProcess:
    """Run manage.py in a new process whose environment has only `variables` of ours."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("MEDIASPACE_", "EMAIL_", "DJANGO_"))
        and name not in {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DATABASE_URL"}
    }
    env.update(variables)
    return subprocess.run(
        [sys.executable, "manage.py", *(command or ("check",))],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def refused(result: subprocess.CompletedProcess, *words: str) -> bool:
    """Whether start stopped with ImproperlyConfigured saying all of `words`."""
    last = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
    return (
        result.returncode != 0
        and last.startswith("django.core.exceptions.ImproperlyConfigured:")
        and all(word in last for word in words)
    )


@pytest.mark.parametrize(
    ("key", "says"),
    [
        (None, "SECRET_KEY is not set"),
        ("", "SECRET_KEY is not set"),
        ("   ", "SECRET_KEY is not set"),
        ("changeme", "SECRET_KEY is a published, well-known value"),
        ("dev-only-insecure-key-do-not-use-in-production", "well-known"),
        ("django-insecure-" + secrets.token_urlsafe(48), "well-known"),
        (secrets.token_urlsafe(40)[:49], "SECRET_KEY is too short (49 characters"),
        ("ab" * 40, "SECRET_KEY repeats too few characters"),
    ],
)
def test_without_debug_a_weak_or_missing_key_stops_start(key, says):
    variables = {} if key is None else {"SECRET_KEY": key}

    result = start(**variables)

    assert refused(result, says), result.stderr[-800:]


@pytest.mark.parametrize("production", ["", "1"])
def test_the_same_holds_in_production_mode(production):
    result = start(MEDIASPACE_PRODUCTION=production, ALLOWED_HOSTS="media.example.com")

    assert refused(result, "SECRET_KEY is not set")


def test_production_without_allowed_hosts_stops_start():
    variables = {name: value for name, value in PRODUCTION.items() if name != "ALLOWED_HOSTS"}

    assert refused(start(**variables), "ALLOWED_HOSTS is not set")


def test_debug_is_refused_in_production_mode():
    result = start(**PRODUCTION, DEBUG="1")

    assert refused(result, "DEBUG is on in production mode", "Unset DEBUG")


@pytest.mark.parametrize("value", ["1", "true", "yes", "on"])
def test_debug_is_on_only_when_asked_for(value):
    code = [
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.DEBUG)",
    ]

    assert start(*code, SECRET_KEY=GOOD_KEY).stdout.strip() == "False"
    assert start(*code, SECRET_KEY=GOOD_KEY, DEBUG="").stdout.strip() == "False"
    assert start(*code, SECRET_KEY=GOOD_KEY, DEBUG="0").stdout.strip() == "False"
    assert start(*code, DEBUG=value).stdout.strip() == "True"  # no key needed to develop


def test_a_developer_without_a_key_gets_a_random_one():
    code = [
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.SECRET_KEY)",
    ]

    keys = {start(*code, DEBUG="1").stdout.strip() for _ in range(2)}

    assert len(keys) == 2
    assert all(len(key) >= 50 for key in keys)


def test_production_mode_passes_the_deploy_checks():
    result = start("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_without_a_mail_server_fails_the_deploy_checks():
    variables = {name: value for name, value in PRODUCTION.items() if name != "EMAIL_HOST"}

    result = start("check", "--deploy", **variables)

    assert result.returncode != 0
    assert "mail.E001" in result.stderr


def test_serving_another_host_without_production_mode_warns():
    result = start(
        "check", "--fail-level", "WARNING", SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="media.lan"
    )

    assert result.returncode != 0
    assert "mediaspace.W001" in result.stderr
    assert "media.lan without production mode" in result.stderr


def test_the_demo_settings_start_cleanly():
    result = start("check", "--fail-level", "WARNING", SECRET_KEY=secrets.token_urlsafe(64))

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("key", [GOOD_KEY, secrets.token_urlsafe(64)])
def test_the_key_rule_accepts_long_random_keys(key):
    assert project_settings.secret_key_problem(key) is None


# The project's own error pages ----------------------------------------------------------


def test_an_unknown_address_shows_the_project_s_404(as_olivia):
    response = as_olivia.get("/no/such/page/")

    html = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in html
    assert "Back to My Media" in html
    assert "Using the URLconf" not in html  # not Django's debug page


def test_the_500_page_renders_without_a_request_context():
    response = server_error(RequestFactory().get("/"))

    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in html
    assert "<script" not in html


def test_the_400_page_says_nothing_changed():
    response = bad_request(RequestFactory().get("/"), exception=None)

    assert response.status_code == 400
    assert "nothing was changed" in response.content.decode()
