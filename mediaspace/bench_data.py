"""Seed the large, deterministic data set that `manage.py bench` times pages against.

Everything comes from one seeded `random.Random`, so two runs at the same scale hold
the same rows. Rows go in with `bulk_create` inside one transaction; only the
timestamps need a second pass, because `bulk_create` sets auto_now fields to now.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.db import connection, transaction
from django.db.models import DateField, Model

from accounts.models import GroupNameKey, NameKey, User, group_name_key_set
from mediaspace import access
from mediaspace.models import (
    ROLE_CODENAMES,
    AccessChange,
    GrantTerm,
    MediaEntry,
    MediaEntryGroupObjectPermission,
    MediaEntryUserObjectPermission,
    Module,
)
from mediaspace.permissions import (
    COLLABORATOR_ROLES,
    MODERATOR_ROLES,
    Role,
    sorted_roles,
)
from rooms.models import (
    ChatMessage,
    Participant,
    Room,
    RoomEvent,
    Session,
)
from rooms.permissions import session_roles

SEED = 20260101
BATCH_SIZE = 1000
PASSWORD = "bench-password"
OWNER_USERNAME = "bench-owner"
MEMBER_USERNAME = "bench-member"
MEMBER_GROUPS = 5
# A word in about one entry in five (name, description or tags): the search pages use it.
SEARCH_WORD = "biology"
SUGGEST_QUERY = "ma"  # the start of names such as Marco: many matches among 20,000 people
NEWCOMERS = 2_000
EPOCH = datetime(2023, 1, 1, tzinfo=UTC)
SPAN_SECONDS = 3 * 365 * 24 * 3600
EDIT_SECONDS = 90 * 24 * 3600

TOPICS = (
    "biology", "chemistry", "physics", "history", "economics", "statistics", "algebra",
    "geometry", "ecology", "genetics", "astronomy", "geology", "linguistics", "philosophy",
    "psychology", "sociology", "literature", "music", "design", "architecture", "robotics",
    "networks", "databases", "security", "marketing", "finance", "law", "ethics",
    "nutrition", "anatomy", "climate", "oceans", "volcanoes", "poetry", "painting",
    "sculpture", "photography", "film", "theatre", "dance",
)  # fmt: skip
OPENERS = (
    "An introduction to",
    "A deep dive into",
    "Revision notes on",
    "Questions and answers about",
    "Case studies in",
)
KINDS = {
    MediaEntry.Type.VIDEO: ("Lecture", "Tutorial", "Seminar", "Lab demo", "Interview"),
    MediaEntry.Type.AUDIO: ("Podcast", "Recording", "Talk"),
    MediaEntry.Type.IMAGE: ("Diagram", "Poster", "Photo", "Slide"),
    MediaEntry.Type.ROOM: ("Office hours", "Live Q&A", "Study group", "Workshop"),
}
TYPE_WEIGHTS = {
    MediaEntry.Type.VIDEO: 50,
    MediaEntry.Type.AUDIO: 15,
    MediaEntry.Type.IMAGE: 20,
    MediaEntry.Type.ROOM: 15,
}
STATUS_WEIGHTS = {
    MediaEntry.Status.PRIVATE: 50,
    MediaEntry.Status.UNLISTED: 20,
    MediaEntry.Status.PUBLISHED: 30,
}
THUMBNAILS = ("aurora", "campus", "cells", "city", "forest", "lab", "lecture", "ocean")
FIRST_NAMES = (
    "Ada", "Ben", "Chloe", "Dev", "Elif", "Farah", "Gus", "Hana", "Ivan", "Jade",
    "Kofi", "Lena", "Marco", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Theo",
)  # fmt: skip
LAST_NAMES = (
    "Adams", "Bauer", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Hughes", "Ito",
    "Jensen", "Khan", "Larsen", "Moreau", "Novak", "Okafor", "Patel", "Quist", "Rossi",
    "Silva", "Tanaka",
)  # fmt: skip


@dataclass(frozen=True)
class Sizes:
    """How many rows of each kind to seed."""

    users: int
    groups: int
    entries: int
    owner_entries: int
    member_grants_per_group: int
    member_rooms_per_group: int
    user_grants: int
    group_grants: int
    room_user_grants: int
    room_group_grants: int
    # The timed room's Roles & permissions tab: this many user and group grants.
    showcase_users: int = 400
    showcase_groups: int = 100
    # The timed room's live session (rooms, issue 5).
    session_participants: int = 300
    session_messages: int = 10_000

    @classmethod
    def at_scale(cls, scale: float) -> Sizes:
        """Return the full data set (scale 1.0) shrunk or grown by `scale`."""

        def n(full: int, minimum: int) -> int:
            return max(minimum, round(full * scale))

        return cls(
            users=n(20_000, 50),
            groups=n(2_000, 20),
            showcase_users=n(400, 12),
            showcase_groups=n(100, 3),
            entries=n(50_000, 100),
            owner_entries=n(5_000, 10),
            member_grants_per_group=n(300, 5),
            member_rooms_per_group=n(20, 1),
            user_grants=n(25_000, 10),
            group_grants=n(10_000, 10),
            room_user_grants=n(5_000, 5),
            room_group_grants=n(1_000, 5),
            session_participants=n(300, 10),
            session_messages=n(10_000, 100),
        )


@dataclass(frozen=True)
class BenchData:
    """The seeded data set and the rows the timed pages need."""

    sizes: Sizes
    owner: User
    member: User
    entry_id: int
    rooms: int
    member_visible_entries: int
    permission_rows: int
    # Users with no role on the timed room yet, for timing real grants one after another.
    newcomers: list[int]
    grant_terms: int = 0  # grants that end
    ended_terms: int = 0  # of those, ended and not yet swept

    @property
    def users(self) -> dict[str, User]:
        return {OWNER_USERNAME: self.owner, MEMBER_USERNAME: self.member}


def seed(scale: float = 1.0) -> BenchData:
    """Fill the current (throwaway) database with the bench data set."""
    sizes = Sizes.at_scale(scale)
    rng = random.Random(SEED)
    with transaction.atomic():
        # The product's main feature is on: moderator grants count.
        Module.objects.update_or_create(
            name=Module.Name.CHAT_AND_COLLABORATION, defaults={"enabled": True}
        )
        owner, member, others = _seed_users(rng, sizes.users)
        groups = _seed_groups(rng, sizes.groups, others, member)
        entries = _seed_entries(rng, sizes, owner, others)
        rooms = _seed_rooms(entries)
        showcase = entries[_first_owned(entries, owner)]
        member_visible, rows = _seed_grants(rng, sizes, entries, rooms, groups, others)
        showcase_rows, granted = _seed_showcase_access(
            rng, sizes, showcase, owner, others, groups[MEMBER_GROUPS:]
        )
        rows += showcase_rows
        grant_terms, ended_terms = _seed_terms(rng)
        # Rows went in in bulk, past the services: the access rule's read model is built
        # from them, as `manage.py access_rebuild` does.
        access.rebuild()
        _seed_live_session(sizes, showcase, owner, member, others)
    _analyze()
    return BenchData(
        sizes=sizes,
        owner=owner,
        member=member,
        entry_id=showcase.pk,
        rooms=len(rooms),
        member_visible_entries=member_visible,
        permission_rows=rows,
        newcomers=[person.pk for person in others if person.pk not in granted][:NEWCOMERS],
        grant_terms=grant_terms,
        ended_terms=ended_terms,
    )


def _seed_users(rng: random.Random, count: int) -> tuple[User, User, list[User]]:
    """Create the owner, the member and everyone else, all with one precomputed hash."""
    password = make_password(PASSWORD)
    people = [(OWNER_USERNAME, "Bench Owner"), (MEMBER_USERNAME, "Bench Member")]
    people += [
        (f"user{index:05}", f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}")
        for index in range(1, count - 1)
    ]
    users = User.objects.bulk_create(
        [
            User(
                username=username,
                display_name=name,
                email=f"{username}@bench.example",
                password=password,
            )
            for username, name in people
        ],
        batch_size=BATCH_SIZE,
    )
    # bulk_create skips User.save(), which indexes the names that suggestions search.
    NameKey.objects.bulk_create(
        [NameKey(user=user, key=key) for user in users for key in sorted(user.name_key_set())],
        batch_size=BATCH_SIZE,
    )
    return users[0], users[1], users[2:]


def _seed_groups(
    rng: random.Random, count: int, others: Sequence[User], member: User
) -> list[Group]:
    """Create groups of about twenty members; the member belongs to the first five."""
    groups = Group.objects.bulk_create(
        [Group(name=f"{rng.choice(TOPICS).title()} team {index:04}") for index in range(count)],
        batch_size=BATCH_SIZE,
    )
    GroupNameKey.objects.bulk_create(  # bulk_create sends no post_save
        [
            GroupNameKey(group=group, key=key)
            for group in groups
            for key in sorted(group_name_key_set(group.name))
        ],
        batch_size=BATCH_SIZE,
    )
    memberships = {(member.pk, group.pk) for group in groups[:MEMBER_GROUPS]}
    for group in groups:
        size = min(len(others), rng.randint(15, 25))
        memberships.update((user.pk, group.pk) for user in rng.sample(others, size))
    through = User.groups.through
    through.objects.bulk_create(
        [through(user_id=user_id, group_id=group_id) for user_id, group_id in sorted(memberships)],
        batch_size=BATCH_SIZE,
    )
    return groups


def _seed_entries(
    rng: random.Random, sizes: Sizes, owner: User, others: Sequence[User]
) -> list[MediaEntry]:
    """Create the catalogue, the owner's entries spread among everyone else's."""
    owner_ids = [owner.pk] * sizes.owner_entries
    owner_ids += [rng.choice(others).pk for _ in range(sizes.entries - sizes.owner_entries)]
    rng.shuffle(owner_ids)
    entries = [_entry(rng, owner_id) for owner_id in owner_ids]
    showcase = entries[_first_owned(entries, owner)]
    showcase.media_type = MediaEntry.Type.ROOM
    showcase.status = MediaEntry.Status.PUBLISHED
    showcase.duration_seconds = None
    showcase.thumbnail = ""
    with _timestamps_as_given(MediaEntry):
        MediaEntry.objects.bulk_create(entries, batch_size=BATCH_SIZE)
    return entries


@contextmanager
def _timestamps_as_given(model: type[Model]) -> Iterator[None]:
    """Let bulk_create keep the spread-out timestamps set on the objects, which the
    fields' auto_now and auto_now_add would replace with now."""
    stamped = [
        field
        for field in model._meta.concrete_fields
        if isinstance(field, DateField) and (field.auto_now or field.auto_now_add)
    ]
    flags = [(field.auto_now, field.auto_now_add) for field in stamped]
    for field in stamped:
        field.auto_now = field.auto_now_add = False
    try:
        yield
    finally:
        for field, (now, add) in zip(stamped, flags, strict=True):
            field.auto_now, field.auto_now_add = now, add


