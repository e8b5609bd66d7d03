"""Migrating a database seeded the old way (moderators on the room records, the switch in
rooms) through the access core keeps every grant and every audit row.

mediaspace 0006 cannot be unapplied (its data move has no reverse), so the test empties
the test database and migrates it from the start up to the migrations before the move,
seeds it with the historical models, then migrates it to the end, where it leaves it.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import User
from mediaspace import access
from mediaspace.models import (
    AccessChange,
    EntryAccess,
    MediaEntry,
    MediaEntryGroupObjectPermission,
    MediaEntryUserObjectPermission,
    Module,
)

# The migrations before the access core, and those the test runs over the seeded data.
BEFORE = {"mediaspace": "0005_permission_sort_keys", "rooms": "0004_permission_sort_keys"}
MOVES = {
    ("mediaspace", "0006_access_core"),
    ("mediaspace", "0007_grant_terms"),
    ("rooms", "0005_moderators_on_entries"),
    ("rooms", "0006_session_number_from_events"),
    ("rooms", "0007_chat_author_latest"),
}
OLD_TABLES = (
    "rooms_roomuserobjectpermission",
    "rooms_roomgroupobjectpermission",
    "rooms_module",
)
BITS = {
    "coedit_mediaentry": 2,
    "copublish_mediaentry": 4,
    "coview_mediaentry": 8,
    "moderate_room": 16,
    "moderate_chat": 32,
}
COLLABORATOR_PERMISSIONS = {
    "coedit_mediaentry": "Co-editor",
    "copublish_mediaentry": "Co-publisher",
    "coview_mediaentry": "Co-viewer",
}
MODERATOR_PERMISSIONS = {"moderate_room": "Room moderator", "moderate_chat": "Chat moderator"}

# Username: display name (empty: the holder key falls back to the username).
PEOPLE = {
    "olivia": "Olivia Owens",
    "evan": "Evan Edwards",
    "rita": "Rita Reyes",
    "chad": "",
    "paula": "Paula PARK",
}
# Group: members (the owner among them: their group's grant is a row of its own).
GROUPS = {"Biology Staff": ["paula", "olivia"], "Chat Team": ["chad", "rita"]}
# Entry name: owner, type, status, created, updated.
ENTRIES = {
    "Week 3 Lecture": ("olivia", "video", "published", (2026, 9, 1), (2026, 10, 2)),
    "Campus Podcast": ("evan", "audio", "unlisted", (2026, 9, 3), (2026, 9, 4)),
    "Live Q&A Room": ("olivia", "room", "private", (2026, 9, 5), (2026, 11, 6)),
    "Lab Notes": ("paula", "image", "private", (2026, 9, 7), (2026, 9, 7)),
}
ROOM = "Live Q&A Room"
# Kind, holder, entry, codename. Moderator roles sit on the room record until the move.
GRANTS = [
    ("user", "evan", "Week 3 Lecture", "coedit_mediaentry"),
    ("user", "evan", "Week 3 Lecture", "copublish_mediaentry"),
    ("user", "rita", "Week 3 Lecture", "coview_mediaentry"),
    ("user", "olivia", "Campus Podcast", "coview_mediaentry"),
    ("user", "evan", ROOM, "coedit_mediaentry"),
    ("group", "Biology Staff", "Week 3 Lecture", "coview_mediaentry"),
    ("group", "Biology Staff", ROOM, "coview_mediaentry"),
    ("user", "rita", ROOM, "moderate_room"),
    ("user", "evan", ROOM, "moderate_room"),
    ("user", "chad", ROOM, "moderate_chat"),
    ("group", "Biology Staff", ROOM, "moderate_room"),
    ("group", "Chat Team", ROOM, "moderate_chat"),
]
# Entry, actor, kind and holder (None: a holder since deleted), name, before, after, when.
CHANGES = [
    ("Week 3 Lecture", "olivia", "user", "evan", "Evan Edwards", [], ["co-editor"], 1),
    ("Week 3 Lecture", "olivia", "user", "evan", "Evan Edwards", ["co-editor"],
     ["co-editor", "co-publisher"], 2),
    (ROOM, "olivia", "user", "rita", "Rita Reyes", [], ["room-moderator"], 3),
    (ROOM, None, "group", "Chat Team", "Chat Team", ["room-moderator"], ["chat-moderator"], 4),
    ("Week 3 Lecture", "evan", "group", None, "Former Staff", ["co-viewer"], [], 5),
]  # fmt: skip


def drop_every_table() -> None:
    """Empty the database of tables, so that migrations can run in it from the start."""
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    cascade = " CASCADE" if connection.vendor == "postgresql" else ""
    with connection.constraint_checks_disabled(), connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(table)}{cascade}")


def migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    """Migrate the database to the targets; return an executor that knows the result."""
    MigrationExecutor(connection).migrate(targets)
    return MigrationExecutor(connection)


def when(day: tuple[int, int, int] | int) -> datetime:
    """Return a fixed moment: noon on a date, or a morning in November for a day's number."""
    if isinstance(day, int):
        return datetime(2026, 11, day, 9, 30, tzinfo=UTC)
    return datetime(*day, 12, 0, tzinfo=UTC)


