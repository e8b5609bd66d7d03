from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]


def csp_directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {
        part.strip().split(" ", 1)[0]: part.strip() for part in header.split(";") if part.strip()
    }


def test_every_page_carries_a_strict_content_security_policy(as_olivia):
    response = as_olivia.get(reverse("my_media"))

    directives = csp_directives(response)
    assert "'self'" in directives["default-src"]
    assert re.search(r"'nonce-[\w+/=-]+'", directives["script-src"])
    assert "unsafe-inline" not in directives["script-src"]
    assert "unsafe-eval" not in directives["script-src"]
    assert "unsafe-inline" not in directives["style-src"]
    assert directives["frame-ancestors"] == "frame-ancestors 'none'"


def test_the_sign_in_page_carries_the_policy_too(client, db):
    response = client.get(reverse("login"))

    assert "Content-Security-Policy" in response


def test_htmx_is_served_from_our_own_origin_with_the_nonce(as_olivia):
    response = as_olivia.get(reverse("my_media"))

    nonce = re.search(r"'nonce-([\w+/=-]+)'", response["Content-Security-Policy"]).group(1)
    html = response.content.decode()
    script = re.search(r'<script[^>]*src="([^"]*htmx[^"]*)"[^>]*>', html)
    assert script, "htmx script tag missing"
    assert script.group(1).startswith("/static/")
    assert f'nonce="{nonce}"' in script.group(0)


def test_the_csrf_token_travels_in_hx_headers(as_olivia):
    response = as_olivia.get(reverse("my_media"))

    assert re.search(rb"<body hx-headers='\{\"X-CSRFToken\": \"[\w-]+\"\}'>", response.content)


def test_other_security_headers_are_set(as_olivia):
    response = as_olivia.get(reverse("my_media"))

    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_production_mode_passes_the_deploy_checks():
    env = {
        **os.environ,
        "MEDIASPACE_PRODUCTION": "1",
        "SECRET_KEY": "x9$Fq2!pL7@vRt4#Kz8&mW1^nB6*hY3(jD5)eG0+uC-sA_oI=lP~",
        "ALLOWED_HOSTS": "media.example.com",
        "DEBUG": "",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_mode_refuses_to_start_without_a_secret_key():
    env = {**os.environ, "MEDIASPACE_PRODUCTION": "1", "ALLOWED_HOSTS": "media.example.com"}
    env.pop("SECRET_KEY", None)

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
