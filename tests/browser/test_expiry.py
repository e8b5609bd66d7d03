"""Expiry in Chromium: a moderator added until a day the owner picks, the row saying so,
and the Edit permissions dialog keeping or clearing it."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from mediaspace import access, terms
from mediaspace.models import Role
from tests.browser.conftest import axe_violations
from tests.factories import TEST_PASSWORD


def test_the_owner_adds_a_chat_moderator_until_a_day_she_picks(
    page, live_server, room, paula, sign_in
):
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    sign_in("olivia", TEST_PASSWORD)
    page.goto(f"{live_server.url}/media/{room.pk}/edit/roles/")

    page.get_by_text("Add users").click()
    page.get_by_role("menuitem", name="Moderators").click()
    dialog = page.get_by_role("dialog", name="Add moderators")
    dialog.get_by_role("combobox", name="Select users").press_sequentially("pau", delay=30)
    dialog.get_by_role("option", name=re.compile("Paula Park")).click()
    dialog.get_by_label("Chat moderator").check()

    ends = dialog.get_by_label("Access ends")
    expect(ends).to_have_value("never")
    last_day = dialog.get_by_label("Last day")
    expect(last_day).to_be_hidden()  # only for a day the owner picks
    ends.select_option(label="Until the end of a day you pick")
    expect(last_day).to_be_visible()
    assert axe_violations(page) == []
    day = terms.today() + timedelta(days=12)
    last_day.fill(day.isoformat())
    dialog.get_by_role("button", name="Add").click()

    expect(dialog).to_have_count(0)
    label = terms.until_label(terms.end_of_day(day))
    expect(page.get_by_role("status")).to_contain_text(f"Paula Park is now Chat moderator {label}.")
    row = page.get_by_role("row").filter(has_text="Paula Park")
    expect(row.locator(".until")).to_have_text(label)
    assert access.terms_of(room, [("user", paula.pk)]) == {
        ("user", paula.pk): {Role.CHAT_MODERATOR: terms.end_of_day(day)}
    }

    # Edit permissions keeps the end unless told otherwise; No expiry clears it.
    row.get_by_role("link", name="Edit permissions of Paula Park").click()
    edit = page.get_by_role("dialog", name="Edit permissions of Paula Park")
    expect(edit.get_by_label("Access ends")).to_have_value("keep")
    expect(edit.get_by_label("Access ends").locator("option:checked")).to_have_text(
        f"Keep: {label}"
    )
    assert axe_violations(page) == []
    edit.get_by_label("Access ends").select_option(label="No expiry")
    edit.get_by_role("button", name="Save").click()
    expect(edit).to_have_count(0)
    expect(row.locator(".until")).to_have_count(0)
    expect(row.get_by_text("Chat moderator")).to_be_visible()
    assert access.terms_of(room, [("user", paula.pk)]) == {}
    assert errors == []


def test_a_past_day_is_refused_next_to_the_field(page, live_server, room, paula, sign_in):
    sign_in("olivia", TEST_PASSWORD)
    page.goto(f"{live_server.url}/media/{room.pk}/edit/roles/")
    page.get_by_text("Add users").click()
    page.get_by_role("menuitem", name="Moderators").click()
    dialog = page.get_by_role("dialog", name="Add moderators")
    dialog.get_by_role("combobox", name="Select users").press_sequentially("pau", delay=30)
    dialog.get_by_role("option", name=re.compile("Paula Park")).click()
    dialog.get_by_label("Room moderator").check()
    dialog.get_by_label("Access ends").select_option(label="Until the end of a day you pick")
    dialog.get_by_label("Last day").fill((terms.today() - timedelta(days=2)).isoformat())
    dialog.get_by_role("button", name="Add").click()

    last_day = dialog.get_by_label("Last day")
    expect(last_day).to_have_attribute("aria-invalid", "true")
    expect(dialog.locator("#ends-on-error")).to_have_text(
        "Pick today or a later day: that day has passed."
    )
    # Nothing the owner did is lost: Paula and the permission are still chosen.
    expect(dialog.get_by_role("button", name="Remove Paula Park")).to_be_visible()
    expect(dialog.get_by_label("Room moderator")).to_be_checked()
    assert access.principal_roles(room, paula) == frozenset()
