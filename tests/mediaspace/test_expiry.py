"""Grants that end: a role counts until its end and stops at that instant.

The rule (mediaspace.access): a user holds a role when they own the entry, or a grant
names them or a group they are in now and has not ended. Every read counts only the roles
that have not ended, whether or not the sweep (services.grants_expire, the task
mediaspace.tasks.grants_expire) has removed them yet; a change made after an end first
records the expiry ("expired", no actor), then the person's change. The clock moves with
django.utils.timezone.now patched, as everything here reads the time through it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO
from unittest.mock import patch

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.http import Http404
from django.tasks import TaskResultStatus
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from mediaspace import access, permissions, services, tasks
from mediaspace import selectors as media_selectors
from mediaspace.models import (
    AccessChange,
    EntryAccess,
    GrantTerm,
    MediaEntry,
    MediaEntryGroupObjectPermission,
    MediaEntryUserObjectPermission,
    Role,
)
from rooms import selectors as room_selectors
from rooms import services as room_services
from rooms.models import ChatMessage, Session
from tests.conftest import client_for
from tests.factories import GroupFactory, UserFactory

LIST_START = (-1, "", 0)  # the Roles & permissions tab's first page (selectors.LIST_START)
TINY = timedelta(microseconds=1)


def at(moment: datetime):
    """Move the clock to `moment` (everything reads it through timezone.now)."""
    return patch("django.utils.timezone.now", return_value=moment)


def url(entry: MediaEntry, name: str, *args: int) -> str:
    return reverse(name, args=[entry.pk, *args])


def cursor_of(client, entry: MediaEntry) -> str:
    html = client.get(url(entry, "room_detail")).content.decode()
    return html.split("poll/?after=")[1].split('"')[0]


def poll(client, entry: MediaEntry, cursor: str):
    return client.get(url(entry, "room_poll"), {"after": cursor})


def terms(entry: MediaEntry, principal) -> dict[Role, datetime]:
    """Return GrantTerm's ends of this user's or group's roles on the entry."""
    holder = {"group": principal} if hasattr(principal, "user_set") else {"user": principal}
    return {
        Role(role): ends_at
        for role, ends_at in GrantTerm.objects.filter(entry=entry, **holder).values_list(
            "role", "ends_at"
        )
    }


def row_ends(entry: MediaEntry, principal) -> datetime | None:
    """Return the read model's earliest end of this user's or group's row on the entry."""
    holder = {"group": principal} if hasattr(principal, "user_set") else {"user": principal}
    return EntryAccess.objects.get(entry=entry, **holder).ends_at


def guardian_codenames(entry: MediaEntry, principal) -> set[str]:
    if hasattr(principal, "user_set"):
        rows = MediaEntryGroupObjectPermission.objects.filter(group=principal)
    else:
        rows = MediaEntryUserObjectPermission.objects.filter(user=principal)
    return set(rows.filter(content_object=entry).values_list("permission__codename", flat=True))


def holders(entry: MediaEntry) -> dict[str, access.Holder]:
    """Return the Roles & permissions tab's first page, by holder name."""
    found, _ = access.holders_page(entry, after=LIST_START, limit=100)
    return {holder.name: holder for holder in found}


def my_media_names(user) -> list[str]:
    found = access.my_media(user, wanted=None, sort="name", stop=50)
    return [row.entry.name for row in found.rows]


@pytest.fixture
def end() -> datetime:
    """An end an hour ahead, on a whole second (SQLite compares its text form)."""
    return (timezone.now() + timedelta(hours=1)).replace(microsecond=0)


@pytest.fixture
def open_room(room, olivia) -> MediaEntry:
    """The room, Unlisted so that every signed-in user can see it."""
    return services.media_status_set(actor=olivia, entry=room, status=MediaEntry.Status.UNLISTED)


@pytest.fixture
def live(open_room, olivia, rita, chad, paula) -> Session:
    """A live session: Olivia started it; Rita, Chad and Paula joined."""
    session = room_services.session_start(actor=olivia, entry=open_room)
    for user in (rita, chad, paula):
        room_services.participant_join(user=user, entry=open_room)
    return session


@pytest.fixture
def question(live, paula, open_room) -> ChatMessage:
    return room_services.message_post(author=paula, entry=open_room, body="Can I submit late?")


# Reads: a role counts before its end and stops at it, without the sweep -------------------


def test_an_entry_is_seen_until_the_grant_ends_and_not_at_that_instant(olivia, paula, lecture, end):
    services.access_add(
        actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_VIEWER], ends=end
    )

    with at(end - TINY):
        assert permissions.get_entry_for_user(paula, lecture.pk).roles == {Role.CO_VIEWER}
        assert access.entry_for_user(paula, lecture.pk).roles == {Role.CO_VIEWER}
    with at(end):
        assert access.entry_for_user(paula, lecture.pk).roles == frozenset()
        with pytest.raises(Http404):
            permissions.get_entry_for_user(paula, lecture.pk)
    with at(end + timedelta(days=3)), pytest.raises(Http404):
        permissions.get_entry_for_user(paula, lecture.pk)
    # Nothing swept it: the grant is still there, it just no longer counts.
    assert guardian_codenames(lecture, paula) == {"coview_mediaentry"}
    assert terms(lecture, paula) == {Role.CO_VIEWER: end}


