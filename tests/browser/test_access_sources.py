"""Where access comes from, in Chromium: a row's disclosure and the Check access box."""

from __future__ import annotations

from playwright.sync_api import expect

from mediaspace import services
from mediaspace.models import Role
from tests.browser.conftest import axe_violations
from tests.factories import TEST_PASSWORD, GroupFactory, UserFactory


def test_a_row_and_check_access_say_where_access_comes_from(
    page, live_server, room, paula, sign_in
):
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    tara = UserFactory(username="tara", display_name="Tara Thompson")
    assistants = GroupFactory(name="Teaching Assistants")
    assistants.user_set.add(tara, paula)
    services.access_add(actor=None, entry=room, principal=paula, roles=[Role.CO_VIEWER])
    services.access_add(
        actor=None,
        entry=room,
        principal=assistants,
        roles=[Role.ROOM_MODERATOR, Role.CHAT_MODERATOR],
    )
    sign_in("olivia", TEST_PASSWORD)
    page.goto(f"{live_server.url}/media/{room.pk}/edit/roles/")

    # Paula's row: her own grant and the group's.
    row = page.get_by_role("row").filter(has_text="Paula Park")
    row.get_by_text("Where access comes from").click()
    answer = row.locator(".why-answer")
    expect(answer).to_contain_text("Given directly: Co-viewer")
    expect(answer).to_contain_text("Via Teaching Assistants: Room moderator Chat moderator")
    expect(answer).to_contain_text("can run the room")
    assert axe_violations(page) == []

    # Tara holds her roles only through the group: Check access finds her and says why.
    box = page.get_by_label("What can this person do here, and why?")
    box.fill("tara")
    box.press("Enter")
    result = page.locator("#check-result")
    expect(result).to_contain_text("Tara Thompson holds Room moderator, Chat moderator")
    expect(result).to_contain_text("Via Teaching Assistants")
    expect(page.get_by_role("table").get_by_text("Tara Thompson")).to_have_count(0)
    box.fill("zzzz")
    box.press("Enter")
    expect(page.locator("#check-error")).to_have_text(
        "No one matches “zzzz”. Try part of their name, username or email."
    )
    expect(box).to_have_attribute("aria-invalid", "true")
    assert axe_violations(page) == []
    assert errors == []
