"""An oracle for the access rule: random worlds, every read path checked against a reference.

THE RULE (see /work/shared/ACCESS.md and PRODUCT.md §1, §2, §4), which `Reference` below
writes out in plain Python and nothing else:

* A user HOLDS A ROLE on an entry when they own it (the role OWNER, and nothing else), or
  a grant on the entry names them or a group they are in now AND HAS NOT ENDED (a grant
  may end at an instant: from that instant on it counts no more, whether or not the sweep
  has removed it yet). The moderator roles (room moderator, chat moderator) count only
  while the ChatandCollaboration module is on.
* A user SEES an entry when they hold any role on it, or its status is Unlisted or
  Published. Someone who cannot see an entry gets 404 on every URL of it; someone who
  sees it but lacks the permission for what they ask gets 403.
* Powers: host = owner or co-editor; edit = host; publish = owner or co-publisher;
  delete = owner; manage roles (the Roles & permissions tab, suggestions) = host.
  In a room session: run the room (open, start, end, lock, remove people) = host or room
  moderator; moderate the chat (pin, delete others' messages, block, clear) = host or
  chat moderator, and the chat itself needs the module on. A session power needs its
  role both when the user joined the session and now.

* Grants that end (access expiry, PRODUCT.md §5; mediaspace/access.py and services.py): a
  grant is made with an end (or none: it lasts) that is still ahead; setting or changing
  a role's end to a moment already past is refused ("ends_past"). Setting roles with KEEP
  keeps the end of each role held already (a new one lasts); adding a role never shortens
  it (its end becomes the later of the two, no end being the latest). Before any change,
  the roles whose end has come are removed, with an audit record of their own ("expired",
  no actor); the sweep does the same for every grant past an end.

HOW THE TEST WORKS. Each seed builds a small world through the public services (users,
groups, entries of every type and status, direct and group grants made with access_set,
access_add, collaborators_add, moderators_add and access_edit, many of them with an end,
members added after the grants and members removed, the module switched on or off and
sometimes flipped after the grants) and records it, as plain data, in a `Reference`. The
reference never reads anything back from the code under test except the entries'
timestamps (which the database sets), for the date sorts.

Time is django.utils.timezone.now(), which the tests set (`Clock`). The world is built at
t0; its grants end at minutes past it, some before MID, some at MID exactly, some between
MID and CHECK, some at CHECK exactly, some after. At MID, some grants are changed (some of
those whose end has come, and some with an end already past, to be refused); then the
clock moves to CHECK and the checks run, with some grants ended and not swept. In a third
of the seeds the sweep (services.grants_expire) runs at CHECK first. In a room's session
the clock may move on to LATE, past the end of a few more grants.

The checks then ask each read path what it answers and compare:

* `test_reads_follow_the_rule`: get_entry_for_user (roles and powers), My Media (every
  sort, role filter, type filter, searches, paging, and the page over HTTP), the Roles &
  permissions list and its role filter, the suggestions' scope and what each suggestion
  holds, the admin's grant overview, the status of each entry URL per user, and each
  room's standing; when the roles of each holder of the Roles tab end; the audit log (each
  change, and each "expired" record) and the read model.
* `test_room_actions_follow_the_rule`: in each room a session scenario over HTTP (start,
  open, join, post, pin, delete, lock, unlock, block, remove, clear, end), each answer
  predicted by `RoomModel` from the reference and the session's state.

Failures are collected per world and reported together: the seed, the world and one line
per disagreement (user, entry, what was asked, expected, got).
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from unittest.mock import patch

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from mediaspace import access, selectors, services
from mediaspace.access import current_rows, expected_rows, holders_of
from mediaspace.models import AccessChange, MediaEntry, Role
from mediaspace.permissions import get_entry_for_user, sorted_roles
from mediaspace.selectors import LIST_START
from rooms.selectors import standing_for_user
from tests.conftest import client_for
from tests.factories import GroupFactory, UserFactory

SEEDS = range(36)

Status = MediaEntry.Status
Type = MediaEntry.Type


# The reference ----------------------------------------------------------------------
# Plain data and functions over it: no queries and no code under test, only the names
# of the roles, types and statuses.

OWNER_ONLY = frozenset({Role.OWNER})
COLLABORATOR_ROLES = (Role.CO_EDITOR, Role.CO_PUBLISHER, Role.CO_VIEWER)
MODERATOR_ROLES = frozenset({Role.ROOM_MODERATOR, Role.CHAT_MODERATOR})
HOST_ROLES = frozenset({Role.OWNER, Role.CO_EDITOR})
# The roles that mean anything inside a room session.
SESSION_ROLES = HOST_ROLES | MODERATOR_ROLES
VISIBLE_TO_EVERYONE = frozenset({Status.UNLISTED, Status.PUBLISHED})
# My Media's role filter: a row is kept when the user holds one of these.
ROLE_FILTERS: dict[str, frozenset[Role]] = {
    "owner": OWNER_ONLY,
    "co-editor": frozenset({Role.CO_EDITOR}),
    "co-publisher": frozenset({Role.CO_PUBLISHER}),
    "co-viewer": frozenset({Role.CO_VIEWER}),
    "moderator": MODERATOR_ROLES,
}
SORTS = ("-updated", "updated", "-created", "created", "name", "-name")
# The Roles & permissions tab's permission filter.
ACCESS_ROLE_FILTERS: dict[str, frozenset[Role]] = {
    **{role: roles for role, roles in ROLE_FILTERS.items() if role != "owner"},
    "room-moderator": frozenset({Role.ROOM_MODERATOR}),
    "chat-moderator": frozenset({Role.CHAT_MODERATOR}),
}


def is_host(roles: frozenset[Role]) -> bool:
    return bool(roles & HOST_ROLES)


def can_edit(roles: frozenset[Role]) -> bool:
    return is_host(roles)


def can_publish(roles: frozenset[Role]) -> bool:
    return bool(roles & {Role.OWNER, Role.CO_PUBLISHER})


def can_delete(roles: frozenset[Role]) -> bool:
    return Role.OWNER in roles


def can_manage_roles(roles: frozenset[Role]) -> bool:
    return is_host(roles)


def can_run_room(roles: frozenset[Role]) -> bool:
    return is_host(roles) or Role.ROOM_MODERATOR in roles


def can_moderate_chat(roles: frozenset[Role]) -> bool:
    return is_host(roles) or Role.CHAT_MODERATOR in roles


# What a user or group is granted on an entry: each role with its end (None: it lasts).
Terms = dict[Role, datetime | None]
Key = tuple[int, str, int]  # (entry pk, "user" or "group", pk)
KEEP = "keep"  # an end that keeps each role's end as it is (services.KEEP)
# An audit record: key, reason, actor pk, and the terms before and after, each as sorted
# (role, end) pairs.
Record = tuple[Key, str, int | None, tuple, tuple]


def later(first: datetime | None, second: datetime | None) -> datetime | None:
    """The later of two ends; no end (None) is the latest."""
    return None if first is None or second is None else max(first, second)


def record(key: Key, reason: str, actor: int | None, before: Terms, after: Terms) -> Record:
    def pairs(terms: Terms) -> tuple:
        return tuple(sorted((str(role), end) for role, end in terms.items()))

    return (key, reason, actor, pairs(before), pairs(after))


@dataclass
class UserSpec:
    pk: int
    username: str
    display_name: str

    @property
    def sort_name(self) -> str:
        return (self.display_name or self.username).lower()


@dataclass
class GroupSpec:
    pk: int
    name: str


@dataclass
class EntrySpec:
    pk: int
    owner: int
    media_type: str
    status: str
    name: str
    description: str
    tags: str

    @property
    def is_room(self) -> bool:
        return self.media_type == Type.ROOM


@dataclass
class Reference:
    """A world as plain data, and the rule over it."""

    users: dict[int, UserSpec] = field(default_factory=dict)
    groups: dict[int, GroupSpec] = field(default_factory=dict)
    members: dict[int, set[int]] = field(default_factory=dict)  # group pk → user pks, now
    entries: dict[int, EntrySpec] = field(default_factory=dict)
    # (entry pk, "user" or "group", pk) → what is granted to that user or group itself,
    # ended roles too until a change or the sweep removes them.
    grants: dict[Key, Terms] = field(default_factory=dict)
    module_on: bool = False
    now: datetime | None = None  # the clock
    records: list[Record] = field(default_factory=list)  # the audit log, as it should be

    def live(self, key: Key) -> Terms:
        """What is granted to that user or group and has not ended."""
        terms = self.grants.get(key, {})
        return {role: end for role, end in terms.items() if end is None or end > self.now}

    def granted(self, entry: int, kind: str, pk: int) -> frozenset[Role]:
        return frozenset(self.live((entry, kind, pk)))

    def ends(self, entry: int, kind: str, pk: int) -> dict[Role, datetime]:
        """When the roles granted to that user or group that have not ended end, if they do."""
        live = self.live((entry, kind, pk))
        return {role: end for role, end in live.items() if end is not None}

    def roles(self, user: int, entry: int) -> frozenset[Role]:
        """The first sentence of the rule."""
        if self.entries[entry].owner == user:
            return OWNER_ONLY
        held = set(self.granted(entry, "user", user))
        for group, members in self.members.items():
            if user in members:
                held |= self.granted(entry, "group", group)
        if not self.module_on:
            held -= MODERATOR_ROLES
        return frozenset(held)

    def change(self, key: Key, target: Callable[[Terms], Terms], actor: int | None) -> bool:
        """Change a grant: first the roles whose end has come go (recorded as "expired",
        no actor), then `target` makes the new terms from what is left (recorded as a
        change when they differ). An end set or changed to a moment already past refuses
        the whole change: returns False and changes nothing."""
        held = self.grants.get(key, {})
        before = self.live(key)
        after = target(before)
        for role, end in after.items():
            if end is not None and end <= self.now and before.get(role) != end:
                return False
        if before != held:
            self.records.append(record(key, "expired", None, held, before))
        if after != before:
            self.records.append(record(key, "change", actor, before, after))
        self.grants[key] = after
        return True

    def grant(
        self,
        op: str,
        key: Key,
        roles: frozenset[Role],
        ends: datetime | str | None,
        *,
        scope: frozenset[Role] = frozenset(),
        actor: int | None = None,
    ) -> bool:
        """A service's change (`op`: set, add, collaborators, moderators or edit) of what
        the user or group of `key` is granted; False when refused."""

        def ending(before: Terms, chosen: frozenset[Role]) -> Terms:
            """`chosen`, ending at `ends`; with KEEP, each as it did (a new one lasts)."""
            return {role: before.get(role) if ends == KEEP else ends for role in chosen}

        def target(before: Terms) -> Terms:
            if op == "set":
                return ending(before, roles)
            if op == "edit":
                kept = {role: end for role, end in before.items() if role not in scope}
                return kept | ending(before, roles & scope)
            # Adding never removes a role nor brings its end nearer.
            return before | {
                role: later(before[role], ends) if role in before else ends for role in roles
            }

        return self.change(key, target, actor)

    def sweep(self) -> int:
        """The sweep: every user and group with a role whose end has come loses it."""
        due = [key for key, terms in sorted(self.grants.items()) if self.live(key) != terms]
        for key in due:
            self.change(key, lambda before: before, None)
        return len(due)

    def sees(self, user: int, entry: int) -> bool:
        """The second sentence of the rule."""
        return bool(self.roles(user, entry)) or self.entries[entry].status in VISIBLE_TO_EVERYONE

    def my_media(
        self,
        user: int,
        stamps: dict[int, tuple],
        *,
        search: str = "",
        media_type: str = "",
        role: str = "",
        sort: str = "-updated",
    ) -> list[tuple[int, frozenset[Role]]]:
        """My Media: the entries the user holds a role on that match, in order, with roles.

        `stamps` are each entry's (created_at, updated_at), which the database sets.
        """
        words = [word.lower() for word in search.split()]
        wanted = ROLE_FILTERS.get(role)
        found = []
        for entry in self.entries.values():
            roles = self.roles(user, entry.pk)
            texts = (entry.name.lower(), entry.description.lower(), entry.tags.lower())
            if (
                roles
                and (not media_type or entry.media_type == media_type)
                and (wanted is None or roles & wanted)
                and all(any(word in text for text in texts) for word in words)
            ):
                found.append(entry)
        keys = {
            "created": lambda entry: stamps[entry.pk][0],
            "updated": lambda entry: stamps[entry.pk][1],
            "name": lambda entry: entry.name.lower(),
        }
        key = keys[sort.lstrip("-")]
        found.sort(key=lambda entry: (key(entry), entry.pk), reverse=sort.startswith("-"))
        return [(entry.pk, self.roles(user, entry.pk)) for entry in found]

    def roles_tab(self, entry: int, role: str = "") -> list[tuple[str, int, frozenset[Role]]]:
        """The Roles & permissions list: who was granted what directly, groups first.

        No group expansion and no module mask; the owner holds no grant, so is not listed
        among them (the tab shows the owner in a row of their own).
        """
        wanted = ACCESS_ROLE_FILTERS.get(role)
        rows = []
        for kind, people, sort_name in (
            ("group", self.groups, lambda group: group.name.lower()),
            ("user", self.users, lambda user: user.sort_name),
        ):
            held = [
                (sort_name(principal), principal.pk, self.granted(entry, kind, principal.pk))
                for principal in people.values()
            ]
            for _, pk, roles in sorted((row for row in held if row[2]), key=lambda r: r[:2]):
                if wanted is None or roles & wanted:
                    rows.append((kind, pk, roles))
        return rows


# The clock --------------------------------------------------------------------------
# Moments are minutes past t0, when the world is built (at the real time, to the second).

MID, CHECK, LATE = 10 * 60, 20 * 60, 21 * 60
# Where ends fall, with their weights: before MID, at MID, between MID and CHECK, at CHECK,
# between CHECK and LATE (a room's session may reach it) and later. The exact marks are
# the boundaries: an end that has come is one at or before the clock.
END_SPANS = (
    (60, MID - 1, 15),
    (MID, MID, 7),
    (MID + 1, CHECK - 1, 15),
    (CHECK, CHECK, 10),
    (CHECK + 1, LATE, 8),
    (LATE + 1, 200 * 60, 10),
)
LASTING = 0.35  # the share of ends that are none: the grant lasts
REAL_NOW = timezone.now


class Clock:
    """django.utils.timezone.now during a test: the real time until `at` is set."""

    def __init__(self) -> None:
        self.at: datetime | None = None

    def __call__(self) -> datetime:
        return self.at or REAL_NOW()


@pytest.fixture
def clock():
    clock = Clock()
    with patch("django.utils.timezone.now", new=clock):
        yield clock


# Building a world -------------------------------------------------------------------
# Names are made of five-letter lowercase-able words, so that every name sorts the same
# way in Python, SQLite and PostgreSQL whatever the collation: spaces always fall at the
# same places, and case variants and repeats give ties for the id to break.

WORDS = ("alpha", "bravo", "delta", "gamma", "kappa", "lemon", "mango", "olive", "omega")
NON_ROOM_TYPES = (Type.VIDEO, Type.AUDIO, Type.IMAGE)


def module_model():
    """The ChatandCollaboration switch's model, wherever it lives."""
    try:
        from mediaspace.models import Module
    except ImportError:
        from rooms.models import Module
    return Module