def test_a_co_editor_whose_grant_ended_may_still_see_a_published_entry_but_not_edit_it(
    olivia, paula, lecture, end
):
    services.media_status_set(actor=olivia, entry=lecture, status=MediaEntry.Status.PUBLISHED)
    services.access_add(
        actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_EDITOR], ends=end
    )

    with at(end - TINY):
        assert permissions.get_entry_for_user(paula, lecture.pk, need="can_edit").can_edit
    with at(end):
        found = permissions.get_entry_for_user(paula, lecture.pk)
        assert found.roles == frozenset()
        with pytest.raises(PermissionDenied):
            permissions.get_entry_for_user(paula, lecture.pk, need="can_edit")


def test_my_media_lists_the_entry_until_the_grant_ends(olivia, paula, lecture, end):
    kept = services.media_create(owner=olivia, name="Kept notes", media_type=MediaEntry.Type.VIDEO)
    services.access_add(actor=olivia, entry=kept, principal=paula, roles=[Role.CO_VIEWER])
    services.access_add(
        actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_VIEWER], ends=end
    )

    with at(end - TINY):
        assert my_media_names(paula) == ["Cell structure lecture", "Kept notes"]
        assert access.my_media(paula, wanted=None, sort="name", stop=50).listed == 2
    with at(end):
        assert my_media_names(paula) == ["Kept notes"]
        assert access.my_media(paula, wanted=None, sort="name", stop=50).listed == 1
        viewed = access.my_media(paula, wanted=[Role.CO_VIEWER], sort="name", stop=50)
        assert [row.entry.name for row in viewed.rows] == ["Kept notes"]


@pytest.mark.parametrize("filters", [{"media_type": "video"}, {"words": ["structure"]}])
def test_my_media_filtered_or_searched_drops_the_entry_at_the_end(
    olivia, paula, lecture, end, filters
):
    services.access_add(
        actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_VIEWER], ends=end
    )

    for moment, expected in ((end - TINY, ["Cell structure lecture"]), (end, [])):
        with at(moment):
            found = access.my_media(paula, wanted=None, sort="-updated", stop=50, **filters)
        assert [row.entry.name for row in found.rows] == expected


def test_the_roles_tab_shows_each_end_and_drops_the_role_at_it(olivia, paula, victor, lecture, end):
    later = end + timedelta(days=1)
    services.access_add(actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_EDITOR])
    services.access_add(
        actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_VIEWER], ends=end
    )
    services.access_set(
        actor=olivia, entry=lecture, principal=victor, roles=[Role.CO_VIEWER], ends=later
    )

    with at(end - TINY):
        listed = holders(lecture)
        assert listed["paula"].roles == (Role.CO_EDITOR, Role.CO_VIEWER)
        assert listed["paula"].ends == {Role.CO_VIEWER: end}
        assert listed["victor"].ends == {Role.CO_VIEWER: later}
        assert listed["piper"].ends == {}  # lasting
        assert access.principal_roles(lecture, paula) == {Role.CO_EDITOR, Role.CO_VIEWER}
    with at(end):
        listed = holders(lecture)
        assert listed["paula"].roles == (Role.CO_EDITOR,)
        assert listed["paula"].ends == {}
        assert listed["victor"].roles == (Role.CO_VIEWER,)
        assert access.principal_roles(lecture, paula) == {Role.CO_EDITOR}
    with at(later):
        listed = holders(lecture)
        assert "victor" not in listed
        counts = access.holders_count(lecture, after=LIST_START)
        assert (counts.users, counts.all_users) == (3, 3)  # evan, paula, piper


def test_a_holder_whose_every_role_ended_leaves_the_tab_and_its_counts(
    olivia, paula, victor, lecture, end
):
    services.access_add(
        actor=olivia,
        entry=lecture,
        principal=paula,
        roles=[Role.CO_VIEWER, Role.CO_PUBLISHER],
        ends=end,
    )

    with at(end - TINY):
        assert "paula" in holders(lecture)
        assert access.holders_count(lecture, after=LIST_START).all_users == 4
    with at(end):
        assert "paula" not in holders(lecture)
        assert access.holders_count(lecture, after=LIST_START).all_users == 3
        assert access.holders_of(lecture, [Role.CO_VIEWER]) == {
            ("user", victor.pk): (Role.CO_VIEWER,)
        }
        searched, counts = access.holders_page(lecture, after=LIST_START, limit=10, words=["paula"])
        assert (searched, counts.users, counts.all_users) == ([], 0, 3)


def test_the_rooms_standing_holds_the_role_until_its_end(olivia, paula, open_room, end):
    services.moderators_add(
        actor=olivia,
        entry=open_room,
        principals=[paula],
        roles=[Role.CHAT_MODERATOR, Role.ROOM_MODERATOR],
        ends=end,
    )

    with at(end - TINY):
        here = room_selectors.standing_for_user(paula, open_room.pk)
        assert here.roles == {Role.CHAT_MODERATOR, Role.ROOM_MODERATOR}
        assert here.leads
    with at(end):
        here = room_selectors.standing_for_user(paula, open_room.pk)
        assert here.roles == frozenset()
        assert not here.leads


