from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.factories import TEST_PASSWORD


def open_menu_for(page, name: str) -> None:
    page.get_by_role("row").filter(has_text=name).get_by_label(f"Actions for {name}").click()


def test_the_owner_renames_an_entry_from_my_media(page, live_server, lecture, sign_in):
    sign_in("olivia", TEST_PASSWORD)

    open_menu_for(page, "Cell structure lecture")
    page.get_by_role("link", name="Edit", exact=True).click()

    expect(page).to_have_url(re.compile(rf"/media/{lecture.pk}/edit/$"))
    expect(page.get_by_role("link", name="Details")).to_have_attribute("aria-current", "page")
    page.get_by_label("Name").fill("Cell structure, revised")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("status")).to_contain_text("Media successfully updated.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Cell structure, revised")
    lecture.refresh_from_db()
    assert lecture.name == "Cell structure, revised"


def test_an_empty_name_is_refused_next_to_the_field(page, live_server, lecture, sign_in):
    sign_in("olivia", TEST_PASSWORD)
    page.goto(f"{live_server.url}/media/{lecture.pk}/edit/")

    page.get_by_label("Name").fill("")
    page.get_by_label("Description").fill("Kept, not lost")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text("Give the media a name.")).to_be_visible()
    expect(page.get_by_label("Description")).to_have_value("Kept, not lost")
    lecture.refresh_from_db()
    assert lecture.name == "Cell structure lecture"


def test_tabs_switch_in_place_and_push_the_url(page, live_server, lecture, sign_in):
    sign_in("olivia", TEST_PASSWORD)
    page.goto(f"{live_server.url}/media/{lecture.pk}/edit/")

    page.get_by_role("link", name="Roles & permissions").click()

    expect(page).to_have_url(re.compile(rf"/media/{lecture.pk}/edit/roles/$"))
    expect(page.get_by_role("heading", name="Roles & permissions")).to_be_visible()
    page.go_back()
    expect(page).to_have_url(re.compile(rf"/media/{lecture.pk}/edit/$"))
    expect(page.get_by_label("Name")).to_be_visible()


def test_a_co_publisher_sees_no_edit_and_gets_403(page, live_server, lecture, sign_in):
    sign_in("piper", TEST_PASSWORD)

    open_menu_for(page, "Cell structure lecture")
    menu = page.get_by_role("row").filter(has_text="Cell structure lecture")
    expect(menu.get_by_role("link", name="View")).to_be_visible()
    expect(menu.get_by_role("link", name="Edit", exact=True)).to_have_count(0)
    expect(menu.get_by_role("button", name="Published")).to_be_visible()

    response = page.goto(f"{live_server.url}/media/{lecture.pk}/edit/")

    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("You can’t do that here")


def test_the_owner_publishes_from_the_menu(page, live_server, lecture, sign_in):
    sign_in("olivia", TEST_PASSWORD)

    open_menu_for(page, "Cell structure lecture")
    page.get_by_role("button", name="Published").click()

    row = page.get_by_role("row").filter(has_text="Cell structure lecture")
    expect(row.get_by_text("Published", exact=True)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("is now Published")


def test_the_owner_deletes_after_confirming(page, live_server, lecture, sign_in):
    sign_in("olivia", TEST_PASSWORD)

    open_menu_for(page, "Cell structure lecture")
    page.get_by_role("link", name="Delete").click()
    dialog = page.get_by_role("dialog", name="Delete “Cell structure lecture”?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Delete").click()

    expect(dialog).to_have_count(0)
    expect(page.get_by_role("row").filter(has_text="Cell structure lecture")).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text("was deleted")


def test_cancel_keeps_the_entry_and_returns_focus(page, live_server, lecture, sign_in):
    sign_in("olivia", TEST_PASSWORD)

    open_menu_for(page, "Cell structure lecture")
    page.get_by_role("link", name="Delete").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")

    expect(dialog).to_have_count(0)
    expect(page.get_by_label("Actions for Cell structure lecture")).to_be_focused()
    expect(page.get_by_role("row").filter(has_text="Cell structure lecture")).to_have_count(1)