def _entry(rng: random.Random, owner_id: int) -> MediaEntry:
    """Return one unsaved entry with believable, deterministic details."""
    media_type = rng.choices(list(TYPE_WEIGHTS), weights=list(TYPE_WEIGHTS.values()))[0]
    status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
    first, second, third, fourth = rng.sample(TOPICS, 4)
    has_length = media_type in (MediaEntry.Type.VIDEO, MediaEntry.Type.AUDIO)
    has_artwork = media_type != MediaEntry.Type.ROOM and rng.random() < 0.5
    created_at = EPOCH + timedelta(seconds=rng.randrange(SPAN_SECONDS))
    return MediaEntry(
        owner_id=owner_id,
        name=f"{rng.choice(KINDS[media_type])} {rng.randint(1, 40)}: "
        f"{first.capitalize()} and {second}",
        description=f"{rng.choice(OPENERS)} {first}, {second} and {third}, "
        f"with examples from {fourth}.",
        tags=", ".join(rng.sample(TOPICS, rng.randint(1, 3))),
        media_type=media_type,
        duration_seconds=rng.randint(30, 7200) if has_length else None,
        thumbnail=f"{rng.choice(THUMBNAILS)}.svg" if has_artwork else "",
        status=status,
        created_at=created_at,
        updated_at=created_at + timedelta(seconds=rng.randrange(EDIT_SECONDS)),
    )