def test_a_groups_grant_with_an_end_counts_for_its_members_until_then(
    olivia, paula, lecture, open_room, end
):
    group = GroupFactory(name="Teaching Assistants")
    group.user_set.add(paula)
    services.access_add(
        actor=olivia, entry=lecture, principal=group, roles=[Role.CO_VIEWER], ends=end
    )
    services.moderators_add(
        actor=olivia, entry=open_room, principals=[group], roles=[Role.CHAT_MODERATOR], ends=end
    )
    later_member = UserFactory()
    group.user_set.add(later_member)

    with at(end - TINY):
        for member in (paula, later_member):
            assert permissions.get_entry_for_user(member, lecture.pk).roles == {Role.CO_VIEWER}
            assert my_media_names(member) == ["Biology 101 office hours", "Cell structure lecture"]
            assert room_selectors.standing_for_user(member, open_room.pk).roles == {
                Role.CHAT_MODERATOR
            }
        assert holders(lecture)["Teaching Assistants"].ends == {Role.CO_VIEWER: end}
        assert access.users_roles(open_room, [paula.pk], module_on=True) == {
            paula.pk: frozenset({Role.CHAT_MODERATOR})
        }
    with at(end):
        for member in (paula, later_member):
            with pytest.raises(Http404):
                permissions.get_entry_for_user(member, lecture.pk)
            assert my_media_names(member) == []
            assert room_selectors.standing_for_user(member, open_room.pk).roles == frozenset()
        assert "Teaching Assistants" not in holders(lecture)
        # (An ended row gives an empty set rather than leaving Paula out, as users_roles'
        # docstring says; its callers read both the same.)
        assert not access.users_roles(open_room, [paula.pk], module_on=True).get(paula.pk)


def test_a_members_own_lasting_grant_still_counts_when_the_groups_ends(olivia, paula, lecture, end):
    group = GroupFactory(name="Teaching Assistants")
    group.user_set.add(paula)
    services.access_add(
        actor=olivia, entry=lecture, principal=group, roles=[Role.CO_EDITOR], ends=end
    )
    services.access_add(actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_VIEWER])

    with at(end - TINY):
        assert access.entry_for_user(paula, lecture.pk).roles == {Role.CO_EDITOR, Role.CO_VIEWER}
    with at(end):
        assert access.entry_for_user(paula, lecture.pk).roles == {Role.CO_VIEWER}
        [row] = access.my_media(paula, wanted=None, sort="name", stop=50).rows
        assert row.roles == {Role.CO_VIEWER}


def test_the_suggestions_say_what_is_held_until_its_end(olivia, paula, lecture, end):
    group = GroupFactory(name="Teaching Assistants")
    for principal in (paula, group):
        services.access_add(
            actor=olivia, entry=lecture, principal=principal, roles=[Role.CO_VIEWER], ends=end
        )

    def holds(query: str) -> dict[str, tuple[Role, ...]]:
        found = media_selectors.principals_suggest(lecture, query)
        return {suggestion.label: suggestion.holds for suggestion in found}

    with at(end - TINY):
        assert holds("paula")["Paula Park"] == (Role.CO_VIEWER,)
        assert holds("teaching")["Teaching Assistants"] == (Role.CO_VIEWER,)
    with at(end):
        assert holds("paula")["Paula Park"] == ()
        assert holds("teaching")["Teaching Assistants"] == ()


# Services: setting, keeping, lengthening and clearing ends -------------------------------


def test_adding_a_role_already_held_for_good_keeps_it_lasting(olivia, victor, lecture, end):
    change = services.access_add(
        actor=olivia, entry=lecture, principal=victor, roles=[Role.CO_VIEWER], ends=end
    )

    assert change is None
    assert terms(lecture, victor) == {}
    assert row_ends(lecture, victor) is None
    with at(end + timedelta(days=1)):
        assert access.principal_roles(lecture, victor) == {Role.CO_VIEWER}


def test_adding_with_a_later_end_lengthens_the_grant(olivia, paula, lecture, end):
    later = end + timedelta(days=7)
    services.access_add(
        actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_VIEWER], ends=end
    )

    change = services.access_add(
        actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_VIEWER], ends=later
    )

    assert terms(lecture, paula) == {Role.CO_VIEWER: later}
    assert row_ends(lecture, paula) == later
    assert (change.before, change.after) == (["co-viewer"], ["co-viewer"])
    assert change.before_ends == {"co-viewer": end.isoformat()}
    assert change.after_ends == {"co-viewer": later.isoformat()}
    with at(end):
        assert access.principal_roles(lecture, paula) == {Role.CO_VIEWER}


def test_adding_with_an_earlier_end_does_not_shorten_the_grant(olivia, paula, lecture, end):
    later = end + timedelta(days=7)
    services.access_add(
        actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_VIEWER], ends=later
    )
    changes = AccessChange.objects.count()

    change = services.access_add(
        actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_VIEWER], ends=end
    )

    assert change is None
    assert AccessChange.objects.count() == changes
    assert terms(lecture, paula) == {Role.CO_VIEWER: later}
    assert row_ends(lecture, paula) == later


def test_adding_without_an_end_makes_an_ending_grant_last(olivia, paula, lecture, end):
    services.access_add(
        actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_VIEWER], ends=end
    )

    change = services.collaborators_add(
        actor=olivia, entry=lecture, principals=[paula], roles=[Role.CO_VIEWER, Role.CO_EDITOR]
    )

    assert terms(lecture, paula) == {}
    assert row_ends(lecture, paula) is None
    assert [(c.before_ends, c.after_ends) for c in change] == [({"co-viewer": end.isoformat()}, {})]
    with at(end + timedelta(days=1)):
        assert access.principal_roles(lecture, paula) == {Role.CO_EDITOR, Role.CO_VIEWER}


def test_adding_a_new_role_with_an_end_leaves_the_others_ends_alone(olivia, paula, lecture, end):
    later = end + timedelta(days=1)
    services.access_add(
        actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_VIEWER], ends=later
    )

    services.collaborators_add(
        actor=olivia, entry=lecture, principals=[paula], roles=[Role.CO_EDITOR], ends=end
    )

    assert terms(lecture, paula) == {Role.CO_VIEWER: later, Role.CO_EDITOR: end}
    assert row_ends(lecture, paula) == end  # the earliest
    with at(end):
        assert access.principal_roles(lecture, paula) == {Role.CO_VIEWER}