def module_set(on: bool) -> None:
    Module = module_model()
    Module.objects.update_or_create(
        name=Module.Name.CHAT_AND_COLLABORATION, defaults={"enabled": on}
    )


def latest_message_id(entry_id: int, author_id: int) -> int | None:
    """The id of the author's latest chat message in the room (for the message URLs)."""
    from rooms.models import ChatMessage

    return (
        ChatMessage.objects.filter(session__room_id=entry_id, author_id=author_id)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )


def variant(rng: random.Random, word: str) -> str:
    return rng.choice((word, word, word.title(), word.upper()))


def phrase(rng: random.Random, words: int) -> str:
    return " ".join(variant(rng, rng.choice(WORDS)) for _ in range(words))


class World:
    """A world built through the services, its reference, and a readable summary."""

    def __init__(self, seed: int, clock: Clock) -> None:
        self.seed = seed
        self.rng = rng = random.Random(seed)
        self.ref = ref = Reference()
        self.clock = clock
        self.t0 = REAL_NOW().replace(microsecond=0)
        self.minute = 0  # the clock, in minutes past t0 (the real time while building)
        ref.now = self.t0
        self.users = {}
        self.groups = {}
        self.entries = {}
        self.clients = {}
        self.notes: list[str] = []
        self.problems: list[str] = []  # disagreements met while building or acting
        ref.module_on = rng.random() < 0.6
        module_set(ref.module_on)

        for number in range(rng.randint(5, 7)):
            display_name = "" if rng.random() < 0.25 else phrase(rng, rng.randint(1, 2))
            user = UserFactory(username=f"zuser{number}", display_name=display_name)
            self.users[user.pk] = user
            ref.users[user.pk] = UserSpec(user.pk, user.username, display_name)
        user_ids = list(self.users)

        names: list[str] = []
        for _ in range(rng.randint(2, 3)):
            name = phrase(rng, 2)
            if names and rng.random() < 0.4:  # a case variant of another: a tie
                name = rng.choice(names).swapcase()
            if name in names:
                name = f"{name} {rng.choice(WORDS)}"
            names.append(name)
            group = GroupFactory(name=name)
            self.groups[group.pk] = group
            ref.groups[group.pk] = GroupSpec(group.pk, name)
            ref.members[group.pk] = set()
        for group_id in self.groups:
            for user_id in user_ids:
                if rng.random() < 0.4:
                    self.membership(group_id, user_id, add=True, log=False)

        count = rng.randint(4, 6)
        types = [Type.ROOM, rng.choice(NON_ROOM_TYPES)]
        types += [rng.choice((*NON_ROOM_TYPES, Type.ROOM)) for _ in range(count - 2)]
        rng.shuffle(types)
        statuses = [Status.PRIVATE, Status.UNLISTED, Status.PUBLISHED]
        statuses += [rng.choice(Status.values) for _ in range(count - 3)]
        rng.shuffle(statuses)
        later_status: dict[int, str] = {}
        for media_type, status in zip(types, statuses, strict=True):
            name = phrase(rng, rng.randint(1, 2))
            if self.entries and rng.random() < 0.35:  # the same name, or a case variant
                earlier = rng.choice(list(ref.entries.values())).name
                name = rng.choice((earlier, earlier.swapcase()))
            description = phrase(rng, rng.randint(0, 3))
            tags = ", ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 3)))
            created_status = status
            if rng.random() < 0.3:  # its status is set after the grants
                created_status = rng.choice(Status.values)
            owner = rng.choice(user_ids)
            entry = services.media_create(
                owner=self.users[owner],
                name=name,
                media_type=media_type,
                description=description,
                tags=tags,
                status=created_status,
            )
            self.entries[entry.pk] = entry
            ref.entries[entry.pk] = EntrySpec(
                entry.pk, owner, media_type, created_status, name, description, tags
            )
            if created_status != status:
                later_status[entry.pk] = status

        # Grants, interleaved across entries, some made twice (the second one builds on
        # the first), through each service, many with an end.
        calls = []
        for entry in ref.entries.values():
            roles = self.grantable(entry.pk)
            principals = self.principals(entry.pk)
            for kind, pk in principals:
                for _ in range(2 if rng.random() < 0.2 else 1):
                    if rng.random() < 0.4:
                        chosen = [role for role in roles if rng.random() < 0.4]
                        calls.append((entry.pk, kind, pk, chosen))
            # And someone with just one role, so that each role is seen on its own.
            calls.append((entry.pk, *rng.choice(principals), [rng.choice(roles)]))
        rng.shuffle(calls)
        for entry_id, kind, pk, chosen in calls:
            self.grant_some(entry_id, kind, pk, frozenset(chosen))
        # And in each room someone made a moderator until before the reads, or until during
        # the session, so that a moderator whose grant ended is seen trying to moderate.
        for entry in ref.entries.values():
            if entry.is_room:
                pk = rng.choice([pk for kind, pk in self.principals(entry.pk) if kind == "user"])
                minute = rng.choice((rng.randint(MID + 1, CHECK), rng.randint(CHECK + 1, LATE)))
                role = frozenset({rng.choice(sorted(MODERATOR_ROLES))})
                op = "moderators" if ref.module_on else "add"
                self.grant(op, entry.pk, "user", pk, role, self.t0 + timedelta(minutes=minute))

        # After the grants: members join and leave groups, statuses change, entries are
        # renamed (over HTTP, by their owners), the module may be flipped.
        for _ in range(rng.randint(1, 4)):
            group_id, user_id = rng.choice(list(self.groups)), rng.choice(user_ids)
            self.membership(group_id, user_id, add=user_id not in ref.members[group_id])
        for entry_id, status in later_status.items():
            services.media_status_set(
                actor=self.users[ref.entries[entry_id].owner],
                entry=self.entries[entry_id],
                status=status,
            )
            ref.entries[entry_id].status = status
            self.notes.append(f"status of #{entry_id} set to {status} after the grants")
        for entry in ref.entries.values():
            if rng.random() < 0.2:
                self.rename(entry)
        if rng.random() < 0.3:
            ref.module_on = not ref.module_on
            module_set(ref.module_on)
            self.notes.append(f"module switched {'on' if ref.module_on else 'off'} after grants")

        # Later, when some grants have ended: changes of grants, some on those. (The
        # services write the entry's sort keys as the instance they are given says: read
        # the entries anew after the renames, as a view would.)
        for entry in self.entries.values():
            entry.refresh_from_db()
        self.clock_to(MID)
        self.changes_later()
        # Later still, the reads; in a third of the worlds the sweep has run just before.
        self.clock_to(CHECK)
        self.swept = seed % 3 == 0
        if self.swept:
            expected, got = ref.sweep(), services.grants_expire()
            self.notes.append(f"at {self.when(ref.now)}: the sweep, {got} lost roles")
            if got != expected:
                self.problems.append(
                    f"seed {seed}: grants_expire() answered {got}, expected {expected}"
                )

    # Time and grants ------------------------------------------------------------------

    def clock_to(self, minute: int) -> None:
        """Move the clock, the product's and the reference's, to `minute` past t0."""
        self.minute = minute
        self.clock.at = self.ref.now = self.t0 + timedelta(minutes=minute)

    def when(self, moment: datetime) -> str:
        minutes = int((moment - self.t0).total_seconds()) // 60
        return f"t0+{minutes // 60}h{minutes % 60:02d}"

    def an_end(self, after: int = 0) -> datetime | None:
        """A random end after `after` minutes past t0, or None (the grant lasts)."""
        if self.rng.random() < LASTING:
            return None
        spans = [span for span in END_SPANS if span[0] > after]
        low, high, _ = self.rng.choices(spans, weights=[span[2] for span in spans])[0]
        return self.t0 + timedelta(minutes=self.rng.randint(low, high))

    def ends_text(self, ends: datetime | str | None) -> str:
        if ends == KEEP:
            return "keeping ends"
        return "lasting" if ends is None else f"until {self.when(ends)}"

    def terms_text(self, terms: Terms) -> str:
        parts = []
        for role, end in sorted(terms.items()):
            if end is None:
                parts.append(str(role))
            else:
                ended = " (ended)" if end <= self.ref.now else ""
                parts.append(f"{role} until {self.when(end)}{ended}")
        return ", ".join(parts)

    def grantable(self, entry_id: int) -> list[Role]:
        rooms = self.ref.entries[entry_id].is_room
        return list(COLLABORATOR_ROLES) + (sorted(MODERATOR_ROLES) if rooms else [])

    def principals(self, entry_id: int) -> list[tuple[str, int]]:
        owner = self.ref.entries[entry_id].owner
        found = [("user", pk) for pk in self.users if pk != owner]
        return found + [("group", pk) for pk in self.groups]

    def name(self, kind: str, pk: int) -> str:
        return self.who(pk) if kind == "user" else repr(self.ref.groups[pk].name)

    def grant_some(self, entry_id: int, kind: str, pk: int, roles: frozenset[Role]) -> None:
        """Grant `roles` as the world is built, through one of the services, with an end
        or none."""
        rng = self.rng
        path = rng.random()
        if not roles or path < 0.45:
            ends = KEEP if rng.random() < 0.3 else self.an_end()
            self.grant("set", entry_id, kind, pk, roles, ends)
        elif path < 0.8:
            op = "add"
            if roles <= set(COLLABORATOR_ROLES) and rng.random() < 0.5:
                op = "collaborators"
            elif roles <= MODERATOR_ROLES and self.ref.module_on and rng.random() < 0.7:
                op = "moderators"
            self.grant(op, entry_id, kind, pk, roles, self.an_end())
        else:
            ends = KEEP if rng.random() < 0.6 else self.an_end()
            self.grant("edit", entry_id, kind, pk, roles, ends, scope=self.a_scope(entry_id))

    def a_scope(self, entry_id: int) -> frozenset[Role]:
        """What an actor of access_edit may manage: collaborators, moderators, or both."""
        roles = self.grantable(entry_id)
        return self.rng.choice((frozenset(COLLABORATOR_ROLES), MODERATOR_ROLES, frozenset(roles)))

    def changes_later(self) -> None:
        """Changes of grants at the clock's time: some on grants with a role whose end has
        come (removed first, recorded as expired), some adding roles held already, some
        trying an end already past (refused)."""
        rng, ref = self.rng, self.ref
        granted = [key for key, terms in sorted(ref.grants.items()) if terms]
        ended = [key for key in granted if ref.live(key) != ref.grants[key]]
        for _ in range(rng.randint(4, 8)):
            pool = ended if ended and rng.random() < 0.5 else granted
            if pool and rng.random() < 0.85:
                entry_id, kind, pk = rng.choice(pool)
            else:
                entry_id = rng.choice(list(ref.entries))
                kind, pk = rng.choice(self.principals(entry_id))
            options = self.grantable(entry_id)
            roles = {role for role in options if rng.random() < 0.4}
            held = sorted(ref.grants.get((entry_id, kind, pk), {}))
            if held and rng.random() < 0.5:
                roles.add(rng.choice(held))
            op = rng.choice(("set", "add", "edit"))
            if op == "add" and not roles:
                roles.add(rng.choice(options))
            if rng.random() < 0.2:  # an end already past (the clock's own moment, too)
                ends = self.t0 + timedelta(minutes=rng.randint(60, self.minute))
            elif op != "add" and rng.random() < 0.35:
                ends = KEEP
            else:
                ends = self.an_end(after=self.minute)
            scope = self.a_scope(entry_id) if op == "edit" else frozenset()
            self.grant(op, entry_id, kind, pk, frozenset(roles), ends, scope=scope, note=True)

    def grant(
        self,
        op: str,
        entry_id: int,
        kind: str,
        pk: int,
        roles: frozenset[Role],
        ends: datetime | str | None,
        *,
        scope: frozenset[Role] = frozenset(),
        note: bool = False,
    ) -> None:
        """One change of grants, through the service `op` names and in the reference (the
        owner acts, or nobody for access_set); it is refused where the reference says."""
        owner = self.ref.entries[entry_id].owner
        actor = None if op == "set" else owner
        key = (entry_id, kind, pk)
        done = self.ref.grant(op, key, roles, ends, scope=scope, actor=actor)
        entry = self.entries[entry_id]
        principal = self.users[pk] if kind == "user" else self.groups[pk]
        keep = services.KEEP if ends == KEEP else ends
        acting = {"actor": None if actor is None else self.users[actor], "entry": entry}
        try:
            with transaction.atomic():
                if op == "set":
                    services.access_set(**acting, principal=principal, roles=roles, ends=keep)
                elif op == "add":
                    services.access_add(**acting, principal=principal, roles=roles, ends=ends)
                elif op == "edit":
                    services.access_edit(
                        **acting, principal=principal, roles=roles, scope=scope, ends=keep
                    )
                else:
                    adding = (
                        services.collaborators_add
                        if op == "collaborators"
                        else services.moderators_add
                    )
                    adding(**acting, principals=[principal], roles=roles, ends=ends)
        except ValidationError as error:
            got = error.code or "refused"
        else:
            got = "done"
        expected = "done" if done else "ends_past"
        what = (
            f"{op} {roles_text(roles)}{f' within {roles_text(scope)}' if op == 'edit' else ''}"
            f" {self.ends_text(ends)} for {kind} {self.name(kind, pk)} on #{entry_id}"
            f" at {self.when(self.ref.now)}"
        )
        if note:
            self.notes.append(what + ("" if done else " (refused: that end has passed)"))
        if got != expected:
            self.problems.append(f"seed {self.seed}: {what}: {got}, expected {expected}")

    def membership(self, group_id: int, user_id: int, *, add: bool, log: bool = True) -> None:
        group = self.groups[group_id]
        if add:
            group.user_set.add(self.users[user_id])
            self.ref.members[group_id].add(user_id)
        else:
            group.user_set.remove(self.users[user_id])
            self.ref.members[group_id].discard(user_id)
        if log:
            verb = "added to" if add else "removed from"
            self.notes.append(f"{self.users[user_id].username} {verb} {group.name!r} later")

    def rename(self, entry: EntrySpec) -> None:
        name = phrase(self.rng, self.rng.randint(1, 2))
        response = self.client(entry.owner).post(
            reverse("media_edit", args=[entry.pk]),
            {"name": name, "description": entry.description, "tags": entry.tags},
        )
        assert response.status_code == 302, f"seed {self.seed}: renaming #{entry.pk} failed"
        self.notes.append(f"#{entry.pk} renamed from {entry.name!r} to {name!r}")
        entry.name = name

    def client(self, user_id: int):
        if user_id not in self.clients:
            self.clients[user_id] = client_for(self.users[user_id])
        return self.clients[user_id]

    def stamps(self) -> dict[int, tuple]:
        rows = MediaEntry.objects.filter(pk__in=self.entries).values_list(
            "pk", "created_at", "updated_at"
        )
        return {pk: (created, updated) for pk, created, updated in rows}

    def who(self, user_id: int) -> str:
        return self.ref.users[user_id].username

    def what(self, entry_id: int) -> str:
        entry = self.ref.entries[entry_id]
        return f"{entry.media_type} #{entry.pk} {entry.name!r} ({entry.status})"

    def summary(self) -> str:
        ref = self.ref
        mid, check = (self.when(self.t0 + timedelta(minutes=at)) for at in (MID, CHECK))
        lines = [
            f"seed {self.seed}; module {'on' if ref.module_on else 'off'}; built at"
            f" t0 = {self.t0:%Y-%m-%d %H:%M:%S}, grants changed at {mid}, read at {check}"
            f" ({'after' if self.swept else 'without'} the sweep), clock now"
            f" {self.when(ref.now)}"
        ]
        for user in ref.users.values():
            lines.append(f"  user #{user.pk} {user.username} {user.display_name!r}")
        for group in ref.groups.values():
            members = ", ".join(sorted(self.who(pk) for pk in ref.members[group.pk]))
            lines.append(f"  group #{group.pk} {group.name!r}: {members or '(nobody)'}")
        for entry in ref.entries.values():
            lines.append(f"  {self.what(entry.pk)} owned by {self.who(entry.owner)}")
            for (entry_id, kind, pk), terms in sorted(ref.grants.items()):
                if entry_id == entry.pk and terms:
                    lines.append(f"    {kind} {self.name(kind, pk)}: {self.terms_text(terms)}")
        lines += [f"  then: {note}" for note in self.notes]
        return "\n".join(lines)


