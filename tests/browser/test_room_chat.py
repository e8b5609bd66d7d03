"""The live room in Chromium, with two people signed in at once in two browser contexts."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from mediaspace import services as media_services
from mediaspace.models import Role
from rooms import services
from rooms.models import ChatMessage
from rooms.selectors import CHAT_SHOWN
from tests.browser.conftest import axe_violations, console_errors
from tests.factories import TEST_PASSWORD

# The page polls every two seconds; allow a couple of polls on a busy machine.
LIVE_UPDATE_MS = 6000


def sign_in_on(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/my-media/$"))


def test_a_message_deleted_by_the_chat_moderator_disappears_for_the_participant(
    page, moderator_page, live_server, live_room, paula, chad, rita
):
    # Rita's notes fill more than the chat's first page: the oldest are not on anyone's page.
    services.participant_join(user=rita, entry=live_room)
    for number in range(CHAT_SHOWN + 3):
        services.message_post(author=rita, entry=live_room, body=f"Note {number}")
    errors = {"paula": console_errors(page), "chad": console_errors(moderator_page)}
    room_url = f"{live_server.url}/rooms/{live_room.pk}/"
    sign_in_on(page, live_server.url, "paula")
    sign_in_on(moderator_page, live_server.url, "chad")

    moderator_page.goto(room_url)
    moderator_page.get_by_role("button", name="Join room").click()
    moderator_log = moderator_page.get_by_role("log", name="Chat messages")
    expect(moderator_log).to_be_visible()
    participants = moderator_page.locator("#participants")
    paula_row = participants.get_by_role("listitem").filter(has_text="Paula Park")
    expect(paula_row).to_have_count(0)

    # Paula finds the room from its media page and joins it.
    page.goto(f"{live_server.url}/media/{live_room.pk}/")
    expect(page.get_by_text("Live", exact=True)).to_be_visible()
    page.get_by_role("button", name="Join room").click()
    expect(page).to_have_url(room_url)
    expect(page.get_by_role("heading", name="Chat")).to_be_visible()
    # Her arrival reaches Chad's participants list without a reload.
    expect(paula_row).to_be_visible(timeout=LIVE_UPDATE_MS)

    page.get_by_label("Message", exact=True).fill("Is <b>the lab</b> open on Friday?")
    page.get_by_role("button", name="Send").click()
    participant_log = page.get_by_role("log", name="Chat messages")
    expect(participant_log.get_by_text("Is <b>the lab</b> open on Friday?")).to_be_visible(
        timeout=LIVE_UPDATE_MS
    )
    expect(page.get_by_label("Message", exact=True)).to_have_value("")
    expect(page.get_by_label("Message", exact=True)).to_be_focused()

    message = moderator_log.get_by_text("Is <b>the lab</b> open on Friday?")
    expect(message).to_be_visible(timeout=LIVE_UPDATE_MS)
    assert axe_violations(moderator_page) == []

    # Chad pins it: his button turns into Unpin, and Paula sees it pinned.
    moderator_log.get_by_role("button", name="Pin message from Paula Park").click()
    unpin = moderator_log.get_by_role("button", name="Unpin message from Paula Park")
    expect(unpin).to_be_visible(timeout=LIVE_UPDATE_MS)
    expect(unpin).to_be_focused()
    expect(page.locator("#chat-pinned")).to_contain_text(
        "Is <b>the lab</b> open on Friday?", timeout=LIVE_UPDATE_MS
    )

    # Chad loads earlier messages and deletes one that Paula's page does not show.
    expect(participant_log.get_by_text("Note 0", exact=True)).to_have_count(0)
    moderator_log.get_by_role("link", name="Load earlier messages").click()
    oldest = moderator_log.locator(".chat-message").filter(has_text="Note 0")
    expect(oldest).to_be_visible()
    expect(moderator_log.get_by_role("link", name="Load earlier messages")).to_have_count(0)
    oldest.get_by_role("button", name="Delete message from Rita Reyes").click()
    expect(oldest).to_have_count(0, timeout=LIVE_UPDATE_MS)

    moderator_log.get_by_role("button", name="Delete message from Paula Park").click()
    expect(message).to_have_count(0, timeout=LIVE_UPDATE_MS)
    expect(moderator_page.get_by_role("status")).to_contain_text("Message deleted.")
    expect(participant_log.get_by_text("Is <b>the lab</b> open on Friday?")).to_have_count(
        0, timeout=LIVE_UPDATE_MS
    )
    expect(page.locator("#chat-pinned")).not_to_contain_text("the lab", timeout=LIVE_UPDATE_MS)
    stored = ChatMessage.objects.get(body="Is <b>the lab</b> open on Friday?")
    assert stored.deleted_by == chad

    # Paula takes back a message of her own; it disappears for Chad too.
    page.get_by_label("Message", exact=True).fill("Sorry, wrong room")
    page.get_by_role("button", name="Send").click()
    expect(moderator_log.get_by_text("Sorry, wrong room")).to_be_visible(timeout=LIVE_UPDATE_MS)
    participant_log.get_by_role("button", name="Delete your message").click()
    expect(participant_log.get_by_text("Sorry, wrong room")).to_have_count(
        0, timeout=LIVE_UPDATE_MS
    )
    expect(moderator_log.get_by_text("Sorry, wrong room")).to_have_count(0, timeout=LIVE_UPDATE_MS)
    assert ChatMessage.objects.get(body="Sorry, wrong room").deleted_by == paula

    # Out-of-band swaps never missed their target, on either page.
    assert errors == {"paula": [], "chad": []}


def test_a_granted_participant_is_told_to_rejoin_and_rejoins_in_place(
    page, live_server, live_room, olivia, paula
):
    sign_in_on(page, live_server.url, "paula")
    page.goto(f"{live_server.url}/rooms/{live_room.pk}/")
    page.get_by_role("button", name="Join room").click()
    expect(page.get_by_role("heading", name="Chat")).to_be_visible()
    expect(page.get_by_role("button", name="Clear chat")).to_have_count(0)
    composer = page.get_by_label("Message", exact=True)
    composer.fill("Half a thought")  # still being typed when the room re-renders

    media_services.access_add(
        actor=olivia, entry=live_room, principal=paula, roles=[Role.CHAT_MODERATOR]
    )

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(
        "Your permissions changed — rejoin to apply.", timeout=LIVE_UPDATE_MS
    )
    expect(composer).to_have_value("Half a thought")
    expect(composer).to_be_focused()
    url_before = page.url
    alert.get_by_role("button", name="Rejoin").click()

    expect(page.get_by_text("You are in the room as Chat moderator.")).to_be_visible(
        timeout=LIVE_UPDATE_MS
    )
    expect(page.get_by_role("link", name="Clear chat")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.get_by_role("heading", name=live_room.name)).to_be_focused()
    assert page.url == url_before


def test_the_chat_keeps_the_readers_place_and_follows_from_the_bottom(
    page, live_server, live_room, olivia, paula
):
    services.participant_join(user=paula, entry=live_room)
    for number in range(40):
        services.message_post(author=olivia, entry=live_room, body=f"Point {number}")
    sign_in_on(page, live_server.url, "paula")
    page.goto(f"{live_server.url}/rooms/{live_room.pk}/")
    log = page.get_by_role("log", name="Chat messages")
    expect(log.get_by_text("Point 39")).to_be_in_viewport()

    # At the bottom: a new message scrolls into view.
    services.message_post(author=olivia, entry=live_room, body="Point 40")
    expect(log.get_by_text("Point 40")).to_be_in_viewport(timeout=LIVE_UPDATE_MS)

    # Scrolled up to read: the place is kept, and a button offers the new message.
    log.evaluate("(element) => { element.scrollTop = 0; }")
    services.message_post(author=olivia, entry=live_room, body="Point 41")
    jump = page.get_by_role("button", name="New messages")
    expect(jump).to_be_visible(timeout=LIVE_UPDATE_MS)
    assert log.evaluate("(element) => element.scrollTop") == 0
    expect(log.get_by_text("Point 41")).not_to_be_in_viewport()

    jump.click()
    expect(log.get_by_text("Point 41")).to_be_in_viewport()
    expect(jump).to_be_hidden()