def test_editing_with_keep_keeps_each_end_and_a_new_role_lasts(olivia, paula, lecture, end):
    services.access_add(
        actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_VIEWER], ends=end
    )

    change = services.access_edit(
        actor=olivia,
        entry=lecture,
        principal=paula,
        roles=[Role.CO_VIEWER, Role.CO_EDITOR],
        scope=permissions.COLLABORATOR_ROLES,
        ends=services.KEEP,
    )

    assert terms(lecture, paula) == {Role.CO_VIEWER: end}
    assert change.after == ["co-editor", "co-viewer"]
    assert change.after_ends == {"co-viewer": end.isoformat()}
    with at(end):
        assert access.principal_roles(lecture, paula) == {Role.CO_EDITOR}


def test_editing_with_none_clears_the_ends_within_the_scope_only(olivia, paula, open_room, end):
    services.access_add(
        actor=olivia,
        entry=open_room,
        principal=paula,
        roles=[Role.CO_VIEWER, Role.ROOM_MODERATOR],
        moderators=True,
        ends=end,
    )

    change = services.access_edit(
        actor=olivia,
        entry=open_room,
        principal=paula,
        roles=[Role.CO_VIEWER],
        scope=permissions.COLLABORATOR_ROLES,
        ends=None,
    )

    assert terms(open_room, paula) == {Role.ROOM_MODERATOR: end}
    assert change.before_ends == {"co-viewer": end.isoformat(), "room-moderator": end.isoformat()}
    assert change.after_ends == {"room-moderator": end.isoformat()}
    with at(end):
        assert access.principal_roles(open_room, paula) == {Role.CO_VIEWER}


def test_editing_with_a_date_sets_it_on_the_chosen_roles(olivia, paula, lecture, end):
    services.access_add(actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_VIEWER])

    change = services.access_edit(
        actor=olivia,
        entry=lecture,
        principal=paula,
        roles=[Role.CO_VIEWER, Role.CO_PUBLISHER],
        scope=permissions.COLLABORATOR_ROLES,
        ends=end,
    )

    assert terms(lecture, paula) == {Role.CO_VIEWER: end, Role.CO_PUBLISHER: end}
    assert row_ends(lecture, paula) == end
    assert (change.before_ends, change.after_ends) == (
        {},
        {"co-publisher": end.isoformat(), "co-viewer": end.isoformat()},
    )


def test_an_edit_that_changes_only_the_end_is_recorded(olivia, paula, lecture, end):
    later = end + timedelta(days=2)
    services.access_add(
        actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_VIEWER], ends=later
    )

    change = services.access_edit(
        actor=olivia,
        entry=lecture,
        principal=paula,
        roles=[Role.CO_VIEWER],
        scope=permissions.COLLABORATOR_ROLES,
        ends=end,
    )

    assert (change.before, change.after) == (["co-viewer"], ["co-viewer"])
    assert (change.before_ends, change.after_ends) == (
        {"co-viewer": later.isoformat()},
        {"co-viewer": end.isoformat()},
    )
    assert terms(lecture, paula) == {Role.CO_VIEWER: end}  # an edit may shorten
    assert row_ends(lecture, paula) == end


def test_setting_roles_sets_keeps_or_clears_their_end(olivia, paula, lecture, end):
    services.access_set(
        actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_VIEWER], ends=end
    )
    assert terms(lecture, paula) == {Role.CO_VIEWER: end}

    services.access_set(
        actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_VIEWER, Role.CO_EDITOR]
    )
    assert terms(lecture, paula) == {Role.CO_VIEWER: end}  # KEEP, the default

    services.access_set(
        actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_EDITOR], ends=None
    )
    assert terms(lecture, paula) == {}
    assert row_ends(lecture, paula) is None
    assert access.differences() == 0


def test_removing_a_role_takes_its_end_with_it(olivia, paula, lecture, end):
    services.access_add(
        actor=olivia,
        entry=lecture,
        principal=paula,
        roles=[Role.CO_VIEWER, Role.CO_EDITOR],
        ends=end,
    )

    change = services.access_remove(
        actor=olivia, entry=lecture, principal=paula, scope=[Role.CO_EDITOR]
    )

    assert terms(lecture, paula) == {Role.CO_VIEWER: end}
    assert change.after_ends == {"co-viewer": end.isoformat()}
    services.access_remove(
        actor=olivia, entry=lecture, principal=paula, scope=permissions.COLLABORATOR_ROLES
    )
    assert terms(lecture, paula) == {}
    assert not EntryAccess.objects.filter(entry=lecture, user=paula).exists()


@pytest.mark.parametrize(
    "change",
    [
        lambda actor, entry, who, when: services.access_add(
            actor=actor, entry=entry, principal=who, roles=[Role.CO_PUBLISHER], ends=when
        ),
        lambda actor, entry, who, when: services.collaborators_add(
            actor=actor, entry=entry, principals=[who], roles=[Role.CO_EDITOR], ends=when
        ),
        lambda actor, entry, who, when: services.access_set(
            actor=actor, entry=entry, principal=who, roles=[Role.CO_PUBLISHER], ends=when
        ),
        lambda actor, entry, who, when: services.access_edit(
            actor=actor,
            entry=entry,
            principal=who,
            roles=[Role.CO_VIEWER],
            scope=permissions.COLLABORATOR_ROLES,
            ends=when,
        ),
    ],
    ids=["access_add", "collaborators_add", "access_set", "access_edit"],
)
@pytest.mark.parametrize("past", [timedelta(0), timedelta(minutes=5)], ids=["now", "earlier"])
def test_an_end_already_past_is_refused_and_changes_nothing(olivia, victor, lecture, change, past):
    now = timezone.now()
    before = (
        AccessChange.objects.count(),
        guardian_codenames(lecture, victor),
        list(EntryAccess.objects.filter(entry=lecture).values_list("user_id", "roles", "ends_at")),
        GrantTerm.objects.count(),
    )

    with at(now), pytest.raises(ValidationError) as refused, transaction.atomic():
        change(olivia, lecture, victor, now - past)

    assert refused.value.code == "ends_past"
    assert before == (
        AccessChange.objects.count(),
        guardian_codenames(lecture, victor),
        list(EntryAccess.objects.filter(entry=lecture).values_list("user_id", "roles", "ends_at")),
        GrantTerm.objects.count(),
    )