def report(world: World, problems: list[str]) -> str:
    shown = problems[:60]
    more = f"\n... and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
    return (
        f"{len(problems)} disagreement(s) with the rule, seed {world.seed}:\n"
        + "\n".join(shown)
        + more
        + "\nThe world:\n"
        + world.summary()
    )


def roles_text(roles) -> str:
    return "{" + ", ".join(sorted(str(role) for role in roles)) + "}"


# Reads ------------------------------------------------------------------------------


def check_entry_access(world: World, problems: list[str]) -> None:
    """get_entry_for_user, each room's standing, and the status of each entry URL."""
    ref = world.ref
    for user_id, user in world.users.items():
        client = world.client(user_id)
        for entry_id in world.entries:
            roles, sees = ref.roles(user_id, entry_id), ref.sees(user_id, entry_id)
            where = f"seed {world.seed}: {world.who(user_id)} on {world.what(entry_id)}"
            try:
                access = get_entry_for_user(user, entry_id)
            except Http404:
                access = None
            if access is None:
                if sees:
                    problems.append(
                        f"{where}: get_entry_for_user 404, expected {roles_text(roles)}"
                    )
            elif not sees:
                problems.append(f"{where}: get_entry_for_user gave {access.roles}, expected 404")
            else:
                if access.roles != roles:
                    problems.append(
                        f"{where}: get_entry_for_user roles {roles_text(access.roles)},"
                        f" expected {roles_text(roles)}"
                    )
                for power, expected in (
                    ("can_edit", can_edit(roles)),
                    ("can_publish", can_publish(roles)),
                    ("can_delete", can_delete(roles)),
                    ("can_manage_roles", can_manage_roles(roles)),
                ):
                    if getattr(access, power) != expected:
                        problems.append(f"{where}: Access.{power} is not {expected}")

            if ref.entries[entry_id].is_room:
                try:
                    standing = standing_for_user(user, entry_id)
                except Http404:
                    standing = None
                if standing is None and sees:
                    problems.append(f"{where}: standing_for_user 404, expected {roles_text(roles)}")
                elif standing is not None and not sees:
                    problems.append(f"{where}: standing_for_user answered, expected 404")
                elif standing is not None and standing.roles != roles:
                    problems.append(
                        f"{where}: standing_for_user roles {roles_text(standing.roles)},"
                        f" expected {roles_text(roles)}"
                    )

            # The Roles tab and the suggestions follow the same power: one of them a pair.
            managing = world.rng.choice((("media_roles", ""), ("principals_suggest", "?q=ab")))
            for name, suffix, allowed in (
                ("media_detail", "", True),
                ("media_edit", "", can_edit(roles)),
                (*managing, can_manage_roles(roles)),
            ):
                expected = 404 if not sees else 200 if allowed else 403
                got = client.get(reverse(name, args=[entry_id]) + suffix).status_code
                if got != expected:
                    problems.append(f"{where}: GET {name} answered {got}, expected {expected}")