def seed(apps) -> tuple[dict, dict, dict]:
    """Write the old world with the historical models; return the users, groups, entries."""
    model = apps.get_model
    content_type = model("contenttypes", "ContentType").objects.get_or_create
    permission = model("auth", "Permission").objects.get_or_create
    entry_type = content_type(app_label="mediaspace", model="mediaentry")[0]
    room_type = content_type(app_label="rooms", model="room")[0]
    permissions = {
        **{
            codename: permission(
                content_type=entry_type, codename=codename, defaults={"name": name}
            )[0]
            for codename, name in COLLABORATOR_PERMISSIONS.items()
        },
        **{
            codename: permission(
                content_type=room_type, codename=codename, defaults={"name": name}
            )[0]
            for codename, name in MODERATOR_PERMISSIONS.items()
        },
    }
    users = {
        username: model("accounts", "User").objects.create(
            username=username, display_name=name, email=f"{username}@example.com"
        )
        for username, name in PEOPLE.items()
    }
    groups = {name: model("auth", "Group").objects.create(name=name) for name in GROUPS}
    for name, members in GROUPS.items():
        groups[name].user_set.add(*(users[username] for username in members))
    entry_model = model("mediaspace", "MediaEntry")
    entries = {}
    for name, (owner, media_type, status, created, updated) in ENTRIES.items():
        entry = entry_model.objects.create(
            owner=users[owner], name=name, media_type=media_type, status=status
        )
        entry_model.objects.filter(pk=entry.pk).update(
            created_at=when(created), updated_at=when(updated)
        )
        entries[name] = entry
    room = model("rooms", "Room").objects.create(media=entries[ROOM])
    for kind, holder, entry, codename in GRANTS:
        on_room = codename in MODERATOR_PERMISSIONS
        table = ("Room" if on_room else "MediaEntry") + kind.title() + "ObjectPermission"
        model("rooms" if on_room else "mediaspace", table).objects.create(
            **{kind: users[holder] if kind == "user" else groups[holder]},
            permission=permissions[codename],
            content_object=room if on_room else entries[entry],
        )
    model("rooms", "Module").objects.create(name="ChatandCollaboration", enabled=True)
    change_model = model("mediaspace", "AccessChange")
    for entry, actor, kind, holder, name, before, after, day in CHANGES:
        principal = None if holder is None else (users if kind == "user" else groups)[holder]
        change = change_model.objects.create(
            entry=entries[entry],
            actor=users[actor] if actor else None,
            principal_name=name,
            before=before,
            after=after,
            **{kind: principal},
        )
        change_model.objects.filter(pk=change.pk).update(created_at=when(day))
    return users, groups, entries


def old_grants(apps, users: dict, groups: dict, entries: dict) -> Counter:
    """Count the grants in the four old tables, by kind, holder, entry and codename."""
    names = {
        "user": {user.pk: name for name, user in users.items()},
        "group": {group.pk: name for name, group in groups.items()},
    }
    entry_names = {entry.pk: name for name, entry in entries.items()}
    grants: Counter = Counter()
    for app, table in (("mediaspace", "MediaEntry"), ("rooms", "Room")):
        for kind in ("user", "group"):
            rows = apps.get_model(app, f"{table}{kind.title()}ObjectPermission").objects
            for holder_id, entry_id, codename in rows.values_list(
                f"{kind}_id", "content_object_id", "permission__codename"
            ):
                grants[kind, names[kind][holder_id], entry_names[entry_id], codename] += 1
    return grants