def test_a_past_end_for_moderators_is_refused(olivia, paula, open_room):
    with pytest.raises(ValidationError) as refused:
        services.moderators_add(
            actor=olivia,
            entry=open_room,
            principals=[paula],
            roles=[Role.CHAT_MODERATOR],
            ends=timezone.now() - timedelta(seconds=1),
        )

    assert refused.value.code == "ends_past"
    assert access.principal_roles(open_room, paula) == frozenset()
    assert not AccessChange.objects.filter(user=paula).exists()


def test_an_edit_with_keep_keeps_a_different_end_for_each_role(olivia, paula, lecture, end):
    later = end + timedelta(days=1)
    services.access_add(
        actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_VIEWER], ends=end
    )
    services.access_add(
        actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_EDITOR], ends=later
    )

    with at(end - TINY):  # just before the first end: both kept as they are
        services.access_edit(
            actor=olivia,
            entry=lecture,
            principal=paula,
            roles=[Role.CO_VIEWER, Role.CO_EDITOR, Role.CO_PUBLISHER],
            scope=permissions.COLLABORATOR_ROLES,
        )

    assert terms(lecture, paula) == {Role.CO_VIEWER: end, Role.CO_EDITOR: later}


# A change after an end, before the sweep: the expiry is recorded first -------------------


def test_a_change_after_the_end_records_the_expiry_first_then_the_change(
    olivia, paula, lecture, end
):
    services.access_add(
        actor=olivia,
        entry=lecture,
        principal=paula,
        roles=[Role.CO_VIEWER, Role.CO_PUBLISHER],
        ends=end,
    )
    first = AccessChange.objects.latest("id").pk

    with at(end + timedelta(minutes=1)):
        services.access_add(actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_EDITOR])

    expired, changed = AccessChange.objects.filter(pk__gt=first).order_by("id")
    assert (expired.actor, expired.reason) == (None, AccessChange.Reason.EXPIRED)
    assert (expired.user, expired.before, expired.after) == (
        paula,
        ["co-publisher", "co-viewer"],
        [],
    )
    assert expired.before_ends == {
        "co-publisher": end.isoformat(),
        "co-viewer": end.isoformat(),
    }
    assert expired.after_ends == {}
    assert (changed.actor, changed.reason) == (olivia, AccessChange.Reason.CHANGE)
    assert (changed.before, changed.after) == ([], ["co-editor"])
    assert (changed.before_ends, changed.after_ends) == ({}, {})
    assert guardian_codenames(lecture, paula) == {"coedit_mediaentry"}
    assert terms(lecture, paula) == {}
    assert row_ends(lecture, paula) is None
    assert access.differences() == 0


def test_granting_an_ended_role_again_records_the_expiry_and_a_new_grant(
    olivia, paula, lecture, end
):
    services.access_add(
        actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_VIEWER], ends=end
    )
    later = end + timedelta(days=1)

    with at(end):
        services.access_add(
            actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_VIEWER], ends=later
        )

    reasons = list(
        AccessChange.objects.filter(user=paula)
        .order_by("id")
        .values_list("reason", "before", "after", "actor")
    )
    assert reasons == [
        ("change", [], ["co-viewer"], olivia.pk),
        ("expired", ["co-viewer"], [], None),
        ("change", [], ["co-viewer"], olivia.pk),
    ]
    assert terms(lecture, paula) == {Role.CO_VIEWER: later}


def test_removing_a_role_that_ended_records_only_its_expiry(olivia, paula, lecture, end):
    services.access_add(
        actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_VIEWER], ends=end
    )

    with at(end):
        change = services.access_remove(
            actor=olivia, entry=lecture, principal=paula, scope=permissions.COLLABORATOR_ROLES
        )

    assert change is None  # nothing left to take away
    latest = AccessChange.objects.latest("id")
    assert (latest.reason, latest.actor, latest.after) == ("expired", None, [])
    assert guardian_codenames(lecture, paula) == set()


def test_an_edit_after_the_end_with_keep_does_not_bring_the_ended_role_back(
    olivia, paula, lecture, end
):
    services.access_add(actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_EDITOR])
    services.access_add(
        actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_VIEWER], ends=end
    )

    with at(end):
        services.access_edit(
            actor=olivia,
            entry=lecture,
            principal=paula,
            roles=[Role.CO_EDITOR, Role.CO_PUBLISHER],
            scope=permissions.COLLABORATOR_ROLES,
        )

    assert guardian_codenames(lecture, paula) == {"coedit_mediaentry", "copublish_mediaentry"}
    assert list(
        AccessChange.objects.filter(user=paula).order_by("id").values_list("reason", flat=True)
    ) == ["change", "change", "expired", "change"]


def test_a_refused_change_after_the_end_leaves_the_expiry_unrecorded(olivia, paula, lecture, end):
    services.access_add(
        actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_VIEWER], ends=end
    )
    records = AccessChange.objects.count()

    with at(end), pytest.raises(ValidationError), transaction.atomic():
        services.access_add(
            actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_EDITOR], ends=end
        )

    assert AccessChange.objects.count() == records  # all or nothing
    assert guardian_codenames(lecture, paula) == {"coview_mediaentry"}


