"""Focus and keyboard, as the WAI-ARIA Authoring Practices say, in Chromium.

After signing in, each test uses the keyboard alone (page.keyboard) and checks where the
focus is after every step: it never falls back to <body> when a dialog closes, a row is
replaced or taken away, Load more brings rows, or a form comes back with errors.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from mediaspace import permissions, services
from mediaspace.models import MediaEntry, Role
from rooms import services as room_services
from tests.factories import TEST_PASSWORD, UserFactory


def active(page) -> str:
    """Return the focused element's opening tag, for failure messages."""
    return page.evaluate(
        "(() => { const e = document.activeElement; return e ? e.outerHTML.slice(0, 200) : ''; })()"
    )


def tab_to(page, target, *, limit: int = 80, key: str = "Tab") -> None:
    """Press Tab until `target` has the focus, checking the focus after every press."""
    if target.evaluate("element => element === document.activeElement"):
        return
    for _ in range(limit):
        page.keyboard.press(key)
        assert page.evaluate("document.activeElement !== document.body"), "focus fell to <body>"
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{key} never reached {target}; the focus is on {active(page)}")


def roles_page(page, live_server, entry) -> None:
    page.goto(f"{live_server.url}/media/{entry.pk}/edit/roles/")


def add_users_button(page):
    return page.get_by_text("Add users")


def open_add_moderators(page):
    """Open Add users ▾ → Moderators from the keyboard; return the dialog."""
    button = add_users_button(page)
    tab_to(page, button)
    page.keyboard.press("ArrowUp")  # opens the menu on its last item
    expect(page.get_by_role("menuitem", name="Moderators")).to_be_focused()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Add moderators")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("combobox", name="Select users")).to_be_focused()
    return dialog


def pick(page, dialog, letters: str, name: str) -> None:
    """Type into Select users and choose the first suggestion, which must be `name`."""
    combobox = dialog.get_by_role("combobox", name="Select users")
    page.keyboard.type(letters, delay=30)
    expect(combobox).to_have_attribute("aria-expanded", "true")
    expect(combobox).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(dialog.get_by_role("listbox").get_by_role("option", selected=True)).to_contain_text(name)
    expect(combobox).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog.get_by_role("button", name=f"Remove {name}")).to_be_visible()
    expect(combobox).to_be_focused()


# Add users ▾: a menu button ------------------------------------------------------------


def test_add_users_is_a_menu_button_driven_by_the_arrow_keys(page, live_server, room, sign_in):
    sign_in("olivia", TEST_PASSWORD)
    expect(page).to_have_url(re.compile(r"/my-media/$"))
    roles_page(page, live_server, room)
    button = add_users_button(page)
    collaborators = page.get_by_role("menuitem", name="Collaborators")
    moderators = page.get_by_role("menuitem", name="Moderators")

    tab_to(page, button)
    expect(button).to_have_attribute("aria-haspopup", "menu")
    expect(button).to_have_attribute("aria-expanded", "false")

    page.keyboard.press("ArrowDown")  # opens on the first item
    expect(page.get_by_role("menu", name="Add users")).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(collaborators).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(moderators).to_be_focused()
    page.keyboard.press("ArrowDown")  # wraps round
    expect(collaborators).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(moderators).to_be_focused()
    page.keyboard.press("Home")
    expect(collaborators).to_be_focused()
    page.keyboard.press("End")
    expect(moderators).to_be_focused()
    page.keyboard.press("c")  # the next item starting with "c"
    expect(collaborators).to_be_focused()

    page.keyboard.press("Escape")  # closes, back on the button
    expect(button).to_be_focused()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(moderators).to_be_hidden()

    page.keyboard.press("ArrowUp")  # opens on the last item
    expect(moderators).to_be_focused()
    page.keyboard.press("Escape")
    expect(button).to_be_focused()

    page.keyboard.press("Enter")  # Enter and Space open on the first item
    expect(collaborators).to_be_focused()
    page.keyboard.press("Escape")
    expect(button).to_be_focused()
    page.keyboard.press("Space")
    expect(collaborators).to_be_focused()

    page.keyboard.press("Tab")  # Tab closes the menu and goes on past it
    expect(page.get_by_role("link", name="Copy from another entry")).to_be_focused()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(collaborators).to_be_hidden()