def my_media_rows(page) -> list[tuple[int, frozenset[Role]]]:
    return [(row.entry.pk, frozenset(row.access.roles)) for row in page.rows]


def check_my_media(world: World, problems: list[str]) -> None:
    """My Media's selector in every order and filter, its paging, and the page itself."""
    ref, rng = world.ref, world.rng
    stamps = world.stamps()
    for user_id, user in world.users.items():
        queries = [{"sort": sort} for sort in SORTS]
        queries += [{"role": role, "sort": rng.choice(SORTS)} for role in ROLE_FILTERS]
        queries += [{"media_type": kind, "sort": rng.choice(SORTS)} for kind in Type.values]
        for _ in range(3):
            queries.append({"search": search_words(world), "sort": rng.choice(SORTS)})
        queries.append(
            {
                "search": search_words(world),
                "role": rng.choice(list(ROLE_FILTERS)),
                "media_type": rng.choice(Type.values),
                "sort": rng.choice(SORTS),
            }
        )
        for query in queries:
            where = f"seed {world.seed}: {world.who(user_id)}'s My Media {query}"
            expected = ref.my_media(user_id, stamps, **query)
            page = selectors.my_media_page(user, **query, start=0, stop=1000)
            got = my_media_rows(page)
            if got != expected:
                problems.append(
                    f"{where}: got {describe(world, got)}, expected {describe(world, expected)}"
                )
                continue
            if page.has_more or page.total != len(expected):
                problems.append(
                    f"{where}: total {page.total} has_more {page.has_more}, expected"
                    f" {len(expected)} and False"
                )
        # Paging: windows of a few rows put together give the whole list.
        for query in rng.sample(queries, 3):
            expected = ref.my_media(user_id, stamps, **query)
            size, start, pages = rng.randint(1, 3), 0, []
            filtered = any(query.get(key) for key in ("search", "media_type", "role"))
            while start < len(expected) or start == 0:
                page = selectors.my_media_page(user, **query, start=start, stop=start + size)
                pages += my_media_rows(page)
                more = start + size < len(expected)
                total_ok = page.total == len(expected) or (
                    page.total is None and filtered and (more or start > 0)
                )
                if page.has_more != more or not total_ok:
                    problems.append(
                        f"seed {world.seed}: {world.who(user_id)}'s My Media {query} rows"
                        f" {start}..{start + size}: total {page.total} has_more {page.has_more},"
                        f" expected {len(expected)} and {more}"
                    )
                start += size
            if pages != expected:
                problems.append(
                    f"seed {world.seed}: {world.who(user_id)}'s My Media {query} by pages of"
                    f" {size}: {describe(world, pages)}, expected {describe(world, expected)}"
                )
        # Over HTTP: the page names each listed entry and links to no other.
        html = world.client(user_id).get(reverse("my_media")).content.decode()
        listed = {pk for pk, _ in ref.my_media(user_id, stamps)}
        for entry_id, entry in ref.entries.items():
            url = reverse("media_detail", args=[entry_id])
            if entry_id in listed and (entry.name not in html or url not in html):
                problems.append(
                    f"seed {world.seed}: {world.who(user_id)}'s My Media page lacks"
                    f" {world.what(entry_id)}"
                )
            elif entry_id not in listed and url in html:
                problems.append(
                    f"seed {world.seed}: {world.who(user_id)}'s My Media page links to"
                    f" {world.what(entry_id)}, which it should not list"
                )


