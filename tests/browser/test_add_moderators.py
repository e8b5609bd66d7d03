"""The help page's steps, in Chromium: add a room moderator, then a group as both."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from mediaspace import permissions
from mediaspace.models import Role
from tests.factories import TEST_PASSWORD, GroupFactory, UserFactory


def open_roles_from_my_media(page, room) -> None:
    page.get_by_role("row").filter(has_text=room.name).get_by_label(
        f"Actions for {room.name}"
    ).click()
    page.get_by_role("link", name="Edit", exact=True).click()
    expect(page.get_by_role("link", name="Details")).to_have_attribute("aria-current", "page")
    page.get_by_role("link", name="Roles & permissions").click()
    expect(page).to_have_url(re.compile(rf"/media/{room.pk}/edit/roles/$"))


def test_the_owner_adds_a_room_moderator_as_the_help_page_says(
    page, live_server, room, paula, sign_in
):
    sign_in("olivia", TEST_PASSWORD)
    open_roles_from_my_media(page, room)

    page.get_by_text("Add users").click()
    page.get_by_role("menuitem", name="Moderators").click()
    dialog = page.get_by_role("dialog", name="Add moderators")
    expect(dialog).to_be_visible()
    dialog.get_by_role("combobox", name="Select users").press_sequentially("pau", delay=30)
    dialog.get_by_role("option", name=re.compile("Paula Park")).click()
    expect(dialog.get_by_role("button", name="Remove Paula Park")).to_be_visible()
    dialog.get_by_label("Room moderator").check()
    dialog.get_by_role("button", name="Add").click()

    expect(dialog).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text("Paula Park is now Room moderator.")
    row = page.get_by_role("row").filter(has_text="Paula Park")
    expect(row.get_by_text("Room moderator")).to_be_visible()
    assert permissions.principal_roles(room, paula) == {Role.ROOM_MODERATOR}


def add_moderator(page, who: str, permission: str) -> None:
    page.get_by_text("Add users").click()
    page.get_by_role("menuitem", name="Moderators").click()
    dialog = page.get_by_role("dialog", name="Add moderators")
    dialog.get_by_role("combobox", name="Select users").press_sequentially(who[:3], delay=30)
    dialog.get_by_role("option", name=re.compile(who)).click()
    dialog.get_by_label(permission).check()
    dialog.get_by_role("button", name="Add").click()
    expect(dialog).to_have_count(0)


def test_repeated_adds_update_the_one_row_in_place(page, live_server, room, paula, sign_in):
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    sign_in("olivia", TEST_PASSWORD)
    page.goto(f"{live_server.url}/media/{room.pk}/edit/roles/")

    add_moderator(page, "Paula Park", "Room moderator")
    rows = page.get_by_role("row").filter(has_text="Paula Park")
    expect(rows).to_have_count(1)
    expect(rows.get_by_text("Room moderator")).to_be_visible()
    # New rows go at the top of the list, under the owner's.
    expect(page.get_by_role("row").nth(2)).to_contain_text("Paula Park")
    expect(page.locator("#access-count")).to_contain_text("5 users and 0 groups with access")

    add_moderator(page, "Paula Park", "Chat moderator")
    expect(rows).to_have_count(1)
    expect(rows.get_by_text("Chat moderator")).to_be_visible()
    expect(rows.get_by_text("Room moderator")).to_be_visible()
    expect(page.locator("#access-count")).to_contain_text("5 users and 0 groups with access")
    activity = page.locator("#activity-list li")
    expect(activity.first).to_contain_text("changed Paula Park from Room moderator to")
    expect(activity.nth(1)).to_contain_text("gave Paula Park Room moderator")

    # Paula can be edited from her new row like any other.
    page.get_by_role("link", name="Edit permissions of Paula Park").click()
    dialog = page.get_by_role("dialog", name="Edit permissions of Paula Park")
    expect(dialog.get_by_label("Chat moderator")).to_be_checked()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    page.reload()
    expect(page.get_by_role("row").filter(has_text="Paula Park")).to_have_count(1)
    names = page.locator("#access-rows .person-name").all_inner_texts()
    assert names == sorted(names, key=str.lower)  # people in their order once reloaded
    assert errors == []
    assert permissions.principal_roles(room, paula) == {Role.ROOM_MODERATOR, Role.CHAT_MODERATOR}


def test_a_group_with_both_permissions_is_listed_by_name_only(page, live_server, room, sign_in):
    group = GroupFactory(name="Teaching Assistants")
    member = UserFactory(username="tara", display_name="Tara Thompson")
    group.user_set.add(member)
    sign_in("evan", TEST_PASSWORD)
    page.goto(f"{live_server.url}/media/{room.pk}/edit/roles/")

    page.get_by_text("Add users").click()
    page.get_by_role("menuitem", name="Moderators").click()
    dialog = page.get_by_role("dialog", name="Add moderators")
    dialog.get_by_role("combobox", name="Select users").press_sequentially("teach", delay=30)
    dialog.get_by_role("option", name=re.compile("Teaching Assistants")).click()
    dialog.get_by_label("Room moderator").check()
    dialog.get_by_label("Chat moderator").check()
    dialog.get_by_role("button", name="Add").click()

    expect(page.get_by_role("status")).to_contain_text(
        "Teaching Assistants is now Room moderator and Chat moderator."
    )
    row = page.get_by_role("row").filter(has_text="Teaching Assistants")
    expect(row.get_by_text("Group · 1 member")).to_be_visible()
    expect(row.get_by_text("Chat moderator")).to_be_visible()
    expect(page.get_by_role("table").get_by_text("Tara Thompson")).to_have_count(0)


def test_the_whole_flow_works_with_the_keyboard_alone(page, live_server, room, paula, sign_in):
    sign_in("olivia", TEST_PASSWORD)
    page.goto(f"{live_server.url}/media/{room.pk}/edit/roles/")

    add_users = page.get_by_text("Add users")
    add_users.focus()
    page.keyboard.press("Enter")
    moderators = page.get_by_role("menuitem", name="Moderators")
    moderators.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Add moderators")
    combobox = dialog.get_by_role("combobox", name="Select users")
    expect(combobox).to_be_focused()

    page.keyboard.type("pa", delay=30)
    expect(combobox).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("ArrowDown")
    expect(combobox).to_have_attribute("aria-activedescendant", re.compile("principals-option"))
    page.keyboard.press("Enter")
    expect(dialog.get_by_role("button", name="Remove Paula Park")).to_be_visible()
    expect(combobox).to_be_focused()
    expect(combobox).to_have_value("")

    page.keyboard.press("Tab")  # past nothing else in the combobox, to Room moderator
    expect(dialog.get_by_label("Room moderator")).to_be_focused()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # Access ends
    page.keyboard.press("Tab")  # Cancel
    page.keyboard.press("Tab")  # Add
    expect(dialog.get_by_role("button", name="Add")).to_be_focused()
    page.keyboard.press("Enter")

    expect(dialog).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text("Paula Park is now Room moderator.")
    expect(page.get_by_text("Add users")).to_be_focused()
    assert permissions.principal_roles(room, paula) == {Role.ROOM_MODERATOR}


def test_backspace_removes_the_last_chip_and_escape_closes(page, live_server, room, paula, sign_in):
    sign_in("olivia", TEST_PASSWORD)
    page.goto(f"{live_server.url}/media/{room.pk}/edit/roles/")
    page.get_by_text("Add users").click()
    page.get_by_role("menuitem", name="Moderators").click()
    dialog = page.get_by_role("dialog", name="Add moderators")
    combobox = dialog.get_by_role("combobox", name="Select users")

    combobox.press_sequentially("pa", delay=30)
    expect(combobox).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Enter")
    expect(dialog.locator(".chip")).to_have_count(1)
    page.keyboard.press("Backspace")
    expect(dialog.locator(".chip")).to_have_count(0)

    combobox.press_sequentially("ch", delay=30)
    expect(combobox).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Escape")  # first Escape closes the suggestions only
    expect(combobox).to_have_attribute("aria-expanded", "false")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")  # the second closes the dialog
    expect(dialog).to_have_count(0)


def test_adding_without_a_permission_says_so_and_keeps_the_choice(
    page, live_server, room, paula, sign_in
):
    sign_in("olivia", TEST_PASSWORD)
    page.goto(f"{live_server.url}/media/{room.pk}/edit/roles/")
    page.get_by_text("Add users").click()
    page.get_by_role("menuitem", name="Moderators").click()
    dialog = page.get_by_role("dialog", name="Add moderators")
    dialog.get_by_role("combobox", name="Select users").press_sequentially("paula", delay=30)
    dialog.get_by_role("option", name=re.compile("Paula Park")).click()

    dialog.get_by_role("button", name="Add").click()

    expect(dialog.get_by_text("Choose at least one permission.")).to_be_visible()
    expect(dialog.get_by_role("button", name="Remove Paula Park")).to_be_visible()
    dialog.get_by_label("Chat moderator").check()
    dialog.get_by_role("button", name="Add").click()
    expect(page.get_by_role("status")).to_contain_text("Paula Park is now Chat moderator.")


def test_edit_permissions_and_remove(page, live_server, room, sign_in, rita):
    sign_in("olivia", TEST_PASSWORD)
    page.goto(f"{live_server.url}/media/{room.pk}/edit/roles/")

    page.get_by_role("link", name="Edit permissions of Rita Reyes").click()
    dialog = page.get_by_role("dialog", name="Edit permissions of Rita Reyes")
    expect(dialog.get_by_label("Room moderator")).to_be_checked()
    dialog.get_by_label("Chat moderator").check()
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Rita Reyes now has Room moderator and Chat moderator."
    )

    page.get_by_role("link", name="Remove Rita Reyes").click()
    confirm = page.get_by_role("dialog", name="Remove Rita Reyes?")
    expect(confirm).to_contain_text("will lose Room moderator and Chat moderator")
    confirm.get_by_role("button", name="Remove").click()

    expect(page.get_by_role("row").filter(has_text="Rita Reyes")).to_have_count(0)
    expect(page.get_by_role("listitem").filter(has_text="removed Rita Reyes")).to_be_visible()
    assert permissions.principal_roles(room, rita) == frozenset()


def test_no_match_is_said_without_an_empty_listbox(page, live_server, room, sign_in):
    sign_in("olivia", TEST_PASSWORD)
    page.goto(f"{live_server.url}/media/{room.pk}/edit/roles/")
    page.get_by_text("Add users").click()
    page.get_by_role("menuitem", name="Moderators").click()
    dialog = page.get_by_role("dialog", name="Add moderators")

    dialog.get_by_role("combobox", name="Select users").press_sequentially("zzqq", delay=30)

    expect(dialog.get_by_text("No matching users or groups", exact=True)).to_be_visible()
    expect(dialog.get_by_role("combobox", name="Select users")).to_have_attribute(
        "aria-expanded", "false"
    )