def test_the_row_menus_still_open_and_close_as_before(page, live_server, lecture, sign_in):
    sign_in("olivia", TEST_PASSWORD)
    expect(page).to_have_url(re.compile(r"/my-media/$"))
    actions = page.get_by_label("Actions for Cell structure lecture")

    tab_to(page, actions)
    page.keyboard.press("Enter")
    row = page.get_by_role("row").filter(has_text="Cell structure lecture")
    expect(row.get_by_role("link", name="Edit", exact=True)).to_be_visible()
    expect(actions).to_be_focused()
    page.keyboard.press("Escape")
    expect(row.get_by_role("link", name="Edit", exact=True)).to_be_hidden()
    expect(actions).to_be_focused()


# Add moderators ------------------------------------------------------------------------


def test_add_moderators_with_the_keyboard_alone(page, live_server, room, paula, sign_in):
    sign_in("olivia", TEST_PASSWORD)
    expect(page).to_have_url(re.compile(r"/my-media/$"))
    roles_page(page, live_server, room)

    dialog = open_add_moderators(page)
    pick(page, dialog, "pa", "Paula Park")
    page.keyboard.press("Tab")
    room_moderator = dialog.get_by_role("checkbox", name=re.compile("^Room moderator"))
    expect(room_moderator).to_be_focused()
    page.keyboard.press("Space")
    expect(room_moderator).to_be_checked()
    expect(room_moderator).to_be_focused()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("checkbox", name=re.compile("^Chat moderator"))).to_be_focused()
    page.keyboard.press("Tab")
    expect(dialog.get_by_label("Access ends")).to_be_focused()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("link", name="Cancel")).to_be_focused()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Add")).to_be_focused()
    page.keyboard.press("Enter")

    expect(dialog).to_have_count(0)
    expect(add_users_button(page)).to_be_focused()
    expect(page.get_by_role("status")).to_contain_text("Paula Park is now Room moderator.")
    expect(page.get_by_role("link", name="Edit permissions of Paula Park")).to_be_visible()


def test_a_refused_add_puts_the_focus_on_the_first_field_with_a_problem(
    page, live_server, room, paula, sign_in
):
    sign_in("olivia", TEST_PASSWORD)
    expect(page).to_have_url(re.compile(r"/my-media/$"))
    roles_page(page, live_server, room)
    dialog = open_add_moderators(page)
    combobox = dialog.get_by_role("combobox", name="Select users")
    add = dialog.get_by_role("button", name="Add")

    tab_to(page, add)  # nobody picked, no permission
    page.keyboard.press("Enter")
    expect(dialog.get_by_text("Choose at least one permission.")).to_be_visible()
    expect(combobox).to_have_attribute("aria-invalid", "true")
    expect(combobox).to_be_focused()  # the first of the two problems

    pick(page, dialog, "pa", "Paula Park")
    tab_to(page, add)
    page.keyboard.press("Enter")
    room_moderator = dialog.get_by_role("checkbox", name=re.compile("^Room moderator"))
    expect(dialog.get_by_text("Choose at least one permission.")).to_be_visible()
    expect(dialog.get_by_role("button", name="Remove Paula Park")).to_be_visible()
    expect(room_moderator).to_be_focused()

    page.keyboard.press("Space")
    expect(room_moderator).to_be_checked()
    tab_to(page, add)
    page.keyboard.press("Enter")
    expect(dialog).to_have_count(0)
    expect(add_users_button(page)).to_be_focused()
    assert permissions.principal_roles(room, paula) == {Role.ROOM_MODERATOR}


