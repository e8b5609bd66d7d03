"""The access rule's read model (EntryAccess): kept by the services, rebuilt from guardian."""

from __future__ import annotations

import random
import re

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from guardian.shortcuts import assign_perm, remove_perm

from accounts.models import User
from mediaspace import access, services
from mediaspace.models import AccessChange, EntryAccess, GrantTerm, MediaEntry, Module, Role
from rooms import services as room_services
from tests.factories import GroupFactory, UserFactory

COLLABORATORS = [Role.CO_EDITOR, Role.CO_PUBLISHER, Role.CO_VIEWER]
MODERATORS = [Role.ROOM_MODERATOR, Role.CHAT_MODERATOR]


@pytest.mark.parametrize("seed", range(6))
def test_the_services_keep_it_as_guardian_s_rows_say(db, seed):
    """Every way the product changes access or what the lists sort by keeps EntryAccess
    exactly what a rebuild from guardian's tables and the owners writes."""
    rng = random.Random(seed)
    Module.objects.update_or_create(
        name=Module.Name.CHAT_AND_COLLABORATION, defaults={"enabled": True}
    )
    people = UserFactory.create_batch(6)
    groups = GroupFactory.create_batch(3)
    entries: list[MediaEntry] = []
    for step in range(60):
        action = rng.choice(
            ["create", "create", "grant", "grant", "grant", "edit", "remove", "rename",
             "status", "person", "group", "delete", "forget"]
        )  # fmt: skip
        principal = rng.choice([*people, *groups])
        if action == "create" or not entries:
            owner = rng.choice(people)
            if rng.random() < 0.4:
                entries.append(room_services.room_create(owner=owner, name=f"Room {step}"))
            else:
                entries.append(
                    services.media_create(owner=owner, name=f"Entry {step}", media_type="video")
                )
            continue
        entry = rng.choice(entries)
        offered = COLLABORATORS + (MODERATORS if entry.is_room else [])
        if principal == entry.owner:
            continue
        if action == "grant":
            roles = rng.sample(offered, rng.randint(1, 2))
            services.access_add(actor=entry.owner, entry=entry, principal=principal, roles=roles)
        elif action == "edit":
            roles = rng.sample(offered, rng.randint(0, 2))
            services.access_edit(
                actor=entry.owner, entry=entry, principal=principal, roles=roles, scope=offered
            )
        elif action == "remove":
            services.access_remove(
                actor=entry.owner, entry=entry, principal=principal, scope=offered
            )
        elif action == "rename":
            services.media_update(
                actor=entry.owner, entry=entry, name=f"Renamed {step}", description="", tags=""
            )
        elif action == "status":
            status = rng.choice(MediaEntry.Status.values)
            services.media_status_set(actor=entry.owner, entry=entry, status=status)
        elif action == "person":
            person = rng.choice(people)
            person.display_name = f"Person {step}"
            person.save()
        elif action == "group":
            group = rng.choice(groups)
            group.name = f"Group {step} {group.pk}"
            group.save()
            access.holder_renamed(group)  # as the Group admin does
        elif action == "delete":
            entries.remove(entry)
            services.media_delete(actor=entry.owner, entry=entry)
        elif action == "forget" and isinstance(principal, User):
            owns = MediaEntry.objects.filter(owner=principal).exists()
            if not owns:
                services.access_remove_all(actor=None, principal=principal)
                people.remove(principal)
                principal.delete()

    assert EntryAccess.objects.exists()
    assert access.differences() == 0
    assert access.rebuild()[1] == 0


def test_rows_written_past_the_services_are_found_and_rebuilt(olivia, lecture, room, paula):
    group = GroupFactory()
    assign_perm("mediaspace.coview_mediaentry", paula, lecture)  # guardian's own call
    assign_perm("mediaspace.moderate_chat", group, room)
    remove_perm("mediaspace.coedit_mediaentry", User.objects.get(username="evan"), lecture)

    assert access.differences() == 3
    with pytest.raises(CommandError, match="differs from guardian's rows in 3 rows"):
        call_command("access_rebuild", "--check")

    call_command("access_rebuild")

    assert access.differences() == 0
    call_command("access_rebuild", "--check")
    assert access.principal_roles(lecture, paula) == {Role.CO_VIEWER}
    assert access.principal_roles(room, group) == {Role.CHAT_MODERATOR}


def test_every_entry_has_its_owner_s_row(olivia, lecture, room):
    owners = EntryAccess.objects.filter(roles=access.ROLE_BITS[Role.OWNER])

    assert sorted(owners.values_list("entry_id", "user_id")) == sorted(
        [(lecture.pk, olivia.pk), (room.pk, olivia.pk)]
    )