# The sweep ------------------------------------------------------------------------------


@pytest.fixture
def mixed(olivia, paula, piper, victor, lecture, end):
    """On the lecture, at `end`: Paula's co-viewer and the group's grant end, Piper's
    co-publisher lasts but her co-viewer ends, Victor's co-viewer ends a day later."""
    group = GroupFactory(name="Teaching Assistants")
    group.user_set.add(UserFactory())
    services.access_add(
        actor=olivia,
        entry=lecture,
        principal=paula,
        roles=[Role.CO_VIEWER, Role.CO_EDITOR],
        ends=end,
    )
    services.access_add(
        actor=olivia, entry=lecture, principal=group, roles=[Role.CO_VIEWER], ends=end
    )
    services.access_add(
        actor=olivia, entry=lecture, principal=piper, roles=[Role.CO_VIEWER], ends=end
    )
    services.access_set(
        actor=olivia,
        entry=lecture,
        principal=victor,
        roles=[Role.CO_VIEWER],
        ends=end + timedelta(days=1),
    )
    return group


def test_the_sweep_removes_only_ended_roles_and_records_each_holder_once(
    olivia, paula, piper, victor, evan, lecture, mixed, end
):
    group = mixed
    records = AccessChange.objects.count()

    with at(end):
        swept = services.grants_expire()

    assert swept == 3  # Paula, the group, Piper
    assert guardian_codenames(lecture, paula) == set()
    assert guardian_codenames(lecture, group) == set()
    assert guardian_codenames(lecture, piper) == {"copublish_mediaentry"}
    assert guardian_codenames(lecture, victor) == {"coview_mediaentry"}
    assert guardian_codenames(lecture, evan) == {"coedit_mediaentry"}
    assert list(GrantTerm.objects.values_list("user_id", "role", "ends_at")) == [
        (victor.pk, "co-viewer", end + timedelta(days=1))
    ]
    assert not EntryAccess.objects.filter(entry=lecture, user=paula).exists()
    assert not EntryAccess.objects.filter(entry=lecture, group=group).exists()
    assert row_ends(lecture, piper) is None
    assert row_ends(lecture, victor) == end + timedelta(days=1)

    expired = sorted(AccessChange.objects.order_by("id")[records:], key=str)
    assert [(c.principal_name, c.reason, c.actor, c.before, c.after) for c in expired] == [
        ("Paula Park", "expired", None, ["co-editor", "co-viewer"], []),
        ("Piper Price", "expired", None, ["co-publisher", "co-viewer"], ["co-publisher"]),
        ("Teaching Assistants", "expired", None, ["co-viewer"], []),
    ]
    assert [c.before_ends for c in expired] == [
        {"co-editor": end.isoformat(), "co-viewer": end.isoformat()},
        {"co-viewer": end.isoformat()},
        {"co-viewer": end.isoformat()},
    ]
    assert all(c.after_ends == {} for c in expired)
    assert access.differences() == 0


def test_the_sweep_changes_nothing_anyone_sees(olivia, paula, piper, lecture, mixed, end):
    with at(end):
        seen_before = (
            holders(lecture),
            access.entry_for_user(piper, lecture.pk).roles,
            my_media_names(paula),
        )
        services.grants_expire()
        seen_after = (
            holders(lecture),
            access.entry_for_user(piper, lecture.pk).roles,
            my_media_names(paula),
        )

    assert seen_before == seen_after


def test_the_sweep_run_again_finds_nothing_and_records_nothing(lecture, mixed, end):
    with at(end):
        assert services.grants_expire() == 3
        records = AccessChange.objects.count()

        assert services.grants_expire() == 0

    assert AccessChange.objects.count() == records
    assert access.differences() == 0


def test_the_sweep_before_any_end_does_nothing(lecture, mixed, end):
    records = AccessChange.objects.count()

    with at(end - TINY):
        assert services.grants_expire() == 0

    assert AccessChange.objects.count() == records
    assert GrantTerm.objects.count() == 5  # Paula's two, the group's, Piper's, Victor's


def test_the_task_runs_the_sweep(lecture, mixed, end):
    with at(end):
        result = tasks.grants_expire.enqueue()  # the ImmediateBackend: at once

    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == 3
    assert GrantTerm.objects.count() == 1


def test_the_read_model_matches_guardians_rows_and_the_terms_before_and_after(lecture, mixed, end):
    assert access.differences() == 0
    out = StringIO()
    call_command("access_rebuild", "--check", stdout=out)
    assert "matches" in out.getvalue()

    with at(end):  # ended, not swept: the rows still stand, with their ends
        assert access.differences() == 0
        assert access.rebuild()[1] == 0
        services.grants_expire()
        assert access.differences() == 0


def test_a_rebuild_keeps_the_ends(paula, victor, lecture, mixed, end):
    ends = dict(EntryAccess.objects.filter(entry=lecture).values_list("id", "ends_at"))
    assert row_ends(lecture, paula) == end

    written, differing = access.rebuild()

    assert differing == 0
    assert written == EntryAccess.objects.count()
    after = EntryAccess.objects.filter(entry=lecture).values_list("ends_at", flat=True)
    assert sorted(after, key=str) == sorted(ends.values(), key=str)
    assert row_ends(lecture, paula) == end
    assert row_ends(lecture, victor) == end + timedelta(days=1)