def search_words(world: World) -> str:
    """One or two words to search for: whole words, parts of words, any case; or nothing."""
    rng = world.rng
    entry = rng.choice(list(world.ref.entries.values()))
    words = f"{entry.name} {entry.description} {entry.tags.replace(',', ' ')}".split()
    chosen = []
    for _ in range(rng.randint(1, 2)):
        word = rng.choice([*words, "zzz"]) if rng.random() < 0.9 else "mango"
        if rng.random() < 0.3:
            word = word[1:4]
        chosen.append(rng.choice((word.lower(), word.upper(), word.title())))
    return "  ".join(chosen)


def describe(world: World, rows) -> str:
    return "[" + ", ".join(f"#{pk}{roles_text(roles)}" for pk, roles in rows) + "]"


def check_roles_tab(world: World, problems: list[str]) -> None:
    """The Roles & permissions list of each entry, unfiltered and by each role."""
    ref = world.ref
    for entry_id, entry in world.entries.items():
        everyone = ref.roles_tab(entry_id)
        for role in ("", *ACCESS_ROLE_FILTERS):
            expected = ref.roles_tab(entry_id, role)
            page = selectors.access_page(
                entry, selectors.AccessListState(search="", role=role), size=1000
            )
            got = [(row.kind, row.pk, frozenset(row.roles)) for row in page.rows]
            users = sum(1 for kind, _, _ in expected if kind == "user")
            counts = (page.users, page.groups, page.with_access, page.owner_listed)
            expected_counts = (users, len(expected) - users, len(everyone) + 1, not role)
            if got != expected or counts != expected_counts:
                problems.append(
                    f"seed {world.seed}: Roles tab of {world.what(entry_id)} role={role!r}:"
                    f" got {got} (users, groups, with access, owner listed: {counts}),"
                    f" expected {expected} ({expected_counts})"
                )
        # Each holder's roles with when those that end end.
        holders, _ = access.holders_page(entry, after=LIST_START, limit=1000)
        got = [(holder.kind, holder.pk, holder_terms(holder)) for holder in holders]
        expected = [
            (kind, pk, {role: ref.ends(entry_id, kind, pk).get(role) for role in roles})
            for kind, pk, roles in everyone
        ]
        if got != expected:
            problems.append(
                f"seed {world.seed}: holders of {world.what(entry_id)} with their ends:"
                f" got {terms_rows(world, got)}, expected {terms_rows(world, expected)}"
            )


