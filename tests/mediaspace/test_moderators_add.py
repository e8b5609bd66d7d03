from __future__ import annotations

import json
import re
from html import unescape

import pytest
from django.urls import reverse

from mediaspace import permissions
from mediaspace.models import AccessChange, MediaEntryUserObjectPermission, Module, Role
from tests.conftest import HTMX
from tests.factories import GroupFactory, UserFactory


def url(entry) -> str:
    return reverse("moderators_add", args=[entry.pk])


def post(client, entry, principals, roles, **extra):
    return client.post(url(entry), {"principals": principals, "roles": roles}, **extra)


def page_state(client, entry) -> dict[str, list[str]]:
    """Return the Roles & permissions list's state, which the dialog's form sends along."""
    html = client.get(reverse("media_roles", args=[entry.pk])).content.decode()
    more = html.split('<div id="access-more"')[1].split("</div>")[0]
    state: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', more):
        state.setdefault(name, []).append(unescape(value))
    return state


def post_from_tab(client, entry, principals, roles):
    """Add as the dialog opened from the tab does: with htmx and the list's state."""
    data = {"principals": principals, "roles": roles, **page_state(client, entry)}
    return client.post(url(entry), data, **HTMX)


def inserted_rows(html: str) -> str:
    """Return the rows the answer puts at the top of the list."""
    start = '<template><tbody hx-swap-oob="afterbegin:#access-rows">'
    return html.split(start)[1].split("</tbody></template>")[0]


