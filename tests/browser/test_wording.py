"""Words that match what happened, in Chromium: a revocation in a live room (two people
at two computers), the owner in Select users, clearing every box in Edit permissions."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from mediaspace import permissions
from mediaspace import services as media_services
from mediaspace.models import Role
from tests.browser.conftest import console_errors
from tests.browser.test_room_chat import LIVE_UPDATE_MS, sign_in_on


def test_a_revoked_moderator_is_told_and_everyone_s_list_changes_at_once(
    page, moderator_page, live_server, live_room, olivia, chad, paula
):
    errors = {"paula": console_errors(page), "chad": console_errors(moderator_page)}
    room_url = f"{live_server.url}/rooms/{live_room.pk}/"
    for who, tab in (("paula", page), ("chad", moderator_page)):
        sign_in_on(tab, live_server.url, who)
        tab.goto(room_url)
        tab.get_by_role("button", name="Join room").click()
        expect(tab.get_by_role("log", name="Chat messages")).to_be_visible()
    chad_in_paulas_list = page.locator("#participants li").filter(has_text="Chad Chen")
    expect(chad_in_paulas_list).to_contain_text("Chat moderator")
    expect(moderator_page.get_by_role("link", name="Clear chat")).to_be_visible()

    media_services.access_set(actor=olivia, entry=live_room, principal=chad, roles=[])

    notice = moderator_page.get_by_role("alert")
    expect(notice).to_have_text(
        "You are no longer a chat moderator in this room.", timeout=LIVE_UPDATE_MS
    )
    expect(moderator_page.get_by_role("button", name="Rejoin")).to_have_count(0)
    expect(moderator_page.get_by_role("link", name="Clear chat")).to_have_count(0)
    expect(chad_in_paulas_list).not_to_contain_text("Chat moderator", timeout=LIVE_UPDATE_MS)
    expect(chad_in_paulas_list).to_be_visible()
    assert errors == {"paula": [], "chad": []}


def open_roles(page, live_server, entry) -> None:
    page.goto(f"{live_server.url}/media/{entry.pk}/edit/roles/")
    expect(page.get_by_role("heading", name="Roles & permissions")).to_be_visible()


def test_the_owner_found_in_select_users_cannot_be_chosen(page, live_server, room, sign_in):
    sign_in_on(page, live_server.url, "evan")
    open_roles(page, live_server, room)
    page.get_by_text("Add users").click()
    page.get_by_role("menuitem", name="Moderators").click()
    dialog = page.get_by_role("dialog", name="Add moderators")
    combobox = dialog.get_by_role("combobox", name="Select users")

    combobox.press_sequentially("olivia", delay=30)

    owner = dialog.get_by_role("option", name=re.compile("Olivia Owens"))
    expect(owner).to_contain_text("Owner — already has full control")
    expect(owner).to_have_attribute("aria-disabled", "true")
    expect(dialog.get_by_text("No matching users or groups")).to_be_hidden()
    owner.click(force=True)  # a tap on it, as a person might try
    combobox.press("Enter")
    expect(dialog.locator(".chip")).to_have_count(0)


def test_clearing_every_box_asks_as_remove_does(page, live_server, room, rita, sign_in):
    sign_in_on(page, live_server.url, "olivia")
    open_roles(page, live_server, room)
    page.get_by_role("link", name="Edit permissions of Rita Reyes").click()
    dialog = page.get_by_role("dialog", name="Edit permissions of Rita Reyes")
    dialog.get_by_role("checkbox", name=re.compile("^Room moderator")).uncheck()

    dialog.get_by_role("button", name="Save").click()

    dialog = page.get_by_role("dialog", name="Remove Rita Reyes?")
    expect(dialog.get_by_role("heading", name="Remove Rita Reyes?")).to_be_visible()
    expect(dialog).to_contain_text("will lose Room moderator")
    assert permissions.principal_roles(room, rita) == {Role.ROOM_MODERATOR}
    dialog.get_by_role("button", name="Remove").click()
    expect(page.get_by_role("row").filter(has_text="Rita Reyes")).to_have_count(0)
    assert permissions.principal_roles(room, rita) == set()
