"""Guardian's object-permission pages: the product's roles, saved through the service."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from mediaspace import permissions, services
from mediaspace.models import AccessChange, MediaEntry, Module, Role
from rooms.models import Room


def manage_url(obj, kind: str, principal) -> str:
    opts = obj._meta
    name = f"admin:{opts.app_label}_{opts.model_name}_permissions_manage_{kind}"
    return reverse(name, args=[obj.pk, principal.pk])


def roles_shown(html: str, name: str) -> list[str]:
    """Return the badges of one row of the Roles & permissions tab."""
    row = html[html.index(f'aria-label="Permissions of {name}"') :].split("</ul>")[0]
    return re.findall(r'<span class="badge[^"]*">([^<]+)</span>', row)


@pytest.fixture
def the_room(room) -> Room:
    return Room.objects.get(media=room)


def test_a_moderator_given_on_the_room_page_shows_in_the_tab_and_the_log(
    as_opal, opal, as_olivia, room, the_room, paula
):
    response = as_opal.post(manage_url(the_room, "user", paula), {"permissions": ["moderate_room"]})

    assert response.status_code == 302
    assert response["Location"] == manage_url(the_room, "user", paula)
    html = as_olivia.get(reverse("media_roles", args=[room.pk])).content.decode()
    assert roles_shown(html, "Paula Park") == ["Room moderator"]
    change = AccessChange.objects.get(entry=room, user=paula)
    assert change.actor == opal
    assert (change.before, change.after) == ([], ["room-moderator"])


def test_a_group_given_moderation_on_the_room_page_shows_in_the_tab_and_the_log(
    as_opal, opal, as_olivia, room, the_room, teaching_assistants
):
    response = as_opal.post(
        manage_url(the_room, "group", teaching_assistants),
        {"permissions": ["moderate_room", "moderate_chat"]},
    )

    assert response.status_code == 302
    html = as_olivia.get(reverse("media_roles", args=[room.pk])).content.decode()
    assert roles_shown(html, "Teaching Assistants") == ["Room moderator", "Chat moderator"]
    change = AccessChange.objects.get(entry=room, group=teaching_assistants)
    assert change.actor == opal
    assert change.after == ["room-moderator", "chat-moderator"]


def test_unticking_every_role_removes_the_moderator_and_logs_it(
    as_opal, opal, room, the_room, rita
):
    response = as_opal.post(manage_url(the_room, "user", rita), {"csrfmiddlewaretoken": "x"})

    assert response.status_code == 302
    assert permissions.principal_roles(room, rita) == frozenset()
    change = AccessChange.objects.filter(entry=room, user=rita).latest("id")
    assert (change.actor, change.before, change.after) == (opal, ["room-moderator"], [])


def test_the_room_page_leaves_collaborator_roles_alone(as_opal, room, the_room, evan):
    as_opal.post(manage_url(the_room, "user", evan), {"permissions": ["moderate_chat"]})

    assert permissions.principal_roles(room, evan) == {Role.CO_EDITOR, Role.CHAT_MODERATOR}


def test_the_owner_is_refused_with_a_message_next_to_the_roles(as_opal, olivia, room, the_room):
    response = as_opal.post(
        manage_url(the_room, "user", olivia), {"permissions": ["moderate_room"]}
    )

    assert response.status_code == 200
    assert "Olivia Owens is the owner and already has full control." in response.content.decode()
    assert permissions.principal_roles(room, olivia) == frozenset()
    assert not AccessChange.objects.filter(user=olivia).exists()


def test_an_inactive_person_is_refused(as_opal, room, the_room, paula):
    paula.is_active = False
    paula.save(update_fields=["is_active"])

    response = as_opal.post(manage_url(the_room, "user", paula), {"permissions": ["moderate_room"]})

    assert response.status_code == 200
    assert "is inactive and cannot be given access" in response.content.decode()
    assert not AccessChange.objects.filter(user=paula).exists()


@pytest.mark.parametrize("codename", ["change_room", "delete_room", "coedit_mediaentry"])
def test_permissions_other_than_the_rooms_roles_are_refused(
    as_opal, room, the_room, paula, codename
):
    response = as_opal.post(manage_url(the_room, "user", paula), {"permissions": [codename]})

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert permissions.principal_roles(room, paula) == frozenset()


def test_the_room_pages_offer_only_the_moderator_roles(as_opal, the_room, rita):
    html = as_opal.get(manage_url(the_room, "user", rita)).content.decode()
    offered = set(re.findall(r'name="permissions" value="(\w+)"', html))
    assert offered == {"moderate_room", "moderate_chat"}
    assert re.search(r'value="moderate_room"[^>]*checked', html)
    assert not re.search(r'value="moderate_chat"[^>]*checked', html)

    overview = as_opal.get(reverse("admin:rooms_room_permissions", args=[the_room.pk]))
    table = overview.content.decode()
    assert "<th>Room moderator</th>" in table and "<th>Chat moderator</th>" in table
    assert "Can delete room" not in table
    assert "Rita Reyes" in table and "Chad Chen" in table


def test_the_entry_pages_manage_collaborators(as_opal, opal, lecture, paula):
    html = as_opal.get(manage_url(lecture, "user", paula)).content.decode()
    offered = set(re.findall(r'name="permissions" value="(\w+)"', html))
    assert offered == {"coedit_mediaentry", "copublish_mediaentry", "coview_mediaentry"}

    response = as_opal.post(
        manage_url(lecture, "user", paula), {"permissions": ["coview_mediaentry"]}
    )

    assert response.status_code == 302
    assert permissions.principal_roles(lecture, paula) == {Role.CO_VIEWER}
    assert AccessChange.objects.get(entry=lecture, user=paula).actor == opal


def test_saving_what_is_already_held_logs_nothing(as_opal, lecture, evan):
    before = AccessChange.objects.count()

    response = as_opal.post(
        manage_url(lecture, "user", evan), {"permissions": ["coedit_mediaentry"]}
    )

    assert response.status_code == 302
    assert AccessChange.objects.count() == before


def test_choosing_a_person_opens_their_roles(as_opal, the_room, paula):
    url = reverse("admin:rooms_room_permissions", args=[the_room.pk])

    html = as_opal.get(url).content.decode()
    assert "admin-autocomplete" in html

    response = as_opal.post(url, {"user": paula.pk, "submit_manage_user": "Manage user"})
    assert response.status_code == 302
    assert response["Location"] == manage_url(the_room, "user", paula)


def test_choosing_a_group_opens_its_roles(as_opal, the_room, teaching_assistants):
    url = reverse("admin:rooms_room_permissions", args=[the_room.pk])

    response = as_opal.post(
        url, {"group": teaching_assistants.pk, "submit_manage_group": "Manage group"}
    )

    assert response.status_code == 302
    assert response["Location"] == manage_url(the_room, "group", teaching_assistants)


def test_the_room_page_warns_while_the_module_is_off(as_opal, the_room, paula):
    Module.objects.update(enabled=False)

    html = as_opal.get(manage_url(the_room, "user", paula)).content.decode()

    assert "The ChatandCollaboration module is off" in html


def test_an_unknown_room_or_person_answers_404(as_opal, the_room, paula, lecture):
    missing = MediaEntry(pk=999999)
    assert as_opal.get(manage_url(Room(media=missing), "user", paula)).status_code == 404
    url = reverse("admin:rooms_room_permissions_manage_user", args=[the_room.pk, 999999])
    assert as_opal.get(url).status_code == 404


def test_deleting_a_group_logs_the_removal_of_its_roles(
    as_opal, opal, room, lecture, teaching_assistants
):
    services.access_set(
        actor=None, entry=room, principal=teaching_assistants, roles=[Role.CHAT_MODERATOR]
    )
    services.access_set(
        actor=None, entry=lecture, principal=teaching_assistants, roles=[Role.CO_VIEWER]
    )
    url = reverse("admin:auth_group_delete", args=[teaching_assistants.pk])

    response = as_opal.post(url, {"post": "yes"})

    assert response.status_code == 302
    removals = AccessChange.objects.filter(principal_name="Teaching Assistants", after=[])
    assert {(change.entry, change.actor) for change in removals} == {
        (room, opal),
        (lecture, opal),
    }


def test_deleting_users_in_bulk_logs_the_removal_of_their_roles(as_opal, opal, room, rita, chad):
    response = as_opal.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "delete_selected", "_selected_action": [rita.pk, chad.pk], "post": "yes"},
    )

    assert response.status_code == 302
    removals = AccessChange.objects.filter(entry=room, actor=opal, after=[])
    assert {change.principal_name for change in removals} == {"Rita Reyes", "Chad Chen"}