def _first_owned(entries: Sequence[MediaEntry], owner: User) -> int:
    return next(index for index, entry in enumerate(entries) if entry.owner_id == owner.pk)


def _seed_rooms(entries: Iterable[MediaEntry]) -> list[Room]:
    """Give every entry of type room its room record."""
    return Room.objects.bulk_create(
        [Room(media_id=entry.pk) for entry in entries if entry.is_room],
        batch_size=BATCH_SIZE,
    )


def _permissions() -> dict[Role, Permission]:
    codenames = {codename: role for role, codename in ROLE_CODENAMES.items()}
    found = Permission.objects.filter(content_type__app_label="mediaspace", codename__in=codenames)
    return {codenames[permission.codename]: permission for permission in found}


def _seed_grants(
    rng: random.Random,
    sizes: Sizes,
    entries: Sequence[MediaEntry],
    rooms: Sequence[Room],
    groups: Sequence[Group],
    others: Sequence[User],
) -> tuple[int, int]:
    """Share entries with the member's five groups, plus background grants for everyone.

    Returns how many entries the member sees through the groups, and the rows written.
    """
    permission = _permissions()
    collaborator_weights = (20, 10, 70)  # co-editor, co-publisher, co-viewer
    media_users: set[tuple[int, int, int]] = set()
    media_groups: set[tuple[int, int, int]] = set()
    room_users: set[tuple[int, int, int]] = set()
    room_groups: set[tuple[int, int, int]] = set()
    for group in groups[:MEMBER_GROUPS]:
        for entry in rng.sample(entries, min(len(entries), sizes.member_grants_per_group)):
            role = rng.choices(COLLABORATOR_ROLES, weights=collaborator_weights)[0]
            media_groups.add((group.pk, permission[role].pk, entry.pk))
        for room in rng.sample(rooms, min(len(rooms), sizes.member_rooms_per_group)):
            room_groups.add((group.pk, permission[Role.ROOM_MODERATOR].pk, room.pk))
    member_visible = len({row[2] for row in media_groups} | {row[2] for row in room_groups})
    for _ in range(sizes.user_grants):
        role = rng.choices(COLLABORATOR_ROLES, weights=collaborator_weights)[0]
        media_users.add((rng.choice(others).pk, permission[role].pk, rng.choice(entries).pk))
    for _ in range(sizes.group_grants):
        role = rng.choices(COLLABORATOR_ROLES, weights=collaborator_weights)[0]
        group = rng.choice(groups[MEMBER_GROUPS:] or groups)
        media_groups.add((group.pk, permission[role].pk, rng.choice(entries).pk))
    for _ in range(sizes.room_user_grants):
        role = rng.choice(MODERATOR_ROLES)
        room_users.add((rng.choice(others).pk, permission[role].pk, rng.choice(rooms).pk))
    for _ in range(sizes.room_group_grants):
        role = rng.choice(MODERATOR_ROLES)
        group = rng.choice(groups[MEMBER_GROUPS:] or groups)
        room_groups.add((group.pk, permission[role].pk, rng.choice(rooms).pk))
    # Every role is a permission on the entry (a room's id is its entry's).
    _insert(MediaEntryUserObjectPermission, "user_id", media_users | room_users)
    _insert(MediaEntryGroupObjectPermission, "group_id", media_groups | room_groups)
    return member_visible, len(media_users) + len(media_groups) + len(room_users) + len(room_groups)


