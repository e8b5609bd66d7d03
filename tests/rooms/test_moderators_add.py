from __future__ import annotations

import json

import pytest
from django.urls import reverse

from mediaspace import permissions
from mediaspace.models import AccessChange, Role
from rooms.models import Module, RoomUserObjectPermission
from tests.conftest import HTMX
from tests.factories import GroupFactory, UserFactory


def url(entry) -> str:
    return reverse("moderators_add", args=[entry.pk])


def post(client, entry, principals, roles, **extra):
    return client.post(url(entry), {"principals": principals, "roles": roles}, **extra)


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
    response = post(as_evan, room, [f"user:{paula.pk}"], ["room-moderator"], **HTMX)

    assert response.status_code == 200
    assert permissions.principal_roles(room, paula) == {Role.ROOM_MODERATOR}
    html = response.content.decode()
    assert "Paula Park is now Room moderator." in html
    assert 'id="roles-body" hx-swap-oob="true"' in html
    assert "Paula Park" in html.split('id="roles-body"')[1]
    assert response["HX-Reswap"] == "none"
    assert json.loads(response["HX-Trigger"]) == {"ms:close-dialog": {}}


def test_it_adds_a_group_with_both_permissions(as_olivia, room):
    group = GroupFactory(name="Teaching Assistants")
    members = [UserFactory(), UserFactory()]
    group.user_set.add(*members)

    response = post(
        as_olivia, room, [f"group:{group.pk}"], ["room-moderator", "chat-moderator"], **HTMX
    )

    html = response.content.decode()
    assert "Teaching Assistants is now Room moderator and Chat moderator." in html
    body = html.split('id="roles-body"')[1]
    assert "Teaching Assistants" in body
    assert "2 members" in body
    assert members[0].name not in body
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
    grants = RoomUserObjectPermission.objects.count()

    response = post(as_olivia, room, principals, roles, **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<form id="access-add-form"')
    assert message in html
    assert AccessChange.objects.count() == changes
    assert RoomUserObjectPermission.objects.count() == grants


def test_a_refused_form_keeps_what_was_chosen(as_olivia, room, paula):
    response = post(as_olivia, room, [f"user:{paula.pk}"], [], **HTMX)

    html = response.content.decode()
    assert "Choose at least one permission." in html
    assert f'<input type="hidden" name="principals" value="user:{paula.pk}">' in html
    assert "Paula Park" in html


def test_a_double_click_creates_no_duplicates_and_no_error(as_olivia, room, paula):
    first = post(as_olivia, room, [f"user:{paula.pk}"], ["room-moderator"], **HTMX)
    second = post(as_olivia, room, [f"user:{paula.pk}"], ["room-moderator"], **HTMX)

    assert first.status_code == second.status_code == 200
    assert RoomUserObjectPermission.objects.filter(user=paula).count() == 1
    assert AccessChange.objects.filter(user=paula).count() == 1


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