def test_escape_with_people_picked_asks_before_dropping_them(
    page, live_server, room, paula, teaching_assistants, sign_in
):
    sign_in("olivia", TEST_PASSWORD)
    expect(page).to_have_url(re.compile(r"/my-media/$"))
    roles_page(page, live_server, room)

    # Nothing picked: Escape closes at once, back on the button.
    dialog = open_add_moderators(page)
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(add_users_button(page)).to_be_focused()

    dialog = open_add_moderators(page)
    combobox = dialog.get_by_role("combobox", name="Select users")
    pick(page, dialog, "pa", "Paula Park")
    page.keyboard.press("Escape")
    question = dialog.get_by_role("group", name="Discard the person you picked?")
    keep = question.get_by_role("button", name="Keep editing")
    expect(question).to_be_visible()
    expect(keep).to_be_focused()
    page.keyboard.press("Enter")  # Keep editing
    expect(question).to_have_count(0)
    expect(dialog.get_by_role("button", name="Remove Paula Park")).to_be_visible()
    expect(combobox).to_be_focused()

    pick(page, dialog, "teach", "Teaching Assistants")
    page.keyboard.press("Escape")
    question = dialog.get_by_role("group", name="Discard the 1 person and 1 group you picked?")
    expect(question.get_by_role("button", name="Keep editing")).to_be_focused()
    page.keyboard.press("Escape")  # Escape again keeps editing
    expect(question).to_have_count(0)
    expect(dialog).to_be_visible()
    expect(dialog.locator(".chip")).to_have_count(2)
    expect(combobox).to_be_focused()

    page.keyboard.press("Escape")
    expect(question.get_by_role("button", name="Keep editing")).to_be_focused()
    page.keyboard.press("Tab")  # the rest of the dialog waits for the answer
    expect(question.get_by_role("button", name="Discard")).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_have_count(0)
    expect(add_users_button(page)).to_be_focused()
    assert permissions.principal_roles(room, paula) == frozenset()


# Edit permissions and Remove -----------------------------------------------------------


def test_edit_permissions_returns_the_focus_to_the_rows_new_edit_link(
    page, live_server, room, rita, sign_in
):
    sign_in("olivia", TEST_PASSWORD)
    expect(page).to_have_url(re.compile(r"/my-media/$"))
    roles_page(page, live_server, room)
    edit = page.get_by_role("link", name="Edit permissions of Rita Reyes")

    tab_to(page, edit)
    edit.evaluate("link => { link.dataset.before = 'yes'; }")  # to tell the row's new copy
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Edit permissions of Rita Reyes")
    expect(dialog.get_by_role("checkbox").first).to_be_focused()
    chat_moderator = dialog.get_by_role("checkbox", name=re.compile("^Chat moderator"))
    tab_to(page, chat_moderator)
    page.keyboard.press("Space")
    expect(chat_moderator).to_be_checked()
    expect(chat_moderator).to_be_focused()
    tab_to(page, dialog.get_by_role("button", name="Save"))
    page.keyboard.press("Enter")

    expect(dialog).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text(
        "Rita Reyes now has Room moderator and Chat moderator."
    )
    expect(edit).to_be_focused()
    expect(edit).not_to_have_attribute("data-before", "yes")  # the replaced row's link
    row = page.get_by_role("row").filter(has_text="Rita Reyes")
    expect(row.get_by_text("Chat moderator")).to_be_visible()

    page.keyboard.press("Enter")  # and it opens the dialog again, pre-filled
    expect(dialog.get_by_role("checkbox", name=re.compile("^Chat moderator"))).to_be_checked()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(edit).to_be_focused()


def test_remove_opens_on_cancel_and_then_moves_the_focus_to_a_neighbour(
    page, live_server, room, evan, sign_in
):
    sign_in("olivia", TEST_PASSWORD)
    expect(page).to_have_url(re.compile(r"/my-media/$"))
    roles_page(page, live_server, room)
    # The rows under the owner's: Chad Chen, Evan Edwards, Rita Reyes.
    remove_chad = page.get_by_role("link", name="Remove Chad Chen")

    tab_to(page, remove_chad)
    page.keyboard.press("Enter")
    confirm = page.get_by_role("dialog", name="Remove Chad Chen?")
    expect(confirm.get_by_role("link", name="Cancel")).to_be_focused()
    page.keyboard.press("Enter")  # a stray Enter cancels
    expect(confirm).to_have_count(0)
    expect(remove_chad).to_be_focused()

    page.keyboard.press("Enter")
    expect(confirm.get_by_role("link", name="Cancel")).to_be_focused()
    page.keyboard.press("Tab")
    expect(confirm.get_by_role("button", name="Remove")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("row").filter(has_text="Chad Chen")).to_have_count(0)
    # The next row's first action.
    evan_edit = page.get_by_role("link", name="Edit permissions of Evan Edwards")
    expect(evan_edit).to_be_focused()

    # The last row: the focus goes back to the previous row's first action.
    tab_to(page, page.get_by_role("link", name="Remove Rita Reyes"))
    page.keyboard.press("Enter")
    confirm = page.get_by_role("dialog", name="Remove Rita Reyes?")
    expect(confirm.get_by_role("link", name="Cancel")).to_be_focused()
    page.keyboard.press("Tab")
    expect(confirm.get_by_role("button", name="Remove")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("row").filter(has_text="Rita Reyes")).to_have_count(0)
    expect(evan_edit).to_be_focused()

    # The only row left: the focus goes to the owner's row, its Transfer ownership.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Remove Evan Edwards")).to_be_focused()
    page.keyboard.press("Enter")
    confirm = page.get_by_role("dialog", name="Remove Evan Edwards?")
    expect(confirm.get_by_role("link", name="Cancel")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("row").filter(has_text="Evan Edwards")).to_have_count(0)
    expect(page.get_by_role("link", name="Transfer ownership")).to_be_focused()
    assert permissions.principal_roles(room, evan) == frozenset()


