"""Transfer ownership in Chromium: the owner picks the new owner, keeps Co-editor, and the
Roles tab shows the new owner at once."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from mediaspace.models import MediaEntry
from tests.browser.conftest import axe_violations
from tests.factories import TEST_PASSWORD


def test_the_owner_transfers_a_room_and_stays_a_co_editor(page, live_server, room, rita, sign_in):
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    sign_in("olivia", TEST_PASSWORD)
    page.goto(f"{live_server.url}/media/{room.pk}/edit/roles/")

    page.get_by_role("link", name="Transfer ownership").click()
    dialog = page.get_by_role("dialog", name="Transfer ownership")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Keep Co-editor access for me after the transfer")).to_be_checked()
    assert axe_violations(page) == []
    dialog.get_by_role("combobox", name="New owner").press_sequentially("rit", delay=30)
    dialog.get_by_role("option", name=re.compile("Rita Reyes")).click()
    dialog.get_by_role("button", name="Transfer").click()

    expect(page.get_by_role("status")).to_contain_text(
        "Rita Reyes now owns “Biology 101 office hours”. You are now a co-editor."
    )
    owner_row = page.locator(".owner-row")
    expect(owner_row).to_contain_text("Rita Reyes")
    expect(page.get_by_role("link", name="Transfer ownership")).to_have_count(0)
    olivia_row = page.get_by_role("row").filter(has_text="Olivia Owens")
    expect(olivia_row.get_by_text("Co-editor")).to_be_visible()
    expect(page.locator("#activity-list li").first).to_contain_text(
        "Olivia Owens gave up ownership, keeping Co-editor"
    )
    assert MediaEntry.objects.get(pk=room.pk).owner == rita
    assert errors == []