def test_the_dialog_opens_as_a_partial(as_olivia, room):
    response = as_olivia.get(url(room), **HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith("<dialog")
    assert "Add moderators" in html
    assert "Room moderator" in html and "Chat moderator" in html
    assert 'role="combobox"' in html


def test_the_dialog_is_a_page_without_htmx(as_olivia, room):
    response = as_olivia.get(url(room))

    assert response.status_code == 200
    assert b"<html" in response.content
    assert b'<dialog class="dialog dialog-wide" data-dialog open' in response.content


def test_a_co_editor_adds_a_room_moderator(as_evan, room, paula):
    response = post_from_tab(as_evan, room, [f"user:{paula.pk}"], ["room-moderator"])

    assert response.status_code == 200
    assert permissions.principal_roles(room, paula) == {Role.ROOM_MODERATOR}
    html = response.content.decode()
    assert "Paula Park is now Room moderator." in html
    # Only what changed, out of band: Paula's new row at the top of the list...
    row = inserted_rows(html)
    assert row.lstrip().startswith(f'<tr id="access-row-user-{paula.pk}">')
    assert '<span class="person-name">Paula Park</span>' in row
    assert '<span class="muted small">paula@example.com</span>' in row
    assert '<ul class="badges" aria-label="Permissions of Paula Park">' in row
    assert '<li><span class="badge badge-moderator">Room moderator</span></li>' in row
    edit = reverse("access_edit", args=[room.pk, "user", paula.pk])
    assert f'href="{edit}" hx-get="{edit}"' in row
    assert 'aria-label="Remove Paula Park">Remove</a>' in row
    # ... the counts, and the change on top of the Activity list.
    count = html.split('<p class="access-count" id="access-count" hx-swap-oob="true">')[1]
    assert " ".join(count.split("</p>")[0].split()) == "5 users and 0 groups with access"
    activity = html.split('<ol hx-swap-oob="afterbegin:#activity-list">')[1].split("</ol>")[0]
    assert "<strong>Evan Edwards</strong>\n  gave <strong>Paula Park</strong> Room moderator" in (
        activity
    )
    assert "just now</time>" in activity
    assert 'id="roles-body"' not in html and "Chad Chen" not in html
    assert response["HX-Reswap"] == "none"
    assert json.loads(response["HX-Trigger"]) == {"ms:close-dialog": {}}


def test_adding_to_someone_listed_replaces_their_row(as_olivia, room, rita):
    response = post_from_tab(as_olivia, room, [f"user:{rita.pk}"], ["chat-moderator"])

    html = response.content.decode()
    assert "afterbegin:#access-rows" not in html
    row = html.split(f'<template><tr id="access-row-user-{rita.pk}" hx-swap-oob="true">')[1]
    badges = row.split("</ul>")[0]
    assert badges.count('class="badge badge-moderator"') == 2
    assert "Room moderator" in badges and "Chat moderator" in badges
    assert "4 users and 0 groups with access" in html
    assert (
        "changed <strong>Rita Reyes</strong> from Room moderator to Room moderator, Chat moderator"
        in html
    )


def test_it_adds_a_group_with_both_permissions(as_olivia, room):
    group = GroupFactory(name="Teaching Assistants")
    members = [UserFactory(), UserFactory()]
    group.user_set.add(*members)

    response = post_from_tab(
        as_olivia, room, [f"group:{group.pk}"], ["room-moderator", "chat-moderator"]
    )

    html = response.content.decode()
    assert "Teaching Assistants is now Room moderator and Chat moderator." in html
    row = inserted_rows(html)
    assert row.lstrip().startswith(f'<tr id="access-row-group-{group.pk}">')
    assert '<span class="avatar avatar-group" aria-hidden="true">T</span>' in row
    assert '<span class="muted small">Group · 2 members</span>' in row
    assert row.count('class="badge badge-moderator"') == 2
    assert members[0].name not in html
    assert "4 users and 1 group with access" in html
    assert permissions.principal_roles(room, group) == {Role.ROOM_MODERATOR, Role.CHAT_MODERATOR}


def test_it_adds_several_at_once_and_names_them(as_olivia, room, paula, oscar):
    response = post(as_olivia, room, [f"user:{paula.pk}", f"user:{oscar.pk}"], ["chat-moderator"])

    assert response.status_code == 302
    assert response["Location"] == reverse("media_roles", args=[room.pk])
    follow = as_olivia.get(response["Location"])
    assert "Paula Park and Oscar Ortiz are now Chat moderator." in follow.content.decode()


@pytest.mark.parametrize(
    ("principals", "roles", "message"),
    [
        ([], ["room-moderator"], "Choose at least one user or group."),
        (["user:{paula}"], [], "Choose at least one permission."),
        (["paula"], ["room-moderator"], "is not valid"),
        (["user:999999"], ["room-moderator"], "That user no longer exists."),
        (["group:999999"], ["room-moderator"], "That group no longer exists."),
        (["user:{olivia}"], ["room-moderator"], "Olivia Owens is the owner and already has full"),
        (["user:{inactive}"], ["room-moderator"], "is inactive and cannot be given access."),
        (["user:{paula}"], ["co-editor"], "Select a valid choice."),
    ],
)
def test_bad_input_is_refused_next_to_the_field(
    as_olivia, room, paula, olivia, principals, roles, message
):
    inactive = UserFactory(is_active=False)
    ids = {"paula": paula.pk, "olivia": olivia.pk, "inactive": inactive.pk}
    principals = [principal.format(**ids) for principal in principals]
    changes = AccessChange.objects.count()
    grants = MediaEntryUserObjectPermission.objects.count()

    response = post(as_olivia, room, principals, roles, **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<form id="access-add-form"')
    assert message in html
    assert AccessChange.objects.count() == changes
    assert MediaEntryUserObjectPermission.objects.count() == grants


def test_a_refused_form_keeps_what_was_chosen(as_olivia, room, paula):
    response = post(as_olivia, room, [f"user:{paula.pk}"], [], **HTMX)

    html = response.content.decode()
    assert "Choose at least one permission." in html
    assert f'<input type="hidden" name="principals" value="user:{paula.pk}">' in html
    assert "Paula Park" in html


def test_a_double_click_creates_no_duplicates_and_no_error(as_olivia, room, paula):
    first = post_from_tab(as_olivia, room, [f"user:{paula.pk}"], ["room-moderator"])
    second = post_from_tab(as_olivia, room, [f"user:{paula.pk}"], ["room-moderator"])

    assert first.status_code == second.status_code == 200
    assert MediaEntryUserObjectPermission.objects.filter(user=paula).count() == 1
    assert AccessChange.objects.filter(user=paula).count() == 1
    # The second answer changes no row (the page shows Paula once) and says nothing new.
    assert f'id="access-row-user-{paula.pk}"' in first.content.decode()
    html = second.content.decode()
    assert "access-row" not in html and "activity-list" not in html
    assert "Paula Park is now Room moderator." in html
    assert json.loads(second["HX-Trigger"]) == {"ms:close-dialog": {}}


def test_the_module_switched_off_before_add_changes_nothing(as_olivia, room, paula):
    Module.objects.update(enabled=False)

    response = post(as_olivia, room, [f"user:{paula.pk}"], ["room-moderator"], **HTMX)

    assert response.status_code == 200
    assert "ChatandCollaboration module is switched off" in response.content.decode()
    assert permissions.principal_roles(room, paula) == frozenset()


def test_the_dialog_explains_when_the_module_is_off(as_olivia, room):
    Module.objects.update(enabled=False)

    assert "switched off" in as_olivia.get(url(room), **HTMX).content.decode()
    assert as_olivia.get(url(room)).status_code == 403


def test_a_room_moderator_cannot_add_moderators(as_rita, room, paula):
    assert as_rita.get(url(room)).status_code == 403
    assert post(as_rita, room, [f"user:{paula.pk}"], ["room-moderator"]).status_code == 403
    assert permissions.principal_roles(room, paula) == frozenset()


def test_an_outsider_gets_404(as_oscar, room, paula):
    assert post(as_oscar, room, [f"user:{paula.pk}"], ["room-moderator"]).status_code == 404


def test_a_video_has_no_moderators(as_olivia, lecture, moderation_on):
    assert as_olivia.get(url(lecture)).status_code == 404


def test_anonymous_is_sent_to_sign_in(client, room):
    assert client.get(url(room))["Location"].startswith(reverse("login"))


def test_wrong_method_is_405(as_olivia, room):
    assert as_olivia.put(url(room)).status_code == 405


def test_csrf_is_enforced(olivia, room, paula):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(olivia)

    response = post(client, room, [f"user:{paula.pk}"], ["room-moderator"])

    assert response.status_code == 403
    assert permissions.principal_roles(room, paula) == frozenset()