def test_a_rebuild_restores_ends_the_read_model_lost(paula, victor, lecture, mixed, end):
    EntryAccess.objects.filter(entry=lecture).update(ends_at=None)
    assert access.differences() == 4  # Paula, the group, Piper, Victor

    with pytest.raises(CommandError, match="differs"):
        call_command("access_rebuild", "--check", stdout=StringIO())
    call_command("access_rebuild", stdout=StringIO())

    assert access.differences() == 0
    assert row_ends(lecture, paula) == end
    assert row_ends(lecture, victor) == end + timedelta(days=1)
    with at(end):
        assert access.principal_roles(lecture, paula) == frozenset()


# Mid-session: an ended moderator is disarmed at once (rule 2) -----------------------------


def test_a_chat_moderator_whose_grant_ends_mid_session_is_disarmed_at_once(
    olivia, chad, open_room, question, end
):
    services.access_set(
        actor=olivia, entry=open_room, principal=chad, roles=[Role.CHAT_MODERATOR], ends=end
    )
    as_chad = client_for(chad)
    with at(end - TINY):
        assert as_chad.post(url(open_room, "message_pin", question.pk)).status_code == 302
        cursor = cursor_of(as_chad, open_room)

    with at(end):
        response = as_chad.post(url(open_room, "message_delete", question.pk))
        html = poll(as_chad, open_room, cursor).content.decode()
        here = room_selectors.standing_for_user(chad, open_room.pk)

    assert response.status_code == 403
    question.refresh_from_db()
    assert question.is_visible
    assert here.joined_roles == {Role.CHAT_MODERATOR}
    assert here.roles == frozenset()
    assert not here.powers.can_moderate_chat
    assert "You are no longer a chat moderator in this room." in html
    assert "Clear chat" not in html
    assert terms(open_room, chad) == {Role.CHAT_MODERATOR: end}  # no sweep needed


def test_a_room_moderator_whose_grant_ends_mid_session_cannot_lock_the_room(
    olivia, rita, open_room, live, end
):
    services.access_set(
        actor=olivia, entry=open_room, principal=rita, roles=[Role.ROOM_MODERATOR], ends=end
    )
    as_rita = client_for(rita)
    with at(end - TINY):
        assert as_rita.post(url(open_room, "session_lock")).status_code == 302

    with at(end):
        response = as_rita.post(url(open_room, "session_unlock"))
        with pytest.raises(PermissionDenied, match="no longer have permission"):
            room_services.session_lock(actor=rita, entry=open_room, locked=False)

    assert response.status_code == 403
    live.refresh_from_db()
    assert live.locked


def test_a_group_moderator_grant_ending_mid_session_disarms_its_members(
    olivia, open_room, live, question, end
):
    group = GroupFactory(name="Teaching Assistants")
    tara = group.user_set.create(username="tara", display_name="Tara Thompson")
    services.moderators_add(
        actor=olivia, entry=open_room, principals=[group], roles=[Role.CHAT_MODERATOR], ends=end
    )
    participant = room_services.participant_join(user=tara, entry=open_room)
    assert participant.roles == ["chat-moderator"]

    with at(end):
        response = client_for(tara).post(url(open_room, "message_delete", question.pk))

    assert response.status_code == 403
    question.refresh_from_db()
    assert question.is_visible


def test_the_sweep_changes_the_rooms_access_version_and_everyones_list(
    olivia, chad, paula, open_room, live, end
):
    services.access_set(
        actor=olivia, entry=open_room, principal=chad, roles=[Role.CHAT_MODERATOR], ends=end
    )
    as_paula = client_for(paula)
    with at(end - TINY):
        cursor = cursor_of(as_paula, open_room)
        version = room_selectors.standing_for_user(paula, open_room.pk).access_version

    with at(end):
        # Ended, not swept: Chad's roles no longer count, but no change of access is
        # recorded yet, so the version others' pages compare with stands.
        assert room_selectors.standing_for_user(paula, open_room.pk).access_version == version
        page = as_paula.get(url(open_room, "room_detail")).content.decode()
        assert "Chat moderator" not in page.split("Chad Chen")[1].split("</li>")[0]
        services.grants_expire()
        here = room_selectors.standing_for_user(paula, open_room.pk)
        response = poll(as_paula, open_room, cursor)

    expired = AccessChange.objects.latest("id")
    assert (expired.reason, expired.user) == ("expired", chad)
    assert here.access_version == expired.pk != version
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="participants"' in html  # the list comes again, out of band
    chad_row = html.split("Chad Chen")[1].split("</li>")[0]
    assert "Chat moderator" not in chad_row
    assert here.cursor.access == expired.pk


# The real worker: the sweep queued for the end runs when it comes -------------------------


def run_worker(backend: str) -> None:
    """Run django-tasks-db's worker until the queue has nothing ready (see
    tests/accounts/test_tasks.py)."""
    call_command(
        "db_worker",
        f"--backend={backend}",
        "--batch",
        "--no-startup-delay",
        "--no-reload",
        stdout=StringIO(),
        stderr=StringIO(),
    )


def test_scheduling_on_a_backend_that_cannot_wait_queues_nothing(db, end):
    tasks.expiry_schedule(end)  # the tests' ImmediateBackend: it would run the sweep now

    assert not DBTaskResult.objects.exists()


def test_scheduling_on_the_database_backend_queues_the_sweep_for_the_end(db, settings, end):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }

    tasks.expiry_schedule(end)

    [queued] = DBTaskResult.objects.all()
    assert queued.task_path == "mediaspace.tasks.grants_expire"
    assert queued.run_after == end
    assert queued.status == TaskResultStatus.READY