def new_grants() -> Counter:
    """Count the grants on MediaEntry's guardian tables, as old_grants does."""
    names = {
        "user": dict(User.objects.values_list("pk", "username")),
        "group": dict(Group.objects.values_list("pk", "name")),
    }
    entry_names = dict(MediaEntry.objects.values_list("pk", "name"))
    grants: Counter = Counter()
    for kind, model in (
        ("user", MediaEntryUserObjectPermission),
        ("group", MediaEntryGroupObjectPermission),
    ):
        for holder_id, entry_id, codename in model.objects.values_list(
            f"{kind}_id", "content_object_id", "permission__codename"
        ):
            grants[kind, names[kind][holder_id], entry_names[entry_id], codename] += 1
    return grants


def expected_access() -> dict[tuple[str, str, str], tuple]:
    """EntryAccess as the seed says it should be: by entry, kind and holder name."""
    bits = {(entry, "user", owner): 1 for entry, (owner, *_) in ENTRIES.items()}
    for kind, holder, entry, codename in GRANTS:
        bits[entry, kind, holder] = bits.get((entry, kind, holder), 0) | BITS[codename]
    rows = {}
    for (entry, kind, holder), role_bits in bits.items():
        _, _, _, created, updated = ENTRIES[entry]
        key = (PEOPLE[holder] or holder) if kind == "user" else holder
        rows[entry, kind, holder] = (
            role_bits,
            key.lower(),
            when(updated),
            when(created),
            entry.lower(),
        )
    return rows


def access_by_name() -> dict[tuple[str, str, str], tuple]:
    """EntryAccess as it is, keyed as expected_access."""
    users = dict(User.objects.values_list("pk", "username"))
    groups = dict(Group.objects.values_list("pk", "name"))
    entries = dict(MediaEntry.objects.values_list("pk", "name"))
    rows = {}
    for row in EntryAccess.objects.all():
        holder = ("group", groups[row.group_id]) if row.group_id else ("user", users[row.user_id])
        rows[entries[row.entry_id], *holder] = (
            row.roles,
            row.holder_key,
            row.entry_updated_at,
            row.entry_created_at,
            row.entry_name_key,
        )
    return rows


@pytest.mark.django_db(transaction=True)
def test_migrating_a_seeded_database_keeps_every_grant_and_audit_row():
    """Every old grant is a guardian row on MediaEntry after the move, moderators' too;
    EntryAccess is what the grants and owners say; the switch and the audit log carry over."""
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    before = [(app, BEFORE.get(app, name)) for app, name in leaves]
    try:
        drop_every_table()
        executor = migrate(before)
        assert {(m.app_label, m.name) for m, _ in executor.migration_plan(leaves)} == MOVES
        apps = executor.loader.project_state(before).apps
        users, groups, entries = seed(apps)
        grants = old_grants(apps, users, groups, entries)
        changes = list(apps.get_model("mediaspace", "AccessChange").objects.order_by("pk").values())
        assert grants == Counter(GRANTS)

        executor = migrate(leaves)
        ContentType.objects.clear_cache()

        assert executor.migration_plan(leaves) == []
        assert new_grants() == grants
        for model in (MediaEntryUserObjectPermission, MediaEntryGroupObjectPermission):
            assert not model.objects.exclude(
                permission__content_type__app_label="mediaspace",
                permission__content_type__model="mediaentry",
            ).exists()
        assert not Permission.objects.filter(
            content_type__app_label="rooms", codename__in=MODERATOR_PERMISSIONS
        ).exists()
        assert access_by_name() == expected_access()
        assert access.current_rows() == access.expected_rows()
        assert access.differences() == 0
        for entry in MediaEntry.objects.all():
            assert EntryAccess.objects.get(entry=entry, user=entry.owner_id).roles & 1
        assert Module.objects.get(name=Module.Name.CHAT_AND_COLLABORATION).enabled is True
        # Every record carries over, as a person's change with no ends (0007's defaults).
        new_fields = {"before_ends": {}, "after_ends": {}, "reason": AccessChange.Reason.CHANGE}
        assert list(AccessChange.objects.order_by("pk").values()) == [
            change | new_fields for change in changes
        ]
        assert len(changes) == len(CHANGES)
        assert not set(OLD_TABLES) & set(connection.introspection.table_names())
    finally:
        if MigrationExecutor(connection).migration_plan(leaves):
            drop_every_table()
            migrate(leaves)
        ContentType.objects.clear_cache()