def test_the_statements_name_the_tables_of_the_models():
    """The hand-written statements spell table and column names out: they must be real."""
    from django.contrib.auth.models import Group

    from accounts.models import GroupNameKey, NameKey
    from rooms.models import ChatMessage, Participant, RoomEvent, Session

    tables = {
        "mediaspace_entryaccess": EntryAccess,
        "mediaspace_grantterm": GrantTerm,
        "mediaspace_mediaentry": MediaEntry,
        "mediaspace_module": Module,
        "mediaspace_accesschange": AccessChange,
        "accounts_user": User,
        "accounts_user_groups": User.groups.through,
        "accounts_namekey": NameKey,
        "accounts_groupnamekey": GroupNameKey,
        "auth_group": Group,
        "rooms_session": Session,
        "rooms_participant": Participant,
        "rooms_roomevent": RoomEvent,
        "rooms_chatmessage": ChatMessage,
    }
    statements = [
        access.MODULE_NOW,
        access.ENTRY_FOR_USER,
        access.ROOM_FOR_USER,
        *access.MY_MEDIA_STATEMENTS.values(),
        *access.HOLDERS_PAGE.values(),
        *access.HOLDERS_COUNT.values(),
        access.ACTIVITY,
        access.SUGGEST_USERS,
        access.SUGGEST_GROUPS,
        *access.HOLDER_UPSERT.values(),
        *access.HOLDER_DELETE.values(),
        access.AUDIT_INSERT,
        *access.CHANGE_WRITE.values(),
        access.MESSAGE_INSERT,
        access.MESSAGE_EVENT_INSERT,
        access.MESSAGE_POST,
        access.ANALYZE,
    ]
    named = {name for sql in statements for name in re.findall(r"(?:FROM|JOIN|INTO) (\w+)", sql)}
    named -= {name for sql in statements for name in re.findall(r"WITH (\w+) AS", sql)}
    assert named == set(tables)
    for name, model in tables.items():
        assert model._meta.db_table == name
    columns = {field.column for field in MediaEntry._meta.concrete_fields}
    assert set(access.ENTRY_COLUMNS) == columns
    assert set(access.MY_MEDIA_COLUMNS) <= columns
    assert set(access.OWNER_COLUMNS) <= {field.column for field in User._meta.concrete_fields}
    assert set(access.SESSION_COLUMNS) <= {field.column for field in Session._meta.fields}
    assert set(access.PARTICIPANT_COLUMNS) <= {field.column for field in Participant._meta.fields}
    audit = {field.column for field in AccessChange._meta.concrete_fields} - {"id"}
    assert set(access.AUDIT_COLUMNS) == audit
    # A new message's and its event's rows: the columns left out start empty (NULL).
    for model, listed in (
        (ChatMessage, access.MESSAGE_COLUMNS),
        (RoomEvent, access.MESSAGE_EVENT_COLUMNS),
    ):
        fields = {field.column: field for field in model._meta.concrete_fields}
        assert set(listed) <= set(fields)
        assert all(fields[column].null for column in set(fields) - set(listed) - {"id"})
    written = {field.column for field in EntryAccess._meta.concrete_fields} - {"id"}
    for kind, sql in access.HOLDER_UPSERT.items():
        listed = re.search(r"\(([^)]*)\)\s*VALUES", sql).group(1)
        assert {column.strip() for column in listed.split(",")} == written - {
            "group_id" if kind == "user" else "user_id"
        }


@pytest.mark.skipif(connection.vendor != "postgresql", reason="psycopg's statement cache")
def test_psycopg_converts_the_long_statements_once(olivia, lecture):
    from psycopg import _queries

    cache = _queries._query2pg  # server-side binding (settings)
    access.my_media(olivia, wanted=None, sort="name", stop=21)
    converted = cache.cache_info()
    access.my_media(olivia, wanted=None, sort="name", stop=21)

    assert _queries.MAX_CACHED_STATEMENT_LENGTH >= access.LONGEST_STATEMENT > 4096
    assert cache.cache_info().hits > converted.hits
    assert cache.cache_info().misses == converted.misses


def test_a_grant_made_with_a_stale_copy_of_the_entry_writes_its_keys_as_they_are(
    olivia, lecture, paula
):
    """A view may read the entry before someone renames it and grant after: the new row
    takes the entry's name and dates as they are under the lock, not the stale copy's."""
    stale = MediaEntry.objects.get(pk=lecture.pk)
    services.media_update(actor=olivia, entry=lecture, name="Zebra talk", description="", tags="")

    services.access_add(actor=olivia, entry=stale, principal=paula, roles=[Role.CO_VIEWER])

    row = EntryAccess.objects.get(entry=lecture, user=paula)
    assert row.entry_name_key == "zebra talk"
    assert access.differences() == 0