def holder_terms(holder: access.Holder) -> Terms:
    """A Holder's roles, each with its end (None: it lasts); ends of roles not among its
    roles are kept apart, to show."""
    terms: dict = {role: holder.ends.get(role) for role in holder.roles}
    terms |= {f"not held: {role}": end for role, end in holder.ends.items() if role not in terms}
    return terms


def terms_rows(world: World, rows) -> str:
    return "; ".join(
        f"{kind} {world.name(kind, pk)}: {world.terms_text(terms)}" for kind, pk, terms in rows
    )


def check_suggestions(world: World, problems: list[str]) -> None:
    """The Select users combobox's scope: the owner first, as not to be chosen, then
    everyone else active, and the groups with a word of their name starting with the word,
    each with what it is granted on the entry itself."""
    ref = world.ref
    for entry_id, entry in world.entries.items():
        owner = ref.entries[entry_id].owner
        expected = [("user", owner, OWNER_ONLY, True)] + [
            ("user", pk, ref.granted(entry_id, "user", pk), False)
            for pk in sorted(ref.users, key=lambda pk: ref.users[pk].username)
            if pk != owner
        ]
        found = selectors.principals_suggest(entry, "ZUser", limit=50)
        got = [(row.kind, row.pk, frozenset(row.holds), bool(row.unavailable)) for row in found]
        if got != expected:
            problems.append(
                f"seed {world.seed}: suggestions for 'ZUser' on {world.what(entry_id)}:"
                f" got {got}, expected {expected}"
            )
        word = world.rng.choice(world.rng.choice(list(ref.groups.values())).name.split())[:3]
        expected = [
            ("group", group.pk, len(ref.members[group.pk]), grants)
            for group in sorted(
                ref.groups.values(), key=lambda group: (group.name.lower(), group.pk)
            )
            if any(part.startswith(word.lower()) for part in group.name.lower().split())
            for grants in [ref.granted(entry_id, "group", group.pk)]
        ]
        found = selectors.principals_suggest(entry, word.upper(), limit=50)
        got = [
            (row.kind, row.pk, int(row.detail.split()[2]), frozenset(row.holds))
            for row in found
            if row.kind == "group"
        ]
        if got != expected:
            problems.append(
                f"seed {world.seed}: group suggestions for {word!r} on {world.what(entry_id)}:"
                f" got {got}, expected {expected}"
            )


def check_admin_overview(world: World, problems: list[str]) -> None:
    """The admin's object-permission overview: every grant that has not ended."""
    ref = world.ref
    for entry_id, entry in world.entries.items():
        expected = {}
        for at, kind, pk in ref.grants:
            if at == entry_id and ref.granted(at, kind, pk):
                expected[kind, pk] = ref.granted(at, kind, pk)
        got = {key: frozenset(roles) for key, roles in holders_of(entry, Role).items()}
        if got != expected:
            problems.append(
                f"seed {world.seed}: admin overview of {world.what(entry_id)}:"
                f" got {got}, expected {expected}"
            )


def check_read_model(world: World, problems: list[str]) -> None:
    """EntryAccess, as the services left it, is what guardian's rows, the terms and the
    owners say; each row's end is the earliest of the reference's (ended ones too, until
    they are removed)."""
    current, expected = current_rows(), expected_rows()
    for key in sorted(current.keys() | expected.keys()):
        if current.get(key) != expected.get(key):
            problems.append(
                f"seed {world.seed}: EntryAccess {key}: {current.get(key)}, expected"
                f" {expected.get(key)}"
            )
    if world.swept and access.differences():
        problems.append(f"seed {world.seed}: access.differences() after the sweep is not 0")
    for key, terms in sorted(world.ref.grants.items()):
        row = current.get(key)
        earliest = min((end for end in terms.values() if end is not None), default=None)
        if (row is None) != (not terms) or (row is not None and row[5] != earliest):
            problems.append(
                f"seed {world.seed}: EntryAccess {key}: {row}, expected"
                f" {'a row ending at ' + str(earliest) if terms else 'none'}"
            )


def check_audit(world: World, problems: list[str]) -> None:
    """The audit log: a record for each change of grants, by its actor, and an "expired"
    one, with no actor, for each user or group whose ended roles a change or the sweep
    removed; each with the roles and their ends before and after."""
    rows = AccessChange.objects.filter(entry_id__in=list(world.entries)).values_list(
        "entry_id",
        "user_id",
        "group_id",
        "reason",
        "actor_id",
        "before",
        "after",
        "before_ends",
        "after_ends",
    )

    def pairs(roles: list[str], ends: dict[str, str]) -> tuple:
        terms = dict.fromkeys(roles) | {
            role: datetime.fromisoformat(end) for role, end in ends.items()
        }
        return tuple(sorted(terms.items()))

    got: Counter[Record] = Counter()
    for entry_id, user_id, group_id, reason, actor_id, *before_after in rows:
        before, after, before_ends, after_ends = before_after
        key = (entry_id, "group" if group_id else "user", group_id or user_id)
        got[key, reason, actor_id, pairs(before, before_ends), pairs(after, after_ends)] += 1
    expected = Counter(world.ref.records)
    for which, records in (("missing", expected - got), ("unexpected", got - expected)):
        for logged in records:
            problems.append(f"seed {world.seed}: {which} audit record {record_text(world, logged)}")


