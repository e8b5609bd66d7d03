"""The access rule, written once, and its read model.

    A user holds a role on an entry when they own it, or a grant on the entry names them
    or a group they are in now — moderator roles only while the ChatandCollaboration
    module is on. A user sees an entry when they hold any role on it, or it is Unlisted
    or Published.

Everything the product shows or allows derives from those two sentences, and this module
is where they are written: `counted_bits` (the module's condition), `HELD` (the user's own
rows and their groups' as they are now) and `sees` (the status). Grants themselves are
django-guardian's rows, which mediaspace.permissions writes; EntryAccess is their read
model, written here and only here, in the same transaction: one row per entry for its
owner and for each user or group granted any role, with the roles as bits and the keys
the lists sort by. `rebuild` writes it anew from guardian's tables and the owners.

The hot reads are the few static statements below, the project's only hand-written SQL:
an entry with the user's roles on it, My Media's page and count, and the Roles &
permissions tab's page and counts. Building and compiling the ORM's version of each costs
several times what the database spends running it, on pages everyone opens all the time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from mediaspace.models import (
    ROLE_CODENAMES,
    EntryAccess,
    MediaEntry,
    MediaEntryGroupObjectPermission,
    MediaEntryUserObjectPermission,
    Module,
    Role,
)

# The bit of each role in EntryAccess.roles. Stored: never renumber one.
ROLE_BITS: dict[Role, int] = {
    Role.OWNER: 1,
    Role.CO_EDITOR: 2,
    Role.CO_PUBLISHER: 4,
    Role.CO_VIEWER: 8,
    Role.ROOM_MODERATOR: 16,
    Role.CHAT_MODERATOR: 32,
}
ALL_BITS = sum(ROLE_BITS.values())
MODERATOR_BITS = ROLE_BITS[Role.ROOM_MODERATOR] | ROLE_BITS[Role.CHAT_MODERATOR]
GRANTED_BITS = ALL_BITS & ~ROLE_BITS[Role.OWNER]  # what a grant can give
VISIBLE_TO_EVERYONE = (MediaEntry.Status.UNLISTED, MediaEntry.Status.PUBLISHED)


def bits_of(roles: Iterable[Role]) -> int:
    """Return the bits of a set of roles."""
    bits = 0
    for role in roles:
        bits |= ROLE_BITS[role]
    return bits


def roles_of(bits: int) -> tuple[Role, ...]:
    """Return the roles whose bits are set, strongest first (in Role's order)."""
    return tuple(role for role, bit in ROLE_BITS.items() if bits & bit)


# The rule ---------------------------------------------------------------------------


def counted_bits(module_on: bool) -> int:
    """Return the roles that count: moderators' only while ChatandCollaboration is on."""
    return ALL_BITS if module_on else ALL_BITS & ~MODERATOR_BITS


def roles_held(held: Iterable[int], *, module_on: bool) -> frozenset[Role]:
    """Return the roles a user holds, from the bits of their rows and their groups' rows."""
    bits = 0
    for row in held:
        bits |= row
    return frozenset(roles_of(bits & counted_bits(module_on)))


def sees(roles: Iterable[Role], status: str) -> bool:
    """Return whether a user holding these roles sees an entry with this status."""
    return bool(frozenset(roles)) or status in VISIBLE_TO_EVERYONE


# The statements ---------------------------------------------------------------------
# Every statement names its tables literally (a test checks them against the models) and
# takes named parameters: %(user)s and the bits that count, %(counted)s, at least.

# The user's rows and their groups' rows, as they are now: the rule's "names them or a
# group they are in now". `{where}` narrows both arms (an entry, the bits that count).
HELD = """
    SELECT a.entry_id, a.roles FROM mediaspace_entryaccess a
    WHERE a.user_id = %(user)s AND {where}
    UNION ALL
    SELECT a.entry_id, a.roles FROM mediaspace_entryaccess a
    JOIN accounts_user_groups m ON m.group_id = a.group_id
    WHERE m.user_id = %(user)s AND {where}"""


def held_q(user: User) -> Q:
    """Return HELD as a condition on EntryAccess, for the ORM."""
    return Q(user=user) | Q(group__in=user.groups.all())


# The union of a few rows' role bits: SQL has no portable bitwise OR aggregate.
ROLES_UNION = (
    "COALESCE(" + " + ".join(f"MAX(h.roles & {bit})" for bit in ROLE_BITS.values()) + ", 0)"
)

MODULE_ON = "(SELECT md.enabled FROM mediaspace_module md WHERE md.name = %(module)s)"

# An entry, its owner's names, the module's switch and the user's roles on the entry.
ENTRY_COLUMNS = (
    "id",
    "owner_id",
    "name",
    "description",
    "tags",
    "media_type",
    "duration_seconds",
    "thumbnail",
    "status",
    "created_at",
    "updated_at",
)
OWNER_COLUMNS = ("id", "username", "first_name", "last_name", "email", "display_name")
ENTRY_FOR_USER = f"""
    SELECT {", ".join(f"e.{column}" for column in ENTRY_COLUMNS)},
           {", ".join(f"o.{column}" for column in OWNER_COLUMNS)},
           {MODULE_ON},
           (SELECT {ROLES_UNION} FROM ({HELD.format(where="a.entry_id = e.id")}) h)
    FROM mediaspace_mediaentry e
    JOIN accounts_user o ON o.id = e.owner_id
    WHERE e.id = %(entry)s"""

# My Media: the entries on which the user holds a role that counts and is %(wanted)s, in
# one of the list's orders. Sorting every entry someone sees through their groups, to show
# twenty, would read thousands; instead each holder's rows come in order off its index
# ((holder, key, entry, roles): models.EntryAccess), one arm each: the user's own, and
# their first GROUP_ARMS groups' one by one. The groups past those share one last arm,
# which sorts its rows. Each arm stops at the page's end, and so does their merge.
GROUP_ARMS = 8
MEMBERS = "SELECT m.group_id FROM accounts_user_groups m WHERE m.user_id = %(user)s"
ARM_HOLDERS = (
    "a.user_id = %(user)s",
    *(
        f"a.group_id = ({MEMBERS} ORDER BY m.group_id LIMIT 1 OFFSET {arm})"
        for arm in range(GROUP_ARMS)
    ),
    f"a.group_id IN ({MEMBERS} AND m.group_id >"
    f" ({MEMBERS} ORDER BY m.group_id LIMIT 1 OFFSET {GROUP_ARMS - 1}))",
)
SEARCH_WORDS = 5  # a search matches this many words at most; unused ones are "%"
ENTRY_TEXT = "UPPER(e.name || ' ' || e.description || ' ' || e.tags)"
ENTRY_FILTERS = " AND ".join(
    [
        "e.media_type = COALESCE(%(type)s, e.media_type)",
        *(f"{ENTRY_TEXT} LIKE UPPER(%(word{n})s) ESCAPE '\\'" for n in range(SEARCH_WORDS)),
    ]
)
MY_MEDIA_ARM = """
    SELECT * FROM (
        SELECT a.entry_id, a.{key} AS sort_key FROM mediaspace_entryaccess a{join}
        WHERE {holder} AND (a.roles & %(wanted)s) <> 0{filters}
        ORDER BY a.{key} {order}, a.entry_id {order} LIMIT %(end)s
    ) arm{arm}"""
MY_MEDIA = """
    SELECT e.id, e.owner_id, e.name, e.media_type, e.duration_seconds, e.thumbnail,
           e.status, e.updated_at, o.display_name, o.first_name, o.last_name, o.username,
           (SELECT {roles} FROM ({held}) h) AS roles
    FROM (
        SELECT DISTINCT entry_id, sort_key FROM ({arms}) arms
        ORDER BY sort_key {order}, entry_id {order} LIMIT %(count)s OFFSET %(start)s
    ) page
    JOIN mediaspace_mediaentry e ON e.id = page.entry_id
    JOIN accounts_user o ON o.id = e.owner_id
    ORDER BY page.sort_key {order}, page.entry_id {order}"""
MY_MEDIA_COLUMNS = (
    "id",
    "owner_id",
    "name",
    "media_type",
    "duration_seconds",
    "thumbnail",
    "status",
    "updated_at",
)
# The list's orders: the EntryAccess column and the direction.
SORTS = {
    "-updated": ("entry_updated_at", "DESC"),
    "updated": ("entry_updated_at", "ASC"),
    "-created": ("entry_created_at", "DESC"),
    "created": ("entry_created_at", "ASC"),
    "name": ("entry_name_key", "ASC"),
    "-name": ("entry_name_key", "DESC"),
}


def _my_media_statement(key: str, order: str, filtered: bool) -> str:
    arms = " UNION ALL".join(
        MY_MEDIA_ARM.format(
            key=key,
            order=order,
            holder=holder,
            arm=arm,
            join=" JOIN mediaspace_mediaentry e ON e.id = a.entry_id" if filtered else "",
            filters=f" AND {ENTRY_FILTERS}" if filtered else "",
        )
        for arm, holder in enumerate(ARM_HOLDERS)
    )
    held = HELD.format(where="a.entry_id = e.id AND (a.roles & %(counted)s) <> 0")
    return MY_MEDIA.format(roles=ROLES_UNION, held=held, arms=arms, order=order)


# One statement per order, with and without a type filter or search.
MY_MEDIA_STATEMENTS = {
    (sort, filtered): _my_media_statement(key, order, filtered)
    for sort, (key, order) in SORTS.items()
    for filtered in (False, True)
}

# How many entries My Media lists, up to %(cap)s: an exact count would read every entry
# someone sees through their groups (thousands), where the first page reads twenty.
MY_MEDIA_COUNT = f"""
    SELECT COUNT(*) FROM (
        SELECT DISTINCT h.entry_id FROM ({HELD.format(where="(a.roles & %(counted)s) <> 0")}) h
        LIMIT %(cap)s
    ) counted"""

# The Roles & permissions tab: the users and groups granted a role on the entry, groups
# first, each kind by name key off its index (models.EntryAccess), after the cursor
# (%(after_kind)s 0 for groups, 1 for people; %(after_key)s, %(after_id)s).
GROUP_TEXT = "UPPER(g.name)"
USER_TEXT = (
    "UPPER(u.display_name || ' ' || u.first_name || ' ' || u.last_name || ' '"
    " || u.username || ' ' || u.email)"
)


def _words(text: str) -> str:
    return "".join(f" AND {text} LIKE UPPER(%(word{n})s) ESCAPE '\\'" for n in range(SEARCH_WORDS))


def _after(kind: int) -> str:
    return (
        f"({kind} > %(after_kind)s OR {kind} = %(after_kind)s AND (a.holder_key > %(after_key)s"
        " OR a.holder_key = %(after_key)s AND a.id > %(after_id)s))"
    )


HOLDERS_PAGE = f"""
    SELECT * FROM (
        SELECT 0 AS kind, a.id, a.group_id AS holder, a.holder_key, a.roles, g.name,
               '' AS display_name, '' AS first_name, '' AS last_name, '' AS email,
               (SELECT COUNT(*) FROM accounts_user_groups m WHERE m.group_id = a.group_id)
        FROM mediaspace_entryaccess a JOIN auth_group g ON g.id = a.group_id
        WHERE a.entry_id = %(entry)s AND a.group_id IS NOT NULL AND (a.roles & %(wanted)s) <> 0
          AND {_after(0)}{_words(GROUP_TEXT)}
        ORDER BY a.holder_key, a.id LIMIT %(limit)s
    ) groups
    UNION ALL
    SELECT * FROM (
        SELECT 1, a.id, a.user_id, a.holder_key, a.roles, u.username,
               u.display_name, u.first_name, u.last_name, u.email, 0
        FROM mediaspace_entryaccess a JOIN accounts_user u ON u.id = a.user_id
        WHERE a.entry_id = %(entry)s AND a.user_id IS NOT NULL AND (a.roles & %(wanted)s) <> 0
          AND {_after(1)}{_words(USER_TEXT)}
        ORDER BY a.holder_key, a.id LIMIT %(limit)s
    ) people
    ORDER BY 1, 4, 2"""

# The tab's counts: its users, its groups, and how many of them come after the cursor.
HOLDERS_COUNT_COLUMNS = f"""
    SELECT COALESCE(SUM(CASE WHEN a.user_id IS NOT NULL THEN 1 ELSE 0 END), 0),
           COALESCE(SUM(CASE WHEN a.group_id IS NOT NULL THEN 1 ELSE 0 END), 0),
           COALESCE(SUM(CASE WHEN a.group_id IS NOT NULL AND {_after(0)}
                               OR a.user_id IS NOT NULL AND {_after(1)} THEN 1 ELSE 0 END), 0)
    FROM mediaspace_entryaccess a"""
HOLDERS_COUNT = f"""{HOLDERS_COUNT_COLUMNS}
    WHERE a.entry_id = %(entry)s AND (a.roles & %(wanted)s) <> 0"""
HOLDERS_COUNT_SEARCHED = f"""{HOLDERS_COUNT_COLUMNS}
    LEFT JOIN auth_group g ON g.id = a.group_id
    LEFT JOIN accounts_user u ON u.id = a.user_id
    WHERE a.entry_id = %(entry)s AND (a.roles & %(wanted)s) <> 0
      AND (a.group_id IS NOT NULL{_words(GROUP_TEXT)}
           OR a.user_id IS NOT NULL{_words(USER_TEXT)})"""

TABLES = {
    "mediaspace_entryaccess": EntryAccess,
    "mediaspace_mediaentry": MediaEntry,
    "mediaspace_module": Module,
}


def _run(sql: str, params: dict[str, Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _aware(value: Any) -> Any:
    """Return a datetime read by hand as the ORM gives it (SQLite's come naive, in UTC)."""
    if isinstance(value, datetime) and timezone.is_naive(value):
        return value.replace(tzinfo=UTC)
    return value


def _module_params() -> dict[str, Any]:
    return {"module": Module.Name.CHAT_AND_COLLABORATION}


# Reads ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryView:
    """An entry with its owner, and what the rule gives one user on it."""

    entry: MediaEntry
    roles: frozenset[Role]
    module_on: bool

    @property
    def visible(self) -> bool:
        return sees(self.roles, self.entry.status)


def entry_for_user(user: User, entry_id: int) -> EntryView | None:
    """Return the entry (its owner loaded) and the user's roles on it; None if there is none.

    One query: the entry, its owner's names, the module's switch and the user's rows.
    """
    rows = _run(ENTRY_FOR_USER, {"entry": entry_id, "user": user.pk, **_module_params()})
    if not rows:
        return None
    row = rows[0]
    split = len(ENTRY_COLUMNS)
    entry = MediaEntry.from_db(connection.alias, ENTRY_COLUMNS, [_aware(v) for v in row[:split]])
    owner = User.from_db(connection.alias, OWNER_COLUMNS, row[split : split + len(OWNER_COLUMNS)])
    MediaEntry._meta.get_field("owner").set_cached_value(entry, owner)
    module_on, bits = bool(row[-2]), row[-1]
    return EntryView(entry, roles_held([bits], module_on=module_on), module_on)


def module_on() -> bool:
    """Return whether the ChatandCollaboration module is on."""
    return Module.objects.filter(name=Module.Name.CHAT_AND_COLLABORATION, enabled=True).exists()


def principal_roles(entry: MediaEntry | int, principal: User | Group) -> frozenset[Role]:
    """Return the roles granted to this user or group itself on the entry (no groups, no
    module condition: what the Roles & permissions tab lists for them)."""
    entry_id = entry if isinstance(entry, int) else entry.pk
    holder = {"group": principal} if isinstance(principal, Group) else {"user": principal}
    bits = EntryAccess.objects.filter(entry_id=entry_id, **holder).values_list("roles", flat=True)
    return frozenset(roles_of(next(iter(bits), 0) & GRANTED_BITS))


def holders_roles(
    entry: MediaEntry, *, user_ids: Sequence[int] = (), group_ids: Sequence[int] = ()
) -> dict[tuple[str, int], tuple[Role, ...]]:
    """Return what these users and groups are granted on the entry, by ("user"|"group", id)."""
    if not user_ids and not group_ids:
        return {}
    rows = EntryAccess.objects.filter(
        Q(user_id__in=user_ids) | Q(group_id__in=group_ids), entry=entry
    ).values_list("user_id", "group_id", "roles")
    return {
        ("group", group_id) if group_id else ("user", user_id): roles_of(bits & GRANTED_BITS)
        for user_id, group_id, bits in rows
    }


def holders_of(entry: MediaEntry, roles: Iterable[Role]) -> dict[tuple[str, int], tuple[Role, ...]]:
    """Return every user and group granted any of these roles on the entry, with those."""
    wanted = bits_of(roles) & GRANTED_BITS
    rows = EntryAccess.objects.filter(entry=entry).values_list("user_id", "group_id", "roles")
    return {
        ("group", group_id) if group_id else ("user", user_id): roles_of(bits & wanted)
        for user_id, group_id, bits in rows
        if bits & wanted
    }


@dataclass(frozen=True)
class ListedEntry:
    """A row of My Media: the entry (its list columns), its owner's name fields, the roles."""

    entry: MediaEntry
    owner_names: tuple[str, str, str, str]  # display, first and last name, username
    roles: frozenset[Role]


MY_MEDIA_COUNT_CAP = 1000


def my_media(
    user: User,
    *,
    module_on: bool,
    wanted: Iterable[Role] | None,
    sort: str,
    media_type: str = "",
    words: Sequence[str] = (),
    start: int = 0,
    stop: int,
) -> list[ListedEntry]:
    """Return rows start..stop of the entries on which the user holds a role (one of
    `wanted`, all when None) that counts, in the order `sort`, with the type and words."""
    counted = counted_bits(module_on)
    wanted_bits = counted & (bits_of(wanted) if wanted is not None else ALL_BITS)
    filtered = bool(media_type or words)
    params: dict[str, Any] = {
        "user": user.pk,
        "counted": counted,
        "wanted": wanted_bits,
        "end": stop,
        "count": stop - start,
        "start": start,
        "type": media_type or None,
    }
    for n in range(SEARCH_WORDS):
        params[f"word{n}"] = like_pattern(words[n]) if n < len(words) else "%"
    if not wanted_bits:
        return []
    rows = _run(MY_MEDIA_STATEMENTS[sort, filtered], params)
    listed = []
    split = len(MY_MEDIA_COLUMNS)
    for row in rows:
        entry = MediaEntry.from_db(
            connection.alias, MY_MEDIA_COLUMNS, [_aware(v) for v in row[:split]]
        )
        listed.append(
            ListedEntry(
                entry, tuple(row[split : split + 4]), roles_held([row[-1]], module_on=module_on)
            )
        )
    return listed


def my_media_count(user: User, *, module_on: bool) -> int:
    """Return how many entries My Media lists for the user, up to MY_MEDIA_COUNT_CAP + 1."""
    params = {"user": user.pk, "counted": counted_bits(module_on), "cap": MY_MEDIA_COUNT_CAP + 1}
    return _run(MY_MEDIA_COUNT, params)[0][0]


def like_pattern(word: str) -> str:
    """Return a LIKE pattern (ESCAPE '\\') matching text that contains the word."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class Holder:
    """A user or group granted roles on an entry, as the Roles & permissions tab lists it."""

    kind: str  # "user" or "group"
    pk: int
    roles: tuple[Role, ...]
    position: tuple[int, str, int]  # kind (0 groups, 1 people), name key, row id
    name: str  # a group's name; a user's username
    display_name: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    members: int = 0


def _holder_params(
    entry: MediaEntry,
    *,
    after: tuple[int, str, int],
    wanted: Iterable[Role] | None,
    words: Sequence[str],
) -> dict[str, Any]:
    kind, key, row_id = after
    params: dict[str, Any] = {
        "entry": entry.pk,
        "wanted": GRANTED_BITS & (bits_of(wanted) if wanted is not None else ALL_BITS),
        "after_kind": kind,
        "after_key": key,
        "after_id": row_id,
    }
    for n in range(SEARCH_WORDS):
        params[f"word{n}"] = like_pattern(words[n]) if n < len(words) else "%"
    return params


def holders_page(
    entry: MediaEntry,
    *,
    after: tuple[int, str, int],
    limit: int,
    wanted: Iterable[Role] | None = None,
    words: Sequence[str] = (),
) -> list[Holder]:
    """Return the first `limit` holders after `after`: groups, then people, by name key."""
    params = _holder_params(entry, after=after, wanted=wanted, words=words) | {"limit": limit}
    holders = []
    for row in _run(HOLDERS_PAGE, params)[:limit]:
        kind, row_id, pk, key, bits, name, display_name, first_name, last_name, email, members = row
        holders.append(
            Holder(
                kind="user" if kind else "group",
                pk=pk,
                roles=roles_of(bits & GRANTED_BITS),
                position=(kind, key, row_id),
                name=name,
                display_name=display_name,
                first_name=first_name,
                last_name=last_name,
                email=email,
                members=members,
            )
        )
    return holders


def holders_count(
    entry: MediaEntry,
    *,
    after: tuple[int, str, int],
    wanted: Iterable[Role] | None = None,
    words: Sequence[str] = (),
) -> tuple[int, int, int]:
    """Return how many users and groups the tab lists, and how many come after `after`."""
    params = _holder_params(entry, after=after, wanted=wanted, words=words)
    users, groups, later = _run(HOLDERS_COUNT_SEARCHED if words else HOLDERS_COUNT, params)[0]
    return users, groups, later


def holder_positions(
    entry: MediaEntry, keys: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], tuple[tuple[int, str, int], int]]:
    """Return the place in the tab's order, and the roles' bits, of these users and groups."""
    keys = list(keys)
    users = [pk for kind, pk in keys if kind == "user"]
    groups = [pk for kind, pk in keys if kind == "group"]
    if not keys:
        return {}
    rows = EntryAccess.objects.filter(
        Q(user_id__in=users) | Q(group_id__in=groups), entry=entry
    ).values_list("id", "user_id", "group_id", "holder_key", "roles")
    return {
        ("group", group_id) if group_id else ("user", user_id): (
            (0 if group_id else 1, key, row_id),
            bits & GRANTED_BITS,
        )
        for row_id, user_id, group_id, key, bits in rows
    }


# Writes: only here, in the transaction of the change ---------------------------------


def holder_key(principal: User | Group) -> str:
    """Return the key the Roles & permissions tab sorts a user or group by."""
    if isinstance(principal, Group):
        return principal.name.lower()[:150]
    return (principal.display_name or principal.username).lower()[:150]


def entry_name_key(name: str) -> str:
    """Return the key My Media sorts an entry's name by."""
    return name.lower()[:200]


def _entry_keys(entry: MediaEntry) -> dict[str, Any]:
    return {
        "entry_updated_at": entry.updated_at,
        "entry_created_at": entry.created_at,
        "entry_name_key": entry_name_key(entry.name),
    }


def owner_write(entry: MediaEntry) -> None:
    """Record the owner of a new entry (call in the transaction that creates it)."""
    EntryAccess.objects.create(
        entry=entry,
        user_id=entry.owner_id,
        roles=ROLE_BITS[Role.OWNER],
        holder_key=holder_key(entry.owner),
        **_entry_keys(entry),
    )


def holder_write(entry: MediaEntry, principal: User | Group, roles: Iterable[Role]) -> None:
    """Record that the user or group is now granted exactly these roles on the entry.

    mediaspace.permissions calls it with guardian's rows for the same change, under the
    entry's lock.
    """
    holder = {"group": principal} if isinstance(principal, Group) else {"user": principal}
    bits = bits_of(roles) & GRANTED_BITS
    if not bits:
        EntryAccess.objects.filter(entry=entry, **holder).delete()
        return
    updated = EntryAccess.objects.filter(entry=entry, **holder).update(roles=bits)
    if not updated:
        EntryAccess.objects.create(
            entry=entry,
            roles=bits,
            holder_key=holder_key(principal),
            **holder,
            **_entry_keys(entry),
        )


def entry_keys_write(entry: MediaEntry) -> None:
    """Copy an entry's new dates and name to its rows (call when it is saved)."""
    EntryAccess.objects.filter(entry=entry).update(**_entry_keys(entry))


def holder_renamed(principal: User | Group) -> None:
    """Copy a user's or group's new name to its rows (call when it is renamed)."""
    holder = {"group": principal} if isinstance(principal, Group) else {"user": principal}
    EntryAccess.objects.filter(**holder).exclude(holder_key=holder_key(principal)).update(
        holder_key=holder_key(principal)
    )


def expected_rows() -> dict[tuple[int, str, int], tuple[int, str, Any, Any, str]]:
    """Return EntryAccess as guardian's tables and the entries say it should be.

    By (entry id, "user"|"group", holder id): roles' bits, holder key, then the entry's
    keys.
    """
    codename_bits = {codename: ROLE_BITS[role] for role, codename in ROLE_CODENAMES.items()}
    entries = {
        entry.pk: entry
        for entry in MediaEntry.objects.only("id", "owner_id", "name", "created_at", "updated_at")
    }
    bits: dict[tuple[int, str, int], int] = {}
    for entry in entries.values():
        bits[entry.pk, "user", entry.owner_id] = ROLE_BITS[Role.OWNER]
    for model, kind in (
        (MediaEntryUserObjectPermission, "user"),
        (MediaEntryGroupObjectPermission, "group"),
    ):
        grants = model.objects.values_list(
            "content_object_id", f"{kind}_id", "permission__codename"
        )
        for entry_id, holder_id, codename in grants:
            key = (entry_id, kind, holder_id)
            bits[key] = bits.get(key, 0) | codename_bits[codename]
    users = {user.pk: user for user in User.objects.only("id", "username", "display_name")}
    groups = {group.pk: group for group in Group.objects.all()}
    expected = {}
    for (entry_id, kind, holder_id), role_bits in bits.items():
        entry = entries[entry_id]
        principal = users[holder_id] if kind == "user" else groups[holder_id]
        keys = _entry_keys(entry)
        expected[entry_id, kind, holder_id] = (
            role_bits,
            holder_key(principal),
            keys["entry_updated_at"],
            keys["entry_created_at"],
            keys["entry_name_key"],
        )
    return expected


def current_rows() -> dict[tuple[int, str, int], tuple[int, str, Any, Any, str]]:
    """Return EntryAccess as it is, in the shape of `expected_rows`."""
    return {
        (entry_id, "group" if group_id else "user", group_id or user_id): (
            bits,
            key,
            updated_at,
            created_at,
            name_key,
        )
        for entry_id, user_id, group_id, bits, key, updated_at, created_at, name_key in (
            EntryAccess.objects.values_list(
                "entry_id",
                "user_id",
                "group_id",
                "roles",
                "holder_key",
                "entry_updated_at",
                "entry_created_at",
                "entry_name_key",
            )
        )
    }


def differences() -> int:
    """Return how many rows of EntryAccess differ from what guardian's tables say."""
    expected, current = expected_rows(), current_rows()
    return sum(
        1 for key in expected.keys() | current.keys() if expected.get(key) != current.get(key)
    )


@transaction.atomic
def rebuild() -> tuple[int, int]:
    """Write EntryAccess anew from guardian's tables and the entries' owners.

    Returns how many rows were written and how many differed from what was there.
    """
    expected = expected_rows()
    before = current_rows()
    differing = sum(
        1 for key in expected.keys() | before.keys() if expected.get(key) != before.get(key)
    )
    EntryAccess.objects.all().delete()
    EntryAccess.objects.bulk_create(
        [
            EntryAccess(
                entry_id=entry_id,
                user_id=holder_id if kind == "user" else None,
                group_id=holder_id if kind == "group" else None,
                roles=role_bits,
                holder_key=key,
                entry_updated_at=updated_at,
                entry_created_at=created_at,
                entry_name_key=name_key,
            )
            for (entry_id, kind, holder_id), (role_bits, key, updated_at, created_at, name_key) in (
                expected.items()
            )
        ],
        batch_size=1000,
    )
    return len(expected), differing