GuardianRow = type[MediaEntryUserObjectPermission] | type[MediaEntryGroupObjectPermission]

# Of the grants, the share that ends: most some weeks ahead, some within days, and a few
# already ended but not yet swept (the rule's slow path, which reads their terms).
TERM_SHARE = 0.2
ENDED_SHARE = 0.02


def _seed_terms(rng: random.Random) -> tuple[int, int]:
    """Give a share of every grant an end (GrantTerm), as owners set them. Returns how
    many grants end, and how many of those have ended already."""
    roles = {permission.pk: role for role, permission in _permissions().items()}
    now = datetime.now(UTC)  # ends are relative to the bench run, which reads the clock
    terms = []
    for model, holder in (
        (MediaEntryUserObjectPermission, "user_id"),
        (MediaEntryGroupObjectPermission, "group_id"),
    ):
        grants = model.objects.order_by("pk").values_list(
            holder, "permission_id", "content_object_id"
        )
        for holder_id, permission_id, entry_id in grants:
            draw = rng.random()
            if draw >= TERM_SHARE:
                continue
            if draw < ENDED_SHARE:
                ends = now - timedelta(hours=rng.randint(1, 48))
            else:
                ends = now + timedelta(days=rng.randint(1, 90))
            terms.append(
                GrantTerm(
                    entry_id=entry_id,
                    role=roles[permission_id],
                    ends_at=ends,
                    **{holder: holder_id},
                )
            )
    GrantTerm.objects.bulk_create(terms, batch_size=BATCH_SIZE)
    return len(terms), sum(1 for term in terms if term.ends_at and term.ends_at <= now)


def _insert(model: GuardianRow, holder: str, rows: Iterable[tuple[int, int, int]]) -> None:
    """Bulk-insert guardian rows given as (holder id, permission id, object id)."""
    made: list[Any] = [
        model(**{holder: holder_id}, permission_id=permission_id, content_object_id=object_id)
        for holder_id, permission_id, object_id in sorted(rows)
    ]
    model.objects.bulk_create(made, batch_size=BATCH_SIZE)


