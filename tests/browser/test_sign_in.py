from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.factories import TEST_PASSWORD


def test_it_signs_in_through_the_form_and_lands_on_my_media(page, live_server, olivia, sign_in):
    page.goto(f"{live_server.url}/my-media/")
    expect(page).to_have_url(re.compile(r"/accounts/sign-in/\?next=/my-media/"))

    sign_in("olivia", TEST_PASSWORD)

    expect(page).to_have_url(f"{live_server.url}/my-media/")
    expect(page.get_by_role("heading", name="My Media", level=1)).to_be_visible()
    expect(page.get_by_text("Olivia Owens")).to_be_visible()


def test_it_shows_a_clear_error_for_a_wrong_password(page, live_server, olivia, sign_in):
    sign_in("olivia", "not the password")

    expect(page.get_by_role("alert")).to_contain_text("username and password do not match")
    expect(page).to_have_url(re.compile(r"/accounts/sign-in/"))


def test_it_signs_out_from_the_user_menu(page, live_server, olivia, sign_in):
    sign_in("olivia", TEST_PASSWORD)
    page.get_by_text("Olivia Owens").click()
    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(re.compile(r"/accounts/sign-in/"))
    page.goto(f"{live_server.url}/my-media/")
    expect(page).to_have_url(re.compile(r"/accounts/sign-in/\?next=/my-media/"))


def test_htmx_loads_under_the_content_security_policy(
    page, live_server, olivia, sign_in, csp_errors
):
    sign_in("olivia", TEST_PASSWORD)

    assert page.evaluate("typeof window.htmx") == "object"
    assert page.evaluate("window.htmx.config.allowEval") is False
    assert csp_errors == []