# The worker manages its own transactions and connections, as in production: these tests
# run outside the test's transaction (transaction=True), as tests/accounts/test_tasks.py.
@pytest.mark.django_db(transaction=True)
def test_a_grant_with_an_end_queues_the_sweep_which_the_worker_runs_when_due(
    settings, olivia, paula, lecture, end
):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }

    services.access_add(
        actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_VIEWER], ends=end
    )  # committed: its on_commit queues the sweep

    [queued] = DBTaskResult.objects.all()
    assert (queued.task_path, queued.run_after) == ("mediaspace.tasks.grants_expire", end)

    with at(end - TINY):
        run_worker("default")
    queued.refresh_from_db()
    assert queued.status == TaskResultStatus.READY  # not due: left waiting
    assert guardian_codenames(lecture, paula) == {"coview_mediaentry"}

    with at(end + timedelta(seconds=1)):
        run_worker("default")
    queued.refresh_from_db()
    assert queued.status == TaskResultStatus.SUCCESSFUL
    assert queued.return_value == 1
    assert guardian_codenames(lecture, paula) == set()
    assert not GrantTerm.objects.exists()
    expired = AccessChange.objects.latest("id")
    assert (expired.reason, expired.actor, expired.user) == ("expired", None, paula)
    assert access.differences() == 0


@pytest.mark.django_db(transaction=True)
def test_a_sweep_queued_with_run_after_on_the_database_backend_waits_until_then(
    olivia, paula, lecture, end
):
    services.access_add(
        actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_VIEWER], ends=end
    )
    queued = tasks.grants_expire.using(backend="database", run_after=end).enqueue()

    run_worker("database")
    queued.refresh()
    assert queued.status == TaskResultStatus.READY

    with at(end):
        run_worker("database")
    queued.refresh()
    assert queued.status == TaskResultStatus.SUCCESSFUL
    assert queued.return_value == 1
    assert not MediaEntryUserObjectPermission.objects.filter(user=paula).exists()


# Query counts: ended grants cost no more, and ends cost one query whatever their number ----


def test_entry_for_user_takes_one_query_before_and_after_the_end(
    olivia, paula, lecture, end, django_assert_num_queries
):
    services.access_add(
        actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_VIEWER], ends=end
    )
    group = GroupFactory()
    group.user_set.add(paula)
    services.access_add(
        actor=olivia, entry=lecture, principal=group, roles=[Role.CO_EDITOR], ends=end
    )

    for moment in (end - TINY, end):
        with at(moment), django_assert_num_queries(1):
            access.entry_for_user(paula, lecture.pk)


def test_my_media_takes_one_query_before_and_after_the_end(
    olivia, paula, lecture, end, django_assert_num_queries
):
    kept = services.media_create(owner=olivia, name="Kept notes", media_type=MediaEntry.Type.VIDEO)
    services.access_add(actor=olivia, entry=kept, principal=paula, roles=[Role.CO_VIEWER])
    services.access_add(
        actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_VIEWER], ends=end
    )

    for moment, count in ((end - TINY, 2), (end, 1)):
        with at(moment), django_assert_num_queries(1):
            found = access.my_media(paula, wanted=None, sort="-updated", stop=20)
        assert len(found.rows) == count


def test_the_roles_tab_takes_as_many_queries_with_ended_grants_as_without(
    olivia, paula, victor, lecture, end
):
    services.access_add(
        actor=olivia, entry=lecture, principal=paula, roles=[Role.CO_VIEWER], ends=end
    )
    services.access_set(
        actor=olivia,
        entry=lecture,
        principal=victor,
        roles=[Role.CO_VIEWER],
        ends=end + timedelta(days=1),
    )

    counts = []
    for moment in (end - TINY, end):
        with at(moment), CaptureQueriesContext(connection) as queries:
            access.holders_page(lecture, after=LIST_START, limit=25)
        counts.append(len(queries))

    assert counts == [1, 1]  # the page, with its rows' ends


def test_python_reads_take_one_more_query_only_while_an_ended_row_is_unswept(
    olivia, paula, open_room, end, django_assert_num_queries
):
    services.moderators_add(
        actor=olivia, entry=open_room, principals=[paula], roles=[Role.CHAT_MODERATOR], ends=end
    )

    with at(end - TINY), django_assert_num_queries(1):
        assert access.users_roles(open_room, [paula.pk], module_on=True)
    with at(end), django_assert_num_queries(2):  # the documented one more, for its terms
        assert not access.users_roles(open_room, [paula.pk], module_on=True).get(paula.pk)
    with at(end):
        services.grants_expire()
        with django_assert_num_queries(1):
            assert access.users_roles(open_room, [paula.pk], module_on=True) == {}


@pytest.mark.parametrize("holders_with_ends", [5, 50])
def test_the_roles_tab_takes_at_most_two_queries_whatever_the_number_of_ends(
    olivia, lecture, end, holders_with_ends
):
    people = [UserFactory() for _ in range(holders_with_ends)]
    half = holders_with_ends // 2
    services.collaborators_add(
        actor=olivia, entry=lecture, principals=people[:half], roles=[Role.CO_VIEWER], ends=end
    )
    services.collaborators_add(
        actor=olivia,
        entry=lecture,
        principals=people[half:],
        roles=[Role.CO_EDITOR],
        ends=end + timedelta(days=1),
    )

    for moment, listed in ((end - TINY, holders_with_ends), (end, holders_with_ends - half)):
        with at(moment), CaptureQueriesContext(connection) as queries:
            found, counts = access.holders_page(lecture, after=LIST_START, limit=100)
        assert len(queries) <= 2
        assert counts.users == listed + 3  # and Evan, Piper, Victor
        assert sum(1 for holder in found if holder.ends) == listed