# Delete, End session, Clear chat -------------------------------------------------------


def test_delete_opens_on_cancel_and_then_moves_the_focus_to_the_next_row(
    page, live_server, olivia, sign_in
):
    for name in ("Alpha lecture", "Beta lecture"):  # Beta is newer: listed first
        services.media_create(owner=olivia, name=name, media_type=MediaEntry.Type.VIDEO)
    sign_in("olivia", TEST_PASSWORD)
    expect(page).to_have_url(re.compile(r"/my-media/$"))
    beta = page.get_by_label("Actions for Beta lecture")
    alpha = page.get_by_label("Actions for Alpha lecture")

    def confirm_delete(actions, name: str):
        """From the row's ⋮ (focused), open Delete; return the confirmation."""
        expect(actions).to_be_focused()
        page.keyboard.press("Enter")  # opens the ⋮ menu
        row = page.get_by_role("row").filter(has_text=name)
        tab_to(page, row.get_by_role("link", name="Delete"))
        page.keyboard.press("Enter")
        confirm = page.get_by_role("dialog", name=f"Delete “{name}”?")
        expect(confirm.get_by_role("link", name="Cancel")).to_be_focused()
        return confirm

    def delete(actions, name: str) -> None:
        confirm = confirm_delete(actions, name)
        page.keyboard.press("Tab")
        expect(confirm.get_by_role("button", name="Delete")).to_be_focused()
        page.keyboard.press("Enter")
        expect(confirm).to_have_count(0)
        expect(page.get_by_role("row").filter(has_text=name)).to_have_count(0)

    tab_to(page, beta)
    confirm = confirm_delete(beta, "Beta lecture")
    page.keyboard.press("Escape")  # changes nothing, back on the ⋮ that opened it
    expect(confirm).to_have_count(0)
    expect(beta).to_be_focused()

    delete(beta, "Beta lecture")
    expect(alpha).to_be_focused()  # the next row's ⋮
    delete(alpha, "Alpha lecture")
    expect(page.get_by_role("heading", name="My Media", level=1)).to_be_focused()
    assert not MediaEntry.objects.filter(owner=olivia).exists()


@pytest.fixture
def joined_live_room(room, olivia) -> MediaEntry:
    """The room with a live session that Olivia started and is in."""
    room_services.session_start(actor=olivia, entry=room)
    room_services.participant_join(user=olivia, entry=room)
    return room


def test_end_session_and_clear_chat_open_on_cancel(page, live_server, joined_live_room, sign_in):
    sign_in("olivia", TEST_PASSWORD)
    expect(page).to_have_url(re.compile(r"/my-media/$"))
    page.goto(f"{live_server.url}/rooms/{joined_live_room.pk}/")

    for opener, title in (
        ("End session", "End the session for everyone?"),
        ("Clear chat", "Clear the chat for everyone?"),
    ):
        link = page.get_by_role("link", name=opener, exact=True)
        tab_to(page, link)
        page.keyboard.press("Enter")
        confirm = page.get_by_role("dialog", name=title)
        expect(confirm.get_by_role("link", name="Cancel")).to_be_focused()
        page.keyboard.press("Escape")
        expect(confirm).to_have_count(0)
        expect(link).to_be_focused()