def _seed_showcase_access(
    rng: random.Random,
    sizes: Sizes,
    entry: MediaEntry,
    owner: User,
    others: Sequence[User],
    groups: Sequence[Group],
) -> tuple[int, set[int]]:
    """Give the timed room hundreds of collaborators and moderators, with an audit log.

    Returns the permission rows written and the ids of the users given a role.
    """
    permission = _permissions()
    roles = list(Role)[1:]  # everything but owner
    people = rng.sample(list(others), sizes.showcase_users)
    teams = rng.sample(list(groups), sizes.showcase_groups)
    principals: list[User | Group] = [*people, *teams]
    grants = [
        (principal, role)
        for principal in principals
        for role in rng.sample(roles, rng.choice((1, 1, 2)))
    ]
    rows: dict[GuardianRow, list] = defaultdict(list)
    for principal, role in grants:
        is_group = isinstance(principal, Group)
        model: GuardianRow = (
            MediaEntryGroupObjectPermission if is_group else MediaEntryUserObjectPermission
        )
        rows[model].append(
            model(
                **{"group" if is_group else "user": principal},
                permission=permission[role],
                content_object_id=entry.pk,
            )
        )
    for model, objects in rows.items():
        model.objects.bulk_create(objects, batch_size=BATCH_SIZE)
    AccessChange.objects.bulk_create(
        [
            AccessChange(
                entry=entry,
                actor=owner,
                user=None if isinstance(principal, Group) else principal,
                group=principal if isinstance(principal, Group) else None,
                principal_name=str(principal),
                before=[],
                after=[role.value],
            )
            for principal, role in grants
        ],
        batch_size=BATCH_SIZE,
    )
    return len(grants), {person.pk for person in people} | {owner.pk}


# The timed room's live session (rooms, issue 5) -----------------------------------------

CHAT_LINES = (
    "Could you go over {} again?",
    "Is {} on the exam?",
    "Thanks, that example about {} helped.",
    "Where are the slides on {}?",
    "I found a good reading on {}.",
    "Can we have a lab session on {}?",
)


def _seed_live_session(
    sizes: Sizes, entry: MediaEntry, owner: User, member: User, others: Sequence[User]
) -> Session:
    """Give the timed room a live session: its participants (the member among them, with
    the roles they hold, resolved as joining does) and a long chat, with their events.
    """
    rng = random.Random(SEED + 5)  # its own stream: the rest of the data set stays the same
    now = datetime.now(UTC)
    session = Session.objects.create(
        room_id=entry.pk, state=Session.State.LIVE, opened_by=owner, started_at=now
    )
    people = [owner, member, *rng.sample(list(others), sizes.session_participants - 2)]
    participants = Participant.objects.bulk_create(
        [
            Participant(
                session=session,
                user=person,
                roles=[
                    role.value for role in sorted_roles(session_roles(_roles_on(person, entry)))
                ],
                joined_at=now,
            )
            for person in people
        ],
        batch_size=BATCH_SIZE,
    )
    messages = ChatMessage.objects.bulk_create(
        [
            ChatMessage(
                session=session,
                author=rng.choice(people),
                body=rng.choice(CHAT_LINES).format(rng.choice(TOPICS)),
            )
            for _ in range(sizes.session_messages)
        ],
        batch_size=BATCH_SIZE,
    )
    events = [RoomEvent(session=session, kind=RoomEvent.Kind.STATE)]
    events += [
        RoomEvent(session=session, kind=RoomEvent.Kind.PEOPLE, participant=participant)
        for participant in participants
    ]
    events += [
        RoomEvent(session=session, kind=RoomEvent.Kind.MESSAGE, message=message)
        for message in messages
    ]
    for seq, event in enumerate(events, start=1):
        event.seq = seq
    RoomEvent.objects.bulk_create(events, batch_size=BATCH_SIZE)
    return session


def _roles_on(user: User, entry: MediaEntry) -> frozenset[Role]:
    """Return the roles the user holds on the entry, as joining the room resolves them."""
    found = access.entry_for_user(user, entry.pk)
    return found.roles if found is not None else frozenset()


def _analyze() -> None:
    """On PostgreSQL, do what autovacuum would soon do, so plans don't change mid-run.

    SQLite is left as a deployment leaves it: Django never runs ANALYZE there.
    """
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        access.analyze()