def record_text(world: World, logged: Record) -> str:
    (entry_id, kind, pk), reason, actor, before, after = logged
    by = "nobody" if actor is None else world.who(actor)
    return (
        f"{reason} by {by} for {kind} {world.name(kind, pk)} on #{entry_id}:"
        f" {{{world.terms_text(dict(before))}}} -> {{{world.terms_text(dict(after))}}}"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("seed", SEEDS)
def test_reads_follow_the_rule(seed, clock):
    world = World(seed, clock)
    problems = world.problems
    check_entry_access(world, problems)
    check_my_media(world, problems)
    check_roles_tab(world, problems)
    check_suggestions(world, problems)
    check_admin_overview(world, problems)
    check_read_model(world, problems)
    check_audit(world, problems)
    assert not problems, report(world, problems)


# Room actions -----------------------------------------------------------------------
# Expected answers: "ok" (a 302 back to the room), "404", "403" (not allowed), "409" (the
# state forbids it), or "refused" (403 or 409; for a chat post also 200, the page again
# with the reason).

ANSWERS = {"ok": {302}, "404": {404}, "403": {403}, "409": {409}, "refused": {403, 409}}


@dataclass
class Message:
    pk: int
    author: int
    visible: bool = True


class RoomModel:
    """One room's session as the rule predicts it, driven over HTTP and compared."""

    def __init__(self, world: World, entry_id: int, problems: list[str]) -> None:
        self.world, self.ref, self.entry_id, self.problems = world, world.ref, entry_id, problems
        self.new_session(None)

    def new_session(self, state: str | None) -> None:
        self.session = state  # None (none yet), "open", "live" or "ended"
        self.locked = False
        self.joined_roles: dict[int, frozenset[Role]] = {}  # everyone with a row, as joined
        self.participant_ids: dict[int, int] = {}
        self.present: set[int] = set()
        self.removed: set[int] = set()
        self.blocked: set[int] = set()
        self.messages: list[Message] = []

    # What the rule says -------------------------------------------------------------

    def sees(self, user: int) -> bool:
        return self.ref.sees(user, self.entry_id)

    def now(self, user: int) -> frozenset[Role]:
        """The session roles the user holds now."""
        return self.ref.roles(user, self.entry_id) & SESSION_ROLES

    def acting(self, user: int) -> frozenset[Role]:
        """What the user acts with: roles held both when they joined and now."""
        return self.joined_roles.get(user, frozenset()) & self.now(user)

    @property
    def in_progress(self) -> bool:
        return self.session in ("open", "live")

    def expect_join(self, user: int) -> str:
        if not self.sees(user):
            return "404"
        if self.in_progress and user in self.removed:
            return "403"
        if can_run_room(self.now(user)):
            return "ok"  # hosts and room moderators can always join
        if self.session != "live":
            return "409"
        if self.locked and user not in self.joined_roles:
            return "409"
        return "ok"

    def expect_run(self, user: int) -> str:
        """For lock, unlock and end: run the room, in the session."""
        if not self.sees(user):
            return "404"
        if not self.in_progress:
            return "409"
        if user not in self.present or not can_run_room(self.acting(user)):
            return "403"
        return "ok"

    def expect_start(self, user: int, *, only_open: bool = False) -> str:
        if not self.sees(user):
            return "404"
        if not can_run_room(self.now(user)):
            return "403"
        if user not in self.present:
            return "403" if self.in_progress and user in self.removed else "ok"
        return "ok" if only_open or can_run_room(self.acting(user)) else "403"

    def expect_moderation(self, user: int, *, chat: bool) -> str | None:
        """The refusal of a moderation action for the actor's sake, or None."""
        if not self.sees(user):
            return "404"
        if user not in self.present:
            return "403"
        if chat and not self.ref.module_on:
            return "403"
        allowed = can_moderate_chat if chat else can_run_room
        return None if allowed(self.acting(user)) else "403"

    def target_is_host(self, user: int) -> bool:
        return is_host(self.acting(user))

    # Driving it -----------------------------------------------------------------------

    def post(self, user: int, name: str, *args: int, data=None) -> int:
        url = reverse(name, args=[self.entry_id, *args])
        return self.world.client(user).post(url, data or {}).status_code

    def compare(self, user: int, what: str, expected: str, got: int, *, chat_post=False) -> None:
        allowed = ANSWERS[expected] | ({200} if chat_post and expected == "refused" else set())
        if got not in allowed:
            place = "removed" if user in self.removed else "absent"
            if user in self.present:
                place = f"in it as {roles_text(self.joined_roles[user])}"
            self.problems.append(
                f"seed {self.world.seed}: {self.world.who(user)}"
                f" {roles_text(self.ref.roles(user, self.entry_id))}"
                f" POST {what} in {self.world.what(self.entry_id)} [session {self.session},"
                f" {'locked, ' if self.locked else ''}user {place},"
                f" module {'on' if self.ref.module_on else 'off'}]: got {got}, expected {expected}"
            )

    def joined(self, user: int) -> None:
        """The user's join succeeded (a new session when none is in progress)."""
        if not self.in_progress:
            self.new_session("open")
        self.joined_roles[user] = self.now(user)
        self.present.add(user)
        if user not in self.participant_ids:
            try:
                found = standing_for_user(self.world.users[user], self.entry_id)
            except Http404:
                self.problems.append(
                    f"seed {self.world.seed}: {self.world.who(user)} joined"
                    f" {self.world.what(self.entry_id)} but standing_for_user answers 404"
                )
                return
            self.participant_ids[user] = found.participant_id

    def join(self, user: int) -> None:
        expected = self.expect_join(user)
        got = self.post(user, "participant_join")
        self.compare(user, "participant_join", expected, got)
        if got == 302:
            self.joined(user)

    def open(self, user: int) -> None:
        expected = self.expect_start(user, only_open=True)
        got = self.post(user, "session_open")
        self.compare(user, "session_open", expected, got)
        if got == 302:
            self.joined(user)

    def start(self, user: int) -> None:
        expected = self.expect_start(user)
        got = self.post(user, "session_start")
        self.compare(user, "session_start", expected, got)
        if got == 302:
            if user not in self.present:
                self.joined(user)
            self.session = "live"

    def lock(self, user: int, locked: bool) -> None:
        name = "session_lock" if locked else "session_unlock"
        expected = self.expect_run(user)
        got = self.post(user, name)
        self.compare(user, name, expected, got)
        if got == 302:
            self.locked = locked

    def end(self, user: int) -> None:
        expected = self.expect_run(user)
        got = self.post(user, "session_end")
        self.compare(user, "session_end", expected, got)
        if got == 302:
            self.session = "ended"
            self.present = set()

    def chat(self, user: int) -> None:
        if not self.sees(user):
            expected = "404"
        elif (
            self.ref.module_on
            and self.session == "live"
            and user in self.present
            and user not in self.blocked
        ):
            expected = "ok"
        else:
            expected = "refused"
        body = f"hello from {self.world.who(user)}"
        got = self.post(user, "message_post", data={"body": body})
        self.compare(user, "message_post", expected, got, chat_post=True)
        if got == 302:
            pk = latest_message_id(self.entry_id, user)
            self.messages.append(Message(pk=pk, author=user))

    def others_message(self, user: int) -> Message | None:
        choices = [m for m in self.messages if m.author != user and m.visible]
        return self.world.rng.choice(choices) if choices else None

    def pin(self, user: int, message: Message) -> None:
        expected = self.expect_moderation(user, chat=True)
        if expected is None:
            expected = "ok" if message.visible else "409"
        got = self.post(user, "message_pin", message.pk)
        self.compare(user, f"message_pin of {self.world.who(message.author)}'s", expected, got)

    def delete(self, user: int, message: Message) -> None:
        if message.author == user:
            if not self.sees(user):
                expected = "404"
            elif not self.ref.module_on:
                expected = "403"
            elif self.session != "live":
                expected = "409"
            else:
                expected = "ok" if user in self.present else "403"
        else:
            expected = self.expect_moderation(user, chat=True)
            if expected is None:
                protected = (
                    message.visible
                    and not is_host(self.acting(user))
                    and self.target_is_host(message.author)
                )
                expected = "403" if protected else "ok"
        got = self.post(user, "message_delete", message.pk)
        self.compare(user, f"message_delete of {self.world.who(message.author)}'s", expected, got)
        if got == 302:
            message.visible = False

    def manage(self, user: int, target: int, action: str) -> None:
        """Block (chat moderation) or remove (running the room) a participant."""
        expected = self.expect_moderation(user, chat=action == "participant_block")
        if expected is None:
            protected = self.target_is_host(target)
            expected = "409" if target == user else "403" if protected else "ok"
        got = self.post(user, action, self.participant_ids[target])
        self.compare(user, f"{action} of {self.world.who(target)}", expected, got)
        if got == 302 and action == "participant_block":
            self.blocked.add(target)
        elif got == 302:
            self.removed.add(target)
            self.present.discard(target)

    def clear(self, user: int) -> None:
        if not self.sees(user):
            expected = "404"
        elif not self.in_progress:
            expected = "409"
        else:
            expected = self.expect_moderation(user, chat=True) or "ok"
        got = self.post(user, "chat_clear")
        self.compare(user, "chat_clear", expected, got)
        if got == 302:
            for message in self.messages:
                message.visible = False

    # The scenario -------------------------------------------------------------------

    ROOM_ACTIONS = (
        "participant_join",
        "session_open",
        "session_start",
        "session_lock",
        "session_unlock",
        "session_end",
        "message_post",
        "chat_clear",
    )

    def regrant(self, user: int) -> None:
        """Grant the user a new random set of room roles, directly, mid-session: keeping
        the ends of those held, or with an end (or none)."""
        world = self.world
        roles = sorted(MODERATOR_ROLES | {Role.CO_EDITOR})
        chosen = frozenset(role for role in roles if world.rng.random() < 0.4)
        ends = KEEP if world.rng.random() < 0.6 else world.an_end(after=world.minute)
        world.grant("set", self.entry_id, "user", user, chosen, ends, note=True)

    def check_labels(self) -> None:
        """Each present participant's label, on another's page, is the roles they act with
        (joined with and still held); a page whose user lost a role says which."""
        viewers = [user for user in sorted(self.present) if self.sees(user)]
        if not viewers:
            return
        viewer = viewers[0]
        html = self.world.client(viewer).get(reverse("room_detail", args=[self.entry_id]))
        section = html.content.decode().split('id="participants"', 1)[-1].split("</section>")[0]
        # Names can repeat across people: compare what is listed as a whole.
        shown = sorted(
            (name.strip(), labels.rstrip(" ·"))
            for name, labels in re.findall(
                r'participant-name">([^<]*)<.*?participant-roles">([^<]*)', section, re.S
            )
        )
        expected = sorted(
            (
                self.world.users[user].name,
                " · ".join(role.label for role in sorted_roles(self.acting(user))),
            )
            for user in self.present
        )
        if shown != expected:
            people = ", ".join(
                f"{self.world.who(user)} joined as {roles_text(self.joined_roles[user])},"
                f" holds {roles_text(self.now(user))}"
                for user in sorted(self.present)
            )
            self.problems.append(
                f"seed {self.world.seed}: {self.world.who(viewer)} sees the participants of"
                f" {self.world.what(self.entry_id)} as {shown}, expected {expected} ({people})"
            )
        for user in sorted(self.present):
            if not self.sees(user):
                continue
            lost = self.joined_roles[user] - self.now(user)
            page = self.world.client(user).get(reverse("room_detail", args=[self.entry_id]))
            told = "You are no longer a" in page.content.decode()
            if told != bool(lost):
                self.problems.append(
                    f"seed {self.world.seed}: {self.world.who(user)} lost"
                    f" {roles_text(lost)} in {self.world.what(self.entry_id)} but the page"
                    f" {'says' if told else 'does not say'} so"
                )

    def hidden_everywhere(self, *, sample: int = len(ROOM_ACTIONS)) -> None:
        """Whoever cannot see the room gets 404 for its actions (`sample` of the room's
        own, and those on a message and on a participant when there are some)."""
        message_ids = [message.pk for message in self.messages]
        participant_ids = list(self.participant_ids.values())
        for user in self.world.users:
            if self.sees(user):
                continue
            urls = [(name, ()) for name in self.world.rng.sample(self.ROOM_ACTIONS, sample)]
            if message_ids:
                message_id = self.world.rng.choice(message_ids)
                urls += [("message_pin", (message_id,)), ("message_delete", (message_id,))]
            if participant_ids:
                participant_id = self.world.rng.choice(participant_ids)
                urls += [
                    ("participant_block", (participant_id,)),
                    ("participant_remove", (participant_id,)),
                ]
            for name, args in urls:
                got = self.post(user, name, *args, data={"body": "hi"})
                self.compare(user, name, "404", got)

    def run(self) -> None:
        rng, ref = self.world.rng, self.ref
        users = list(self.world.users)
        rng.shuffle(users)
        self.hidden_everywhere(sample=5)

        visible = [user for user in users if self.sees(user)]
        runners = [user for user in visible if can_run_room(self.now(user))]
        others = [user for user in visible if user not in runners]
        # Before any session: others may neither start nor join.
        for user in others[:2]:
            self.start(user)
            self.open(user)
            self.join(user)
        # Runners open or start it (the owner always can); others wait while it is open.
        for number, user in enumerate(runners):
            if number == 0 and rng.random() < 0.5:
                self.open(user)
                for other in others[:1]:
                    self.join(other)
            self.start(user)
        # Everyone who sees the room joins, but for a few who come late; each posts.
        late = [user for user in visible if rng.random() < 0.3]
        for user in visible:
            if user not in late:
                self.join(user)
        for user in visible:
            self.chat(user)
        # Sometimes the operator flips the module mid-session; everyone posts again.
        if rng.random() < 0.3:
            ref.module_on = not ref.module_on
            module_set(ref.module_on)
            self.world.notes.append(
                f"module switched {'on' if ref.module_on else 'off'} during the session"
                f" of #{self.entry_id}"
            )
            for user in users:
                if self.sees(user):
                    self.chat(user)
        # Roles change mid-session: a revocation shows in everyone's participants list at
        # once, and the person is told; a new role waits for its holder to rejoin.
        if self.session == "live" and self.present and rng.random() < 0.8:
            owner = ref.entries[self.entry_id].owner
            changed = [user for user in sorted(self.present) if user != owner]
            for user in rng.sample(changed, min(3, len(changed))):
                self.regrant(user)
            self.check_labels()
        # Sometimes the session goes on past the end of more grants: those roles count no
        # more, as if taken away.
        if self.world.minute < LATE and self.in_progress and rng.random() < 0.5:
            self.world.clock_to(LATE)
            self.world.notes.append(
                f"the clock moved on to {self.world.when(ref.now)} during the session of"
                f" #{self.entry_id}"
            )
            self.check_labels()
        # Pins of others' messages. (From here on, those who cannot see the room are left
        # to `hidden_everywhere`.)
        users = [user for user in users if self.sees(user)]
        for user in users:
            message = self.others_message(user)
            if message is not None:
                self.pin(user, message)
        # Locks: latecomers wait unless they run the room; unlocks let them in.
        for user in users:
            self.lock(user, True)
        for user in late:
            self.join(user)
        for user in users:
            self.lock(user, False)
        for user in late:
            self.join(user)
        # Deletions of others' messages and of one's own.
        for user in users:
            message = self.others_message(user)
            if message is not None:
                self.delete(user, message)
            own = [m for m in self.messages if m.author == user and m.visible]
            if own and rng.random() < 0.5:
                self.delete(user, rng.choice(own))
        # Blocks and removals of other participants (sometimes oneself); the blocked post.
        if self.in_progress and self.participant_ids:
            for action in ("participant_block", "participant_remove"):
                for user in users:
                    targets = list(self.participant_ids)
                    if rng.random() < 0.8:
                        targets = [target for target in targets if target != user] or targets
                    self.manage(user, rng.choice(targets), action)
                if action == "participant_block":
                    for blocked in sorted(self.blocked):
                        self.chat(blocked)
            for user in sorted(self.removed):
                self.join(user)
        self.hidden_everywhere(sample=2)
        for user in users:
            self.clear(user)
        # The end: others may not end it; a runner does; then others wait again.
        for user in users:
            if not can_run_room(self.acting(user)):
                self.end(user)
        for user in users:
            if self.in_progress and can_run_room(self.acting(user)):
                self.end(user)
        for user in users[:1]:
            self.join(user)


@pytest.mark.django_db
@pytest.mark.parametrize("seed", SEEDS)
def test_room_actions_follow_the_rule(seed, clock):
    world = World(seed, clock)
    problems = world.problems
    for entry_id, entry in world.ref.entries.items():
        if entry.is_room:
            RoomModel(world, entry_id, problems).run()
    assert not problems, report(world, problems)
