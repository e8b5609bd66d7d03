"""The one service every grant, change and removal goes through, and its audit log."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from mediaspace import access, permissions, services
from mediaspace.models import (
    AccessChange,
    MediaEntryGroupObjectPermission,
    MediaEntryUserObjectPermission,
    Module,
    Role,
)
from tests.factories import GroupFactory, UserFactory


def test_moderator_grants_land_in_guardians_entry_tables(olivia, room, paula):
    group = GroupFactory(name="Teaching Assistants")

    services.moderators_add(
        actor=olivia, entry=room, principals=[paula, group], roles=[Role.ROOM_MODERATOR]
    )

    assert MediaEntryUserObjectPermission.objects.filter(
        user=paula, content_object=room, permission__codename="moderate_room"
    ).exists()
    assert MediaEntryGroupObjectPermission.objects.filter(
        group=group, content_object=room, permission__codename="moderate_room"
    ).exists()


def test_guardian_reads_the_rows_the_services_write(olivia, room, lecture, paula):
    from guardian.shortcuts import get_perms

    services.access_add(actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_EDITOR])
    services.moderators_add(
        actor=olivia, entry=room, principals=[paula], roles=[Role.CHAT_MODERATOR]
    )

    assert get_perms(paula, lecture) == ["coedit_mediaentry"]
    assert get_perms(paula, room) == ["moderate_chat"]
    services.access_remove(actor=olivia, entry=room, principal=paula, scope=list(Role)[1:])
    assert get_perms(paula, room) == []
    assert get_perms(paula, lecture) == ["coedit_mediaentry"]


def test_collaborator_grants_land_in_guardians_media_tables(olivia, lecture, paula):
    group = GroupFactory()

    services.collaborators_add(
        actor=olivia, entry=lecture, principals=[paula, group], roles=[Role.CO_VIEWER]
    )

    assert MediaEntryUserObjectPermission.objects.filter(
        user=paula, content_object=lecture, permission__codename="coview_mediaentry"
    ).exists()
    assert MediaEntryGroupObjectPermission.objects.filter(
        group=group, content_object=lecture, permission__codename="coview_mediaentry"
    ).exists()


def test_group_members_current_and_later_hold_the_permissions(olivia, room):
    group = GroupFactory()
    current = UserFactory()
    group.user_set.add(current)
    services.moderators_add(
        actor=olivia,
        entry=room,
        principals=[group],
        roles=[Role.ROOM_MODERATOR, Role.CHAT_MODERATOR],
    )
    later = UserFactory()
    group.user_set.add(later)

    for member in (current, later):
        roles = permissions.get_entry_for_user(member, room.pk).roles
        assert roles == {Role.ROOM_MODERATOR, Role.CHAT_MODERATOR}

    group.user_set.remove(later)
    assert access.entry_for_user(later, room.pk).roles == frozenset()


def test_adding_never_removes_what_is_held(olivia, room, rita):
    services.moderators_add(
        actor=olivia, entry=room, principals=[rita], roles=[Role.CHAT_MODERATOR]
    )

    assert permissions.principal_roles(room, rita) == {Role.ROOM_MODERATOR, Role.CHAT_MODERATOR}


def test_revocation_removes_exactly_what_was_chosen(olivia, room, rita):
    services.access_set(
        actor=olivia,
        entry=room,
        principal=rita,
        roles=[Role.ROOM_MODERATOR, Role.CHAT_MODERATOR, Role.CO_VIEWER],
    )

    services.access_edit(
        actor=olivia,
        entry=room,
        principal=rita,
        roles=[Role.ROOM_MODERATOR],
        scope=permissions.MODERATOR_ROLES,
    )

    assert permissions.principal_roles(room, rita) == {Role.ROOM_MODERATOR, Role.CO_VIEWER}


def test_a_co_editors_removal_leaves_collaborator_roles_alone(evan, room, rita, olivia):
    services.access_add(actor=olivia, entry=room, principal=rita, roles=[Role.CO_VIEWER])

    services.access_remove(
        actor=evan, entry=room, principal=rita, scope=permissions.MODERATOR_ROLES
    )

    assert permissions.principal_roles(room, rita) == {Role.CO_VIEWER}


def test_every_change_is_audited_with_before_and_after(olivia, room, rita):
    AccessChange.objects.all().delete()

    services.access_add(actor=olivia, entry=room, principal=rita, roles=[Role.CHAT_MODERATOR])
    services.access_edit(
        actor=olivia, entry=room, principal=rita, roles=[], scope=[Role.ROOM_MODERATOR]
    )
    services.access_remove(actor=olivia, entry=room, principal=rita, scope=list(Role)[1:])

    changes = list(AccessChange.objects.order_by("id"))
    assert [(c.before, c.after) for c in changes] == [
        (["room-moderator"], ["room-moderator", "chat-moderator"]),
        (["room-moderator", "chat-moderator"], ["chat-moderator"]),
        (["chat-moderator"], []),
    ]
    assert all(c.actor == olivia and c.user == rita and c.entry == room for c in changes)
    assert all(c.principal_name == "Rita Reyes" for c in changes)


def test_the_returned_record_is_the_row_written(olivia, room, rita):
    before = timezone.now()
    change = services.access_add(actor=olivia, entry=room, principal=rita, roles=[Role.CO_VIEWER])

    stored = AccessChange.objects.get(pk=change.pk)
    fields = ("entry_id", "actor_id", "user_id", "group_id", "principal_name", "before", "after")
    assert [getattr(stored, f) for f in fields] == [getattr(change, f) for f in fields]
    assert stored.created_at == change.created_at
    assert before <= stored.created_at <= timezone.now()
    assert AccessChange.objects.filter(entry=room).first() == stored  # the newest first


def test_a_group_change_is_audited_against_the_group(olivia, room):
    group = GroupFactory(name="Night Owls")

    change = services.access_add(
        actor=olivia, entry=room, principal=group, roles=[Role.ROOM_MODERATOR]
    )

    assert (change.group, change.user, change.principal_name) == (group, None, "Night Owls")


def test_no_change_writes_no_record(olivia, room, rita):
    count = AccessChange.objects.count()

    assert (
        services.access_add(actor=olivia, entry=room, principal=rita, roles=[Role.ROOM_MODERATOR])
        is None
    )
    assert AccessChange.objects.count() == count


def test_the_owner_cannot_be_given_a_role(olivia, room):
    with pytest.raises(ValidationError, match="already has full control"):
        services.access_add(actor=olivia, entry=room, principal=olivia, roles=[Role.ROOM_MODERATOR])


def test_inactive_users_cannot_be_given_a_role(olivia, room):
    inactive = UserFactory(is_active=False)

    with pytest.raises(ValidationError, match="inactive"):
        services.access_add(
            actor=olivia, entry=room, principal=inactive, roles=[Role.ROOM_MODERATOR]
        )


def test_only_rooms_have_moderators(olivia, lecture, paula, moderation_on):
    with pytest.raises(ValidationError, match="Only rooms"):
        services.moderators_add(
            actor=olivia, entry=lecture, principals=[paula], roles=[Role.CHAT_MODERATOR]
        )


def test_moderators_cannot_be_added_while_the_module_is_off(olivia, room, paula):
    Module.objects.update(enabled=False)

    with pytest.raises(ValidationError, match="ChatandCollaboration"):
        services.moderators_add(
            actor=olivia, entry=room, principals=[paula], roles=[Role.CHAT_MODERATOR]
        )
    assert permissions.principal_roles(room, paula) == frozenset()


def test_while_the_module_is_off_grants_are_kept_but_grant_nothing(olivia, room, rita):
    Module.objects.update(enabled=False)

    assert permissions.principal_roles(room, rita) == {Role.ROOM_MODERATOR}
    assert access.entry_for_user(rita, room.pk).roles == set()
    assert access.my_media(rita, wanted=None, sort="-updated", stop=20).rows == []


def test_a_failure_half_way_changes_nothing(olivia, room, paula):
    inactive = UserFactory(is_active=False)

    with pytest.raises(ValidationError):
        services.moderators_add(
            actor=olivia,
            entry=room,
            principals=[paula, inactive],
            roles=[Role.ROOM_MODERATOR],
        )

    assert permissions.principal_roles(room, paula) == frozenset()
