from __future__ import annotations

import re

from django.urls import reverse


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
