"""Copy permissions in Chromium: find the entry, preview, copy; the new rows appear."""

from __future__ import annotations

from playwright.sync_api import expect

from mediaspace import access, services
from mediaspace.models import Role
from rooms import services as room_services
from tests.browser.conftest import axe_violations
from tests.factories import TEST_PASSWORD


def test_the_owner_copies_moderators_from_last_terms_room(
    page, live_server, room, olivia, paula, sign_in
):
    source = room_services.room_create(
        owner=olivia, name="Office hours, last term", description="", tags=""
    )
    services.access_add(actor=olivia, entry=source, principal=paula, roles=[Role.CHAT_MODERATOR])
    sign_in("olivia", TEST_PASSWORD)
    page.goto(f"{live_server.url}/media/{room.pk}/edit/roles/")

    page.get_by_role("link", name="Copy from another entry").click()
    dialog = page.get_by_role("dialog", name="Copy permissions from another entry")
    dialog.get_by_label("Find an entry you own or co-edit").fill("last term")
    dialog.get_by_label("Office hours, last term").check()
    assert axe_violations(page) == []
    dialog.get_by_role("button", name="Preview").click()
    expect(dialog.get_by_role("list", name="What the copy adds")).to_contain_text(
        "Paula Park: Chat moderator"
    )
    assert axe_violations(page) == []
    dialog.get_by_role("button", name="Copy").click()

    expect(dialog).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text(
        "Copied from “Office hours, last term”: 1 user or group gained access."
    )
    expect(page.get_by_role("row").filter(has_text="Paula Park")).to_contain_text("Chat moderator")
    assert access.principal_roles(room, paula) == {Role.CHAT_MODERATOR}
