"""Safe defaults in Chromium: the chat's rate, a refused message kept in the composer,
a sign-in lockout, the password change from the user menu, and the project's 404."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from mediaspace.models import MediaEntry
from rooms import services
from rooms.models import ChatMessage
from tests.browser.conftest import axe_violations
from tests.browser.test_room_chat import sign_in_on
from tests.factories import TEST_PASSWORD


@pytest.fixture
def live_room(live_room, paula) -> MediaEntry:
    """The live room (conftest), with Paula in it."""
    services.participant_join(user=paula, entry=live_room)
    return live_room


def test_the_message_over_the_rate_is_refused_with_a_toast_and_kept(
    page, live_server, live_room, settings
):
    settings.CHAT_RATE_MESSAGES = 2
    settings.CHAT_RATE_SECONDS = 60
    sign_in_on(page, live_server.url, "paula")
    page.goto(f"{live_server.url}/rooms/{live_room.pk}/")
    composer = page.get_by_label("Message", exact=True)
    log = page.get_by_role("log", name="Chat messages")

    for text in ("First question", "Second question"):
        composer.fill(text)
        composer.press("Enter")
        expect(log).to_contain_text(text)
        expect(composer).to_have_value("")
    composer.fill("Third, too soon")
    composer.press("Enter")

    toast = page.locator("#toasts")
    expect(toast).to_contain_text("You're sending messages too quickly (at most 2 messages")
    expect(toast).to_contain_text(re.compile(r"Wait \d+ seconds?"))
    expect(composer).to_have_value("Third, too soon")
    assert ChatMessage.objects.count() == 2
    assert axe_violations(page) == []


def test_a_refused_long_message_comes_back_without_its_text_and_the_page_keeps_it(
    page, live_server, live_room
):
    sign_in_on(page, live_server.url, "paula")
    page.goto(f"{live_server.url}/rooms/{live_room.pk}/")
    composer = page.get_by_label("Message", exact=True)
    # Past the field's maxlength, as a paste of text with many line breaks can be once
    # the browser sends each as two characters.
    composer.evaluate("field => { field.value = 'a'.repeat(2001); }")

    page.get_by_role("button", name="Send").click()

    expect(page.locator("#composer-error")).to_contain_text(
        "Messages can be at most 2,000 characters (this one has 2001)"
    )
    composer = page.get_by_label("Message", exact=True)
    expect(composer).to_have_attribute("aria-invalid", "true")
    assert composer.input_value() == "a" * 2001
    assert not ChatMessage.objects.exists()


def test_a_locked_out_sign_in_says_when_to_try_again(page, live_server, olivia, settings):
    settings.AXES_FAILURE_LIMIT = 3
    page.goto(f"{live_server.url}/accounts/sign-in/")
    for _ in range(3):
        page.get_by_label("Username").fill("olivia")
        page.get_by_label("Password").fill("not her password")
        page.get_by_role("button", name="Sign in").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Too many failed sign-ins")
    expect(alert).to_contain_text(re.compile(r"try again in 1[45] minutes \(at \d\d:\d\d UTC\)"))
    expect(page.get_by_label("Username")).to_have_value("olivia")
    assert axe_violations(page) == []

    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Too many failed sign-ins")
    expect(page).to_have_url(re.compile(r"/accounts/sign-in/"))


def test_the_password_changes_from_the_user_menu(page, live_server, olivia):
    sign_in_on(page, live_server.url, "olivia")
    page.get_by_text("Olivia Owens").click()
    page.get_by_role("link", name="Change password").click()
    expect(page.get_by_role("heading", name="Change your password")).to_be_visible()
    assert axe_violations(page) == []

    page.get_by_label("Old password").fill(TEST_PASSWORD)
    page.get_by_label("New password", exact=True).fill("a fresh passphrase 2026")
    page.get_by_label("New password confirmation").fill("a fresh passphrase 2026")
    page.get_by_role("button", name="Change password").click()

    expect(page.get_by_role("heading", name="Password changed")).to_be_visible()
    assert axe_violations(page) == []
    assert get_user_model().objects.get(pk=olivia.pk).check_password("a fresh passphrase 2026")


def test_an_unknown_page_is_the_project_s_own_404(page, live_server, olivia):
    sign_in_on(page, live_server.url, "olivia")

    response = page.goto(f"{live_server.url}/no/such/page/")

    assert response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.get_by_role("link", name="Back to My Media")).to_be_visible()
    assert axe_violations(page) == []