# Load more -----------------------------------------------------------------------------


def watch_busy(page, table) -> None:
    """Record the table's aria-busy changes in window.busyChanges."""
    table.evaluate(
        """table => {
            window.busyChanges = [];
            new MutationObserver(() => window.busyChanges.push(table.getAttribute("aria-busy")))
                .observe(table, { attributes: true, attributeFilter: ["aria-busy"] });
        }"""
    )


def test_load_more_on_the_roles_tab_moves_the_focus_to_the_first_new_row(
    page, live_server, room, olivia, sign_in
):
    for number in range(1, 26):
        person = UserFactory(username=f"person{number}", display_name=f"Person {number:02d}")
        services.access_add(
            actor=olivia, entry=room, principal=person, roles=[Role.CHAT_MODERATOR], moderators=True
        )
    sign_in("olivia", TEST_PASSWORD)
    expect(page).to_have_url(re.compile(r"/my-media/$"))
    roles_page(page, live_server, room)
    # 28 rows under the owner's, 20 at a time: Chad, Evan, Person 01–18, then Person 19.
    expect(page.locator("#access-rows tr")).to_have_count(20)
    watch_busy(page, page.locator("#access-table"))
    load_more = page.get_by_role("link", name="Load more")

    tab_to(page, load_more)
    page.keyboard.press("Enter")
    first_new = page.get_by_role("link", name="Edit permissions of Person 19")
    expect(first_new).to_be_focused()
    expect(page.get_by_role("link", name="Edit permissions of Rita Reyes")).to_be_visible()
    expect(load_more).to_have_count(0)
    assert page.evaluate("window.busyChanges") == ["true", None]

    page.keyboard.press("Tab")  # and the keyboard goes on from there
    expect(page.get_by_role("link", name="Remove Person 19")).to_be_focused()
    page.keyboard.press("Tab")  # the next row: where its access comes from, then its actions
    person_20 = page.get_by_role("row").filter(has_text="Person 20")
    expect(person_20.get_by_text("Where access comes from")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Edit permissions of Person 20")).to_be_focused()


def test_load_more_on_my_media_moves_the_focus_to_the_first_new_entry(
    page, live_server, olivia, sign_in
):
    for number in range(1, 26):
        services.media_create(
            owner=olivia, name=f"Entry {number:02d}", media_type=MediaEntry.Type.VIDEO
        )
    sign_in("olivia", TEST_PASSWORD)
    expect(page).to_have_url(re.compile(r"/my-media/$"))
    # Newest first, 20 at a time: Entry 25 to Entry 06, then Entry 05.
    expect(page.locator("#media-table tbody tr")).to_have_count(20)
    watch_busy(page, page.locator("#media-table"))
    load_more = page.get_by_role("link", name="Load more")

    tab_to(page, load_more, limit=120)
    page.keyboard.press("Enter")
    first_new = page.get_by_role("link", name="Entry 05", exact=True)
    expect(first_new).to_be_focused()
    expect(page.locator("#media-table tbody tr")).to_have_count(25)
    assert page.evaluate("window.busyChanges") == ["true", None]

    page.keyboard.press("Tab")
    expect(page.get_by_label("Actions for Entry 05")).to_be_focused()


# The Details tab -----------------------------------------------------------------------


def test_a_refused_details_save_puts_the_focus_on_the_invalid_field(
    page, live_server, lecture, sign_in
):
    sign_in("olivia", TEST_PASSWORD)
    expect(page).to_have_url(re.compile(r"/my-media/$"))
    page.goto(f"{live_server.url}/media/{lecture.pk}/edit/")
    name = page.get_by_role("textbox", name="Name")
    save = page.get_by_role("button", name="Save")

    tab_to(page, name)
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.press("Backspace")
    expect(name).to_have_value("")
    expect(name).to_be_focused()
    tab_to(page, save)
    page.keyboard.press("Enter")

    expect(page.get_by_text("Give the media a name.")).to_be_visible()
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_be_focused()

    page.keyboard.type("Cell structure, revised")
    tab_to(page, save)
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Media successfully updated.")
    lecture.refresh_from_db()
    assert lecture.name == "Cell structure, revised"
