"""The access rule, written once, and its read model.

    A user holds a role on an entry when they own it (the owner holds Owner alone), or a
    grant on the entry names them or a group they are in now and has not ended —
    moderator roles only while the ChatandCollaboration module is on. A user sees an entry
    when they hold any role on it, or it is Unlisted or Published.

Everything the product shows or allows derives from those two sentences, and this module
is where they are written: `counted_bits` (the module's condition), `live_bits` and `LIVE`
(the grants' ends), `HELD` (the user's own rows and their groups' as they are now) and
`sees` (the status). Grants themselves are django-guardian's rows, which
mediaspace.permissions writes, and their ends are GrantTerm's, written here; EntryAccess
is their read model, written here and only here, in the same transaction: one row per
entry for its owner and for each user or group granted any role, with the roles as bits,
the earliest end among them and the keys the lists sort by. `rebuild` writes it anew from
guardian's tables, the terms and the owners.

The hot paths are the few static statements below, the project's only hand-written SQL:
an entry with the user's roles on it, the room's standing, My Media's page and count, the
Roles & permissions tab's page and counts, the suggestions, and the writes of a change of
access and of a chat message. Building and compiling the ORM's version of each costs
several times what the database spends running it, on pages everyone opens all the time.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from django.contrib.auth.models import Group
from django.db import connection, models, transaction
from django.db.models import Model
from django.utils import timezone

from accounts.models import User
from mediaspace.models import (
    ROLE_CODENAMES,
    AccessChange,
    EntryAccess,
    GrantTerm,
    MediaEntry,
    MediaEntryGroupObjectPermission,
    MediaEntryUserObjectPermission,
    Module,
    Role,
)

if TYPE_CHECKING:
    from rooms.models import ChatMessage  # rooms builds on mediaspace, not the reverse

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
OWNER_BIT = ROLE_BITS[Role.OWNER]
GRANTED_BITS = ALL_BITS & ~OWNER_BIT  # what a grant can give
OWNER_ONLY = frozenset({Role.OWNER})
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
    """Return the roles a user holds, from the bits of their rows and their groups' rows.

    The owner holds Owner alone, even when a group of theirs is granted more.
    """
    bits = 0
    for row in held:
        bits |= row
    if bits & OWNER_BIT:
        return OWNER_ONLY
    return frozenset(roles_of(bits & counted_bits(module_on)))


class Until(enum.Enum):
    """An end that is not an instant known in advance."""

    # The end of the room's session in progress, or of its next one: the session's end
    # takes the role away (services.session_grants_end).
    SESSION_END = "session-end"


SESSION_END = Until.SESSION_END
# EntryAccess.ends_at of a row whose only ends are sessions': no instant ends them (the
# session's end takes them away), yet the row has terms to read. Later than any instant.
SESSION_ENDS_AT = datetime(9999, 12, 31, tzinfo=UTC)
# When a role ends: at an instant, with a session (Until), or never (None).
End = datetime | Until | None
# What a user or group is granted on an entry: each role, with when it ends.
Terms = Mapping[Role, End]


def end_text(end: datetime | Until) -> str:
    """Return an end as the audit log keeps it: ISO 8601, or "session-end"."""
    return end.value if isinstance(end, Until) else end.isoformat()


def end_parse(text: str) -> datetime | Until:
    """Return the end the audit log kept as `text` (end_text)."""
    return Until(text) if text == SESSION_END.value else datetime.fromisoformat(text)


def live_bits(bits: int, ends: Mapping[Role, datetime], now: datetime) -> int:
    """Return a row's role bits without those whose end (`ends`, by role) has come."""
    for role, end in ends.items():
        if end <= now:
            bits &= ~ROLE_BITS[role]
    return bits


def ended(terms: Terms, now: datetime) -> frozenset[Role]:
    """Return the roles of these terms whose end has come."""
    return frozenset(
        role for role, end in terms.items() if isinstance(end, datetime) and end <= now
    )


def sees(roles: Iterable[Role], status: str) -> bool:
    """Return whether a user holding these roles sees an entry with this status."""
    return bool(frozenset(roles)) or status in VISIBLE_TO_EVERYONE


# The statements ---------------------------------------------------------------------
# Every statement names its tables literally (a test checks them against the models) and
# takes named parameters: %(user)s and the bits that count, %(counted)s, at least.

# The bits of an EntryAccess row `a` whose roles have not ended at %(now)s: the rule's
# "has not ended", as live_bits says it. A row whose earliest end is still ahead (or that
# has none), as nearly every row is, answers from its own columns, which the indexes carry;
# past it, the ended roles' bits are read from GrantTerm and taken off, until the sweep
# removes them. LIVE[kind] is for a row known to be a user's or a group's: it names only
# that holder's column, so that an index of those rows still holds every column read.
ROLE_OF_TERM_BIT = (
    "CASE t.role "
    + " ".join(f"WHEN '{role.value}' THEN {bit}" for role, bit in ROLE_BITS.items())
    + " ELSE 0 END"
)
LIVE_OF = f"""(CASE WHEN a.ends_at IS NULL OR a.ends_at > %(now)s THEN a.roles
        ELSE a.roles & ~(SELECT COALESCE(SUM({ROLE_OF_TERM_BIT}), 0)
            FROM mediaspace_grantterm t
            WHERE t.entry_id = a.entry_id AND t.ends_at <= %(now)s
              AND {{holder}}) END)"""
LIVE = {
    "user": LIVE_OF.format(holder="t.user_id = a.user_id"),
    "group": LIVE_OF.format(holder="t.group_id = a.group_id"),
}
# For a row that may be either: each kind's own, so that each finds its terms by its index.
LIVE["any"] = f"(CASE WHEN a.user_id IS NOT NULL THEN {LIVE['user']} ELSE {LIVE['group']} END)"

# The user's rows and their groups' rows, as they are now: the rule's "names them or a
# group they are in now". `held(where)` narrows both arms (an entry, the bits that count:
# `{live}` in `where` stands for the arm's LIVE).
# CROSS JOIN makes SQLite start from the user's few memberships; left to choose, it read
# every row of an entry (thousands on a popular one) to find the user's groups among them.
# PostgreSQL plans it as any other join.
HELD = f"""
    SELECT a.entry_id, {LIVE["user"]} AS roles FROM mediaspace_entryaccess a
    WHERE a.user_id = %(user)s AND {{where_user}}
    UNION ALL
    SELECT a.entry_id, {LIVE["group"]} FROM accounts_user_groups m
    CROSS JOIN mediaspace_entryaccess a
    WHERE m.user_id = %(user)s AND a.group_id = m.group_id AND {{where_group}}"""


def held(where: str) -> str:
    """Return HELD narrowed by `where` in both arms, `{live}` in it being the arm's LIVE."""
    return HELD.format(
        where_user=where.format(live=LIVE["user"]), where_group=where.format(live=LIVE["group"])
    )


# The union of a few rows' role bits: SQL has no portable bitwise OR aggregate.
ROLES_UNION = (
    "COALESCE(" + " + ".join(f"MAX(h.roles & {bit})" for bit in ROLE_BITS.values()) + ", 0)"
)

MODULE_ON = "(SELECT md.enabled FROM mediaspace_module md WHERE md.name = %(module)s)"
# The bits that count, as the module's switch is now: %(counted_on)s and %(counted_off)s
# are counted_bits(True) and counted_bits(False).
COUNTED = f"(CASE WHEN {MODULE_ON} THEN %(counted_on)s ELSE %(counted_off)s END)"
MODULE_NOW = f"SELECT {MODULE_ON}"

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
ENTRY_SELECT = f"""
    SELECT {", ".join(f"e.{column}" for column in ENTRY_COLUMNS)},
           {", ".join(f"o.{column}" for column in OWNER_COLUMNS)},
           {MODULE_ON},
           (SELECT {ROLES_UNION} FROM ({held("a.entry_id = e.id")}) h)"""
ENTRY_FOR_USER = f"""{ENTRY_SELECT}
    FROM mediaspace_mediaentry e
    JOIN accounts_user o ON o.id = e.owner_id
    WHERE e.id = %(entry)s"""

# A room, as ENTRY_FOR_USER reads an entry, with its latest session and the user's place
# in it: what the room's every poll needs (rooms.selectors.Standing).
SESSION_COLUMNS = ("id", "state", "locked", "presence_checked_at")
PARTICIPANT_COLUMNS = ("id", "roles", "left_at", "removed_at", "chat_blocked_at", "last_seen_at")
# Its last column is the entry's latest change of access (its id), so that a page in the
# room learns that someone's roles may have changed.
ROOM_FOR_USER = f"""{ENTRY_SELECT},
           {", ".join(f"s.{column}" for column in SESSION_COLUMNS)},
           (SELECT MAX(ev.seq) FROM rooms_roomevent ev WHERE ev.session_id = s.id),
           {", ".join(f"p.{column}" for column in PARTICIPANT_COLUMNS)},
           (SELECT c.id FROM mediaspace_accesschange c WHERE c.entry_id = e.id
            ORDER BY c.created_at DESC, c.id DESC LIMIT 1)
    FROM mediaspace_mediaentry e
    JOIN accounts_user o ON o.id = e.owner_id
    LEFT JOIN rooms_session s ON s.id = (
        SELECT MAX(latest.id) FROM rooms_session latest WHERE latest.room_id = e.id)
    LEFT JOIN rooms_participant p ON p.session_id = s.id AND p.user_id = %(user)s
    WHERE e.id = %(entry)s AND e.media_type = %(room)s"""
# The same for a chat post, with the author's latest message that counts against the chat's
# rate: the %(nth)s-th newest (from 0) posted after %(since)s, if there is one (see
# rooms.selectors.posting_wait).
ROOM_FOR_POST = ROOM_FOR_USER.replace(
    "\n    FROM mediaspace_mediaentry e",
    """,
           (SELECT m.created_at FROM rooms_chatmessage m
            WHERE m.author_id = %(user)s AND m.created_at > %(since)s
            ORDER BY m.created_at DESC LIMIT 1 OFFSET %(nth)s)
    FROM mediaspace_mediaentry e""",
    1,
)

# Lock an entry's row until the transaction ends: every change to its grants or, for a
# room, to its sessions takes it first (SQLite's transactions here take the database's
# lock at BEGIN: see settings). The lock is a statement of its own, before the reads it
# protects: a PostgreSQL statement that waits for a row lock still reads every other row
# as it was when it began (READ COMMITTED), so a read in the locking statement itself
# would miss what the holder wrote — two posts would take one event number, and two
# grants to one person would each write the roles without the other's.
LOCK_ENTRY = "SELECT id FROM mediaspace_mediaentry WHERE id = %(entry)s FOR UPDATE"

# My Media: the entries on which the user holds a role that counts and is %(wanted)s, in
# one of the list's orders. Sorting every entry someone sees through their groups, to show
# twenty, would read thousands; instead each holder's rows come in order off an index
# (models.EntryAccess), one arm each: the user's own, and their first GROUP_ARMS groups'
# one by one. The groups past those share one last arm, which sorts its rows. The arms
# are merged in order, each entry once, and the merge stops at the page's end.
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
# A search matches up to SEARCH_WORDS words, each anywhere in the text ignoring case as
# the database's icontains does (ASCII letters alone on SQLite); %(use0)s... say which
# words are in use. On SQLite %(word0)s... are the words and match with instr(), which
# takes under half of LIKE's time (LIKE compares pattern and text letter by letter) and
# folds the same letters; on PostgreSQL they are LIKE patterns (like_pattern).
SEARCH_WORDS = 5
ENTRY_TEXT = "e.name || ' ' || e.description || ' ' || e.tags"
WORD_MATCH = (
    "instr(LOWER({text}), LOWER(%(word{n})s)) > 0"
    if connection.vendor == "sqlite"
    else "UPPER({text}) LIKE UPPER(%(word{n})s) ESCAPE '\\'"
)


def _words(text: str) -> str:
    return "".join(
        f" AND (%(use{n})s = 0 OR {WORD_MATCH.format(text=text, n=n)})" for n in range(SEARCH_WORDS)
    )


ENTRY_FILTERS = f"e.media_type = COALESCE(%(type)s, e.media_type){_words(ENTRY_TEXT)}"
# With a role filter other than Owner (%(wanted)s without its bit), the entries the user
# owns are left out, whatever their groups are granted: the owner holds Owner alone.
NOT_OWNED = f"""((%(wanted)s & {OWNER_BIT}) <> 0 OR NOT EXISTS (
            SELECT 1 FROM mediaspace_entryaccess o
            WHERE o.entry_id = a.entry_id AND o.user_id = %(user)s
              AND (o.roles & {OWNER_BIT}) <> 0))"""
ARM = f"""
        SELECT a.entry_id, a.{{key}} AS sort_key FROM mediaspace_entryaccess a{{join}}
        WHERE {{holder}} AND ({{live}} & %(wanted)s & {COUNTED}) <> 0 AND {NOT_OWNED}{{filters}}"""
# PostgreSQL: each arm stops at %(end)s by itself (it would otherwise read whole before
# merging), and a Unique over their Merge Append reads them only as far as needed.
LIMITED_ARM = """
        (SELECT entry_id, sort_key FROM ({arm}
            ORDER BY a.{key} {order}, a.entry_id {order} LIMIT {end}) arm{n})"""
MERGED = {
    # SQLite runs a UNION with its ORDER BY and LIMIT as a merge of arms that each read
    # their holder's index in order, dropping an entry held several ways as it goes.
    "sqlite": """{arms_union}
        ORDER BY sort_key {order}, entry_id {order} LIMIT {count} OFFSET {start}""",
    "postgresql": """
        SELECT DISTINCT entry_id, sort_key FROM ({arms_union_all}
            ORDER BY sort_key {order}, entry_id {order}) merged
        ORDER BY sort_key {order}, entry_id {order} LIMIT {count} OFFSET {start}""",
}


def merged(
    *,
    key: str,
    order: str,
    filtered: bool,
    count: str = "%(count)s",
    start: str = "%(start)s",
    end: str = "%(end)s",
) -> str:
    """Return a SELECT of (entry_id, sort_key) rows `start`.. of `count`: the entries the
    user holds a role on that counts and is %(wanted)s, by `key` then entry, each once.

    `key` is an EntryAccess column (entry_id itself, for a count); `filtered` applies the
    type %(type)s and the search words; `end` is where the page ends (start + count).
    """
    arms = []
    for n, holder in enumerate(ARM_HOLDERS):
        arm = ARM.format(
            key=key,
            holder=holder,
            live=LIVE["user" if n == 0 else "group"],  # ARM_HOLDERS: the user's, then groups'
            join=" JOIN mediaspace_mediaentry e ON e.id = a.entry_id" if filtered else "",
            filters=f" AND {ENTRY_FILTERS}" if filtered else "",
        )
        if connection.vendor != "sqlite":
            arm = LIMITED_ARM.format(arm=arm, key=key, order=order, n=n, end=end)
        arms.append(arm)
    return MERGED["sqlite" if connection.vendor == "sqlite" else "postgresql"].format(
        arms_union=" UNION".join(arms),
        arms_union_all=" UNION ALL".join(arms),
        order=order,
        count=count,
        start=start,
    )


MY_MEDIA = """
    SELECT e.id, e.owner_id, e.name, e.media_type, e.duration_seconds, e.thumbnail,
           e.status, e.updated_at, o.display_name, o.first_name, o.last_name, o.username,
           (SELECT {roles} FROM ({held}) h) AS roles, {module} AS module_on, {count} AS listed
    FROM ({page}) page
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
# How many entries My Media lists (with the role filter %(wanted)s), up to %(cap)s: the
# same merge in the entries' order, each arm off its (holder, entry) index. An exact
# count would read every entry someone sees through their groups (thousands), where the
# first page reads twenty.
MY_MEDIA_COUNT = "(SELECT COUNT(*) FROM ({merged}) counted)".format(
    merged=merged(
        key="entry_id", order="ASC", filtered=False, count="%(cap)s", start="0", end="%(cap)s"
    )
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
    rows = held(f"a.entry_id = e.id AND ({{live}} & {COUNTED}) <> 0")
    return MY_MEDIA.format(
        roles=ROLES_UNION,
        held=rows,
        page=merged(key=key, order=order, filtered=filtered),
        order=order,
        module=MODULE_ON,
        # A filtered list is not counted: that would read every match.
        count="NULL" if filtered else MY_MEDIA_COUNT,
    )


# One statement per order, with and without a type filter or search.
MY_MEDIA_STATEMENTS = {
    (sort, filtered): _my_media_statement(key, order, filtered)
    for sort, (key, order) in SORTS.items()
    for filtered in (False, True)
}

# The Roles & permissions tab: the users and groups granted a role on the entry, groups
# first, each kind by name key off its index (models.EntryAccess), after the cursor
# (%(after_kind)s 0 for groups, 1 for people; %(after_key)s, %(after_id)s).
GROUP_TEXT = "g.name"
USER_TEXT = (
    "u.display_name || ' ' || u.first_name || ' ' || u.last_name || ' ' || u.username"
    " || ' ' || u.email"
)


def _after(kind: int) -> str:
    holder = ("a.group_id", "a.user_id")[kind]
    return (
        f"({kind} > %(after_kind)s OR {kind} = %(after_kind)s AND (a.holder_key > %(after_key)s"
        f" OR a.holder_key = %(after_key)s AND {holder} > %(after_id)s))"
    )


# The tab's counts: the users and groups it lists (granted one of %(wanted)s, and matching
# the words when searched), how many of those come after the cursor, and every user and
# group granted anything (what a filtered list is a part of: "2 of 12 with access").
# Keeps a subquery from being merged into its query, so that each of its columns is
# worked out once per row rather than at every mention.
FENCE = "LIMIT -1 OFFSET 0" if connection.vendor == "sqlite" else "OFFSET 0"


def _holders_count(searched: bool) -> str:
    """The tab's counts (HolderCounts) in two parts: the rows none of whose roles has ended
    yet (nearly all: their bits as they are, off the entry's rows), and the few rows past
    their earliest end (LIVE, off the index of rows that end), added up."""

    def part(roles: str, rows: str, source: str = "mediaspace_entryaccess a") -> str:
        listed = f"({roles} & %(wanted)s) <> 0"
        joins = ""
        if searched:
            listed += (
                f" AND (a.group_id IS NOT NULL{_words(GROUP_TEXT)}"
                f" OR a.user_id IS NOT NULL{_words(USER_TEXT)})"
            )
            joins = """
        LEFT JOIN auth_group g ON g.id = a.group_id
        LEFT JOIN accounts_user u ON u.id = a.user_id"""
        return f"""
        SELECT COUNT(CASE WHEN {listed} THEN a.user_id END) AS users,
               COUNT(CASE WHEN {listed} THEN a.group_id END) AS groups,
               COUNT(CASE WHEN {listed} AND (a.group_id IS NOT NULL AND {_after(0)}
                            OR a.user_id IS NOT NULL AND {_after(1)}) THEN 1 END) AS later,
               COUNT(CASE WHEN ({roles} & %(granted)s) <> 0 THEN a.user_id END) AS all_users,
               COUNT(CASE WHEN ({roles} & %(granted)s) <> 0 THEN a.group_id END) AS all_groups
        FROM {source}{joins}
        WHERE a.entry_id = %(entry)s AND {rows}"""

    lasting = part("a.roles", "(a.ends_at IS NULL OR a.ends_at > %(now)s)")
    # Each of those few rows' live roles worked out once (FENCE), not at every mention.
    ended = part(
        "a.live",
        "1 = 1",
        source=f"""(SELECT a.*, {LIVE["any"]} AS live FROM mediaspace_entryaccess a
                 WHERE a.entry_id = %(entry)s AND a.ends_at <= %(now)s {FENCE}) a""",
    )
    total = ", ".join(
        f"CAST(SUM({column}) AS INTEGER) AS {column}"
        for column in ("users", "groups", "later", "all_users", "all_groups")
    )
    return f"""
    SELECT {total} FROM ({lasting}
        UNION ALL{ended}) parts"""


HOLDERS_COUNT = {searched: _holders_count(searched) for searched in (False, True)}
# When each of a row's roles ends, as text ("role@end;..."; no end: a session's), for the
# tab to show with no further query (terms_parse). The end is written in UTC with its
# microseconds, as Python reads it back.
END_TEXT = {
    "sqlite": "t.ends_at",
    "postgresql": "to_char(t.ends_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')",
}["sqlite" if connection.vendor == "sqlite" else "postgresql"]
TERMS_AGGREGATE = (
    "group_concat({text}, ';')" if connection.vendor == "sqlite" else "string_agg({text}, ';')"
).format(text=f"t.role || '@' || COALESCE({END_TEXT}, '')")
# Only a row with an end has terms to read (see SESSION_ENDS_AT).
TERMS_TEXT = f"""(CASE WHEN a.ends_at IS NULL THEN NULL ELSE
                    (SELECT {TERMS_AGGREGATE} FROM mediaspace_grantterm t
                     WHERE t.entry_id = a.entry_id AND t.{{kind}}_id = a.{{kind}}_id) END)"""


def terms_parse(text: str | None) -> dict[Role, datetime | Until]:
    """Return the ends a TERMS_TEXT column gives, by role."""
    ends: dict[Role, datetime | Until] = {}
    for item in (text or "").split(";"):
        if item:
            role, _, end = item.partition("@")
            ends[Role(role)] = (
                datetime.fromisoformat(end).replace(tzinfo=UTC) if end else SESSION_END
            )
    return ends


# The tab's page of rows after the cursor, each with the counts (with a search or not).
HOLDERS_PAGE = {
    searched: f"""
    SELECT page.*, counts.users, counts.groups, counts.later, counts.all_users,
           counts.all_groups FROM (
        SELECT * FROM (
            SELECT 0 AS kind, a.group_id AS holder, a.holder_key, {LIVE["group"]} AS roles,
                   g.name,
                   '' AS display_name, '' AS first_name, '' AS last_name, '' AS email,
                   (SELECT COUNT(*) FROM accounts_user_groups m WHERE m.group_id = a.group_id)
                     AS members, {TERMS_TEXT.format(kind="group")}
            FROM mediaspace_entryaccess a JOIN auth_group g ON g.id = a.group_id
            WHERE a.entry_id = %(entry)s AND a.group_id IS NOT NULL
              AND ({LIVE["group"]} & %(wanted)s) <> 0 AND {_after(0)}{_words(GROUP_TEXT)}
            ORDER BY a.holder_key, a.group_id LIMIT %(limit)s
        ) groups
        UNION ALL
        SELECT * FROM (
            SELECT 1, a.user_id, a.holder_key, {LIVE["user"]}, u.username,
                   u.display_name, u.first_name, u.last_name, u.email, 0,
                   {TERMS_TEXT.format(kind="user")}
            FROM mediaspace_entryaccess a JOIN accounts_user u ON u.id = a.user_id
            WHERE a.entry_id = %(entry)s AND a.user_id IS NOT NULL
              AND ({LIVE["user"]} & %(wanted)s) <> 0 AND {_after(1)}{_words(USER_TEXT)}
            ORDER BY a.holder_key, a.user_id LIMIT %(limit)s
        ) people
    ) page
    CROSS JOIN ({HOLDERS_COUNT[searched]}) counts
    ORDER BY 1, 3, 2"""
    for searched in (False, True)
}

# What a change of access reads under the entry's lock: the entry's sort keys as they are
# (the caller's copy may predate a rename), the module's switch, what the user %(user)s or
# group %(group)s is granted on the entry, ended or not, and whether any of it ends.
ENTRY_FOR_CHANGE = f"""
    SELECT e.name, e.created_at, e.updated_at, {MODULE_ON},{
    ",".join(
        f'''
           (SELECT a.{column} FROM mediaspace_entryaccess a
            WHERE a.entry_id = e.id AND a.{kind}_id = %({kind})s)'''
        for kind in ("user", "group")
        for column in ("roles", "ends_at")
    )
}
    FROM mediaspace_mediaentry e
    WHERE e.id = %(entry)s"""

# Where a user's roles on an entry come from, the rule's walk written out: whether they own
# it, their own row, and each of their groups' rows (with the group's name), each with its
# roles that have not ended and their ends (TERMS_TEXT); then the module's switch.
PATHS = f"""
    SELECT 0 AS kind, a.user_id AS holder, '' AS name, {LIVE["user"]} AS roles,
           {TERMS_TEXT.format(kind="user")} AS terms
    FROM mediaspace_entryaccess a
    WHERE a.entry_id = %(entry)s AND a.user_id = %(user)s
    UNION ALL
    SELECT 1, a.group_id, g.name, {LIVE["group"]}, {TERMS_TEXT.format(kind="group")}
    FROM accounts_user_groups m
    CROSS JOIN mediaspace_entryaccess a
    JOIN auth_group g ON g.id = a.group_id
    WHERE m.user_id = %(user)s AND a.group_id = m.group_id AND a.entry_id = %(entry)s
    UNION ALL
    SELECT 2, 0, '', CASE WHEN {MODULE_ON} THEN 1 ELSE 0 END, NULL
    ORDER BY 1, 3, 2"""

# A search of the Roles & permissions tab also finds people who hold roles only through
# groups (granted one of %(wanted)s, not ended): members of the entry's groups matching the
# words, without a row of their own, each with the group's name and roles; first %(limit)s
# rows by name. Group members are listed only when a search names them.
MEMBERS_FOUND = f"""
    SELECT u.id, u.username, u.first_name, u.last_name, u.email, u.display_name,
           g.id, g.name, {LIVE["group"]} AS roles
    FROM mediaspace_entryaccess a
    JOIN accounts_user_groups m ON m.group_id = a.group_id
    JOIN accounts_user u ON u.id = m.user_id
    JOIN auth_group g ON g.id = a.group_id
    WHERE a.entry_id = %(entry)s AND a.group_id IS NOT NULL
      AND ({LIVE["group"]} & %(wanted)s) <> 0{_words(USER_TEXT)}
      AND NOT EXISTS (SELECT 1 FROM mediaspace_entryaccess own
                      WHERE own.entry_id = a.entry_id AND own.user_id = u.id)
    ORDER BY LOWER(u.display_name || u.username), u.id, LOWER(g.name), g.id
    LIMIT %(limit)s"""

# The latest grants, changes and removals on an entry, newest first, with who made them.
ACTIVITY = """
    SELECT c.principal_name, c.before, c.after, c.created_at, c.reason, c.before_ends,
           c.after_ends, c.actor_id, a.display_name, a.first_name, a.last_name, a.username
    FROM mediaspace_accesschange c
    LEFT JOIN accounts_user a ON a.id = c.actor_id
    WHERE c.entry_id = %(entry)s
    ORDER BY c.created_at DESC, c.id DESC
    LIMIT %(limit)s"""

# Who the Select users combobox offers for an entry, with the roles each is granted on it
# already. People by the start of any word of their names (accounts.NameKey), walking the
# key index in order from the longest word %(low0)s..%(high0)s and stopping early; each
# further word %(low1)s..%(high1)s... (used when %(use1)s...) must start another of their
# keys. The owner and inactive people are left out.
OTHER_WORD = """
      AND (%(use{n})s = 0 OR EXISTS (SELECT 1 FROM accounts_namekey other
           WHERE other.user_id = k.user_id
             AND other.key >= %(low{n})s AND other.key < %(high{n})s))"""
SUGGEST_USERS = f"""
    SELECT u.id, u.username, u.first_name, u.last_name, u.email, u.display_name,
           (SELECT {LIVE["user"]} FROM mediaspace_entryaccess a
            WHERE a.entry_id = %(entry)s AND a.user_id = u.id)
    FROM accounts_namekey k
    JOIN accounts_user u ON u.id = k.user_id
    WHERE k.key >= %(low0)s AND k.key < %(high0)s AND u.is_active = %(active)s
      AND u.id <> %(owner)s{"".join(OTHER_WORD.format(n=n) for n in range(1, SEARCH_WORDS))}
    ORDER BY k.key, k.user_id
    LIMIT %(limit)s"""
# Groups with a word of their name in each range (accounts.GroupNameKey), as people are
# found, by name, with their member counts and the roles each is granted on the entry.
OTHER_GROUP_WORD = """
          AND (%(use{n})s = 0 OR EXISTS (SELECT 1 FROM accounts_groupnamekey other
               WHERE other.group_id = g.id
                 AND other.key >= %(low{n})s AND other.key < %(high{n})s))"""
SUGGEST_GROUPS = f"""
    SELECT g.id, g.name,
           (SELECT COUNT(*) FROM accounts_user_groups m WHERE m.group_id = g.id),
           (SELECT {LIVE["group"]} FROM mediaspace_entryaccess a
            WHERE a.entry_id = %(entry)s AND a.group_id = g.id)
    FROM (
        SELECT g.id, g.name FROM auth_group g
        WHERE g.id IN (SELECT k.group_id FROM accounts_groupnamekey k
                       WHERE k.key >= %(low0)s AND k.key < %(high0)s){
    "".join(OTHER_GROUP_WORD.format(n=n) for n in range(1, SEARCH_WORDS))
}
        ORDER BY LOWER(g.name), g.id LIMIT %(limit)s
    ) g
    ORDER BY LOWER(g.name), g.id"""

# Writing a user's or group's row, for change_write: its roles, its key and its entry's.
HOLDER_UPSERT = {
    kind: f"""
    INSERT INTO mediaspace_entryaccess (entry_id, {kind}_id, roles, ends_at, holder_key,
                                        entry_updated_at, entry_created_at, entry_name_key)
    VALUES (%(entry)s, %(holder)s, %(roles)s, %(ends)s, %(key)s, %(updated)s, %(created)s,
            %(name)s)
    ON CONFLICT ({kind}_id, entry_id) WHERE {kind}_id IS NOT NULL
    DO UPDATE SET roles = excluded.roles, ends_at = excluded.ends_at"""
    for kind in ("user", "group")
}
HOLDER_DELETE = {
    kind: f"""
    DELETE FROM mediaspace_entryaccess WHERE entry_id = %(entry)s AND {kind}_id = %(holder)s"""
    for kind in ("user", "group")
}
# The audit log's row of a change, for change_write.
AUDIT_COLUMNS = (
    "entry_id",
    "actor_id",
    "user_id",
    "group_id",
    "principal_name",
    "before",
    "after",
    "before_ends",
    "after_ends",
    "reason",
    "created_at",
)
AUDIT_INSERT = f"""
    INSERT INTO mediaspace_accesschange ({", ".join(AUDIT_COLUMNS)})
    VALUES ({", ".join(f"%({column})s" for column in AUDIT_COLUMNS)})
    RETURNING id"""
# Both rows of a change in one statement where the database allows it: PostgreSQL runs a
# data-modifying WITH (a round trip less on every change); SQLite has none and runs two.
CHANGE_WRITE = {
    (kind, upsert): f"""
    WITH holder AS ({(HOLDER_UPSERT if upsert else HOLDER_DELETE)[kind]})
    {AUDIT_INSERT}"""
    for kind in ("user", "group")
    for upsert in (True, False)
}

# The room's hottest write, for rooms.services.message_post under the room's lock: a chat
# message and its event, the columns a new message fills (the others start empty). One
# statement on PostgreSQL, a data-modifying WITH; two on SQLite. The model's save()
# costs about 0.3 ms a row here, and a room's every participant posts.
MESSAGE_COLUMNS = ("session_id", "author_id", "body", "created_at")
MESSAGE_EVENT_COLUMNS = ("session_id", "seq", "kind", "message_id", "created_at")
MESSAGE_INSERT = f"""
    INSERT INTO rooms_chatmessage ({", ".join(MESSAGE_COLUMNS)})
    VALUES (%(session)s, %(author)s, %(body)s, %(now)s) RETURNING id"""
MESSAGE_EVENT_INSERT = f"""
    INSERT INTO rooms_roomevent ({", ".join(MESSAGE_EVENT_COLUMNS)})
    VALUES (%(session)s, %(seq)s, %(kind)s, %(message)s, %(now)s)"""
MESSAGE_POST = f"""
    WITH message AS ({MESSAGE_INSERT})
    INSERT INTO rooms_roomevent ({", ".join(MESSAGE_EVENT_COLUMNS)})
    SELECT %(session)s, %(seq)s, %(kind)s, message.id, %(now)s FROM message
    RETURNING message_id"""

# After a bulk load (the bench's data set), what autovacuum would soon do: PostgreSQL only.
ANALYZE = "VACUUM ANALYZE"

LONG_STATEMENTS = (*MY_MEDIA_STATEMENTS.values(), *HOLDERS_PAGE.values(), *HOLDERS_COUNT.values())
LONGEST_STATEMENT = max(len(statement.encode()) for statement in LONG_STATEMENTS)
if connection.vendor == "postgresql":
    # psycopg turns a statement's %(name)s placeholders into $1, $2... on every run unless
    # the statement is under 4 KiB, when it caches the result. My Media's run to 14 KiB with
    # about a thousand placeholders: converting them cost 1.4 ms a page, more than the
    # database took to answer. These statements are static and few, so let it cache them.
    import psycopg._queries

    psycopg._queries.MAX_CACHED_STATEMENT_LENGTH = max(
        psycopg._queries.MAX_CACHED_STATEMENT_LENGTH, LONGEST_STATEMENT
    )


def _run(sql: str, params: dict[str, Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _json(value: Any) -> Any:
    """Return a JSON column read by hand as the ORM gives it (the database gives text)."""
    return json.loads(value) if isinstance(value, str) else value


def _datetime(value: Any) -> Any:
    """Return a datetime a computed column gave as text (SQLite knows no column type)."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _aware(value: Any) -> Any:
    """Return a datetime read by hand as the ORM gives it (SQLite's come naive, in UTC)."""
    if isinstance(value, datetime) and timezone.is_naive(value):
        return value.replace(tzinfo=UTC)
    return value


def _now_param() -> dict[str, Any]:
    """Return LIVE's parameter: the moment of reading."""
    return {"now": connection.ops.adapt_datetimefield_value(timezone.now())}


def _module_params() -> dict[str, Any]:
    """Return the parameters of MODULE_ON, COUNTED and LIVE."""
    return {
        "module": Module.Name.CHAT_AND_COLLABORATION,
        "counted_on": counted_bits(True),
        "counted_off": counted_bits(False),
        **_now_param(),
    }


def _search_params(words: Sequence[str]) -> dict[str, Any]:
    """Return the parameters of `_words`: each word (as a LIKE pattern on PostgreSQL), and
    which are used."""
    pattern = (lambda word: word) if connection.vendor == "sqlite" else like_pattern
    params: dict[str, Any] = {}
    for n in range(SEARCH_WORDS):
        params[f"word{n}"] = pattern(words[n]) if n < len(words) else ""
        params[f"use{n}"] = int(n < len(words))
    return params


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
    return _entry_view(rows[0]) if rows else None


def _entry_view(row: Sequence[Any]) -> EntryView:
    """Return the EntryView of a row of ENTRY_SELECT's columns (and maybe more after them)."""
    split, owner_end = len(ENTRY_COLUMNS), len(ENTRY_COLUMNS) + len(OWNER_COLUMNS)
    entry = MediaEntry.from_db(connection.alias, ENTRY_COLUMNS, [_aware(v) for v in row[:split]])
    owner = User.from_db(connection.alias, OWNER_COLUMNS, row[split:owner_end])
    MediaEntry._meta.get_field("owner").set_cached_value(entry, owner)
    module_on, bits = bool(row[owner_end]), row[owner_end + 1]
    return EntryView(entry, roles_held([bits], module_on=module_on), module_on)


@dataclass(frozen=True)
class RoomView:
    """A room as `entry_for_user` gives an entry, with its latest session and the user's
    row in it (each as a dict of ROOM_FOR_USER's columns, or None)."""

    view: EntryView
    session: dict[str, Any] | None
    participant: dict[str, Any] | None
    nth_post: datetime | None = None  # with `posts_since`: the user's n-th newest post
    access_version: int = 0  # the id of the entry's latest change of access


def lock_entry(entry_id: int) -> None:
    """Lock the entry's row until the end of the transaction (PostgreSQL; see LOCK_ENTRY)."""
    if connection.features.has_select_for_update:
        _run(LOCK_ENTRY, {"entry": entry_id})


def room_for_user(
    user: User,
    entry_id: int,
    *,
    lock: bool = False,
    posts_since: tuple[datetime, int] | None = None,
) -> RoomView | None:
    """Return the room with the user's roles and their place in its latest session; None
    if there is no such room. One query; with `lock`, it first locks the room's entry row
    until the end of the transaction (one more on PostgreSQL). With `posts_since` (a
    moment and n), it also reads when the user posted their n-th newest message after it."""
    if lock:
        lock_entry(entry_id)
    params = {"entry": entry_id, "user": user.pk, "room": MediaEntry.Type.ROOM}
    if posts_since is None:
        rows = _run(ROOM_FOR_USER, params | _module_params())
    else:
        since, nth = posts_since
        since_param = connection.ops.adapt_datetimefield_value(since)
        rows = _run(
            ROOM_FOR_POST, params | _module_params() | {"since": since_param, "nth": nth - 1}
        )
    if not rows:
        return None
    row, posted = (rows[0][:-1], rows[0][-1]) if posts_since is not None else (rows[0], None)
    row, access_version = row[:-1], row[-1] or 0
    start = len(ENTRY_COLUMNS) + len(OWNER_COLUMNS) + 2
    end = start + len(SESSION_COLUMNS)
    session = dict(zip(SESSION_COLUMNS, row[start:end], strict=True))
    session["seq"] = row[end] or 0  # its latest event's number
    participant = dict(zip(PARTICIPANT_COLUMNS, row[end + 1 :], strict=True))
    for values in (session, participant):
        for name, value in values.items():
            values[name] = _aware(value)
    return RoomView(
        _entry_view(row),
        session if session["id"] is not None else None,
        participant if participant["id"] is not None else None,
        _aware(_datetime(posted)),
        access_version,
    )


# The columns `_lived` reads of an EntryAccess row, before any others a caller wants.
LIVE_FIELDS = ("entry_id", "user_id", "group_id", "roles", "ends_at")


def _lived(rows: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """Return rows of EntryAccess read as LIVE_FIELDS and then any others, each after the
    bits of its roles that have not ended (live_bits, as LIVE says it in SQL).

    Only a row past its earliest end needs its terms: one more query when there is one.
    """
    rows = list(rows)
    now = timezone.now()
    due = [row for row in rows if row[4] is not None and row[4] <= now]
    ends: dict[tuple[int, int | None, int | None], dict[Role, datetime]] = {}
    if due:
        which = models.Q()
        for entry_id, user_id, group_id, *_ in due:
            which |= models.Q(entry_id=entry_id, user_id=user_id, group_id=group_id)
        terms = GrantTerm.objects.filter(which, ends_at__lte=now).values_list(
            "entry_id", "user_id", "group_id", "role", "ends_at"
        )
        for entry_id, user_id, group_id, role, ends_at in terms:
            if ends_at is not None:
                ends.setdefault((entry_id, user_id, group_id), {})[Role(role)] = ends_at
    return [(live_bits(row[3], ends.get(tuple(row[:3]), {}), now), *row) for row in rows]


def users_roles(
    entry: MediaEntry, user_ids: Iterable[int], *, module_on: bool
) -> dict[int, frozenset[Role]]:
    """Return the roles each of these users holds on the entry now, by the rule: HELD for
    several people at once (their own rows and their groups' rows, as they are now; the
    owner holds Owner alone; moderator roles only while the module is on). One query,
    whatever the number of people; those holding nothing are left out."""
    user_ids = list(user_ids)
    own = EntryAccess.objects.filter(entry=entry, user_id__in=user_ids)
    through_groups = EntryAccess.objects.filter(entry=entry, group__user__in=user_ids)
    rows = own.values_list(*LIVE_FIELDS, "user_id").union(
        through_groups.values_list(*LIVE_FIELDS, "group__user"), all=True
    )
    held: dict[int, list[int]] = {}
    for bits, *_, user_id in _lived(rows):
        held.setdefault(user_id, []).append(bits)
    found = {user_id: roles_held(bits, module_on=module_on) for user_id, bits in held.items()}
    return {user_id: roles for user_id, roles in found.items() if roles}


def module_on() -> bool:
    """Return whether the ChatandCollaboration module is on."""
    rows = _run(MODULE_NOW, _module_params())
    return bool(rows[0][0])


def principal_roles(entry: MediaEntry | int, principal: User | Group) -> frozenset[Role]:
    """Return the roles granted to this user or group itself on the entry (no groups, no
    module condition: what the Roles & permissions tab lists for them)."""
    entry_id = entry if isinstance(entry, int) else entry.pk
    holder = {"group": principal} if isinstance(principal, Group) else {"user": principal}
    rows = EntryAccess.objects.filter(entry_id=entry_id, **holder).values_list(*LIVE_FIELDS)
    bits = [bits for bits, *_ in _lived(rows)]
    return frozenset(roles_of(next(iter(bits), 0) & GRANTED_BITS))


def holders_roles(
    entry: MediaEntry, *, user_ids: Sequence[int] = (), group_ids: Sequence[int] = ()
) -> dict[tuple[str, int], tuple[Role, ...]]:
    """Return what these users and groups are granted on the entry, by ("user"|"group", id)."""
    if not user_ids and not group_ids:
        return {}
    rows = _holders_rows(entry, user_ids, group_ids).values_list(*LIVE_FIELDS)
    return {
        ("group", group_id) if group_id else ("user", user_id): roles_of(bits & GRANTED_BITS)
        for bits, _, user_id, group_id, *_ in _lived(rows)
        if bits & GRANTED_BITS
    }


def _holders_rows(entry: MediaEntry, user_ids: Sequence[int], group_ids: Sequence[int]):
    """Return the rows of these users and groups on the entry: one query, each kind off
    its (entry, holder) index."""
    rows = EntryAccess.objects.filter(entry=entry)
    return rows.filter(user_id__in=user_ids).union(rows.filter(group_id__in=group_ids), all=True)


def _range_params(ranges: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Return the key ranges of SUGGEST_USERS and SUGGEST_GROUPS (the first the longest
    word's), and which are in use."""
    params: dict[str, Any] = {}
    for n in range(SEARCH_WORDS):
        low, high = ranges[n] if n < len(ranges) else ("", "")
        params |= {f"low{n}": low, f"high{n}": high, f"use{n}": int(n < len(ranges))}
    return params


def suggested_users(
    entry: MediaEntry, ranges: Sequence[tuple[str, str]], limit: int
) -> list[tuple[User, tuple[Role, ...]]]:
    """Return the first active users (not the owner) with a key in each range (the first
    range the longest word's), with what they are granted on the entry. A user found by
    several keys comes once."""
    params: dict[str, Any] = {
        "entry": entry.pk,
        "owner": entry.owner_id,
        "active": True,
        "limit": limit * 3,
        **_range_params(ranges),
        **_now_param(),
    }
    found = list(dict.fromkeys(_run(SUGGEST_USERS, params)))[:limit]
    fields = ("id", "username", "first_name", "last_name", "email", "display_name")
    return [
        (User.from_db(connection.alias, fields, row[:-1]), roles_of((row[-1] or 0) & GRANTED_BITS))
        for row in found
    ]


def suggested_groups(
    entry: MediaEntry, ranges: Sequence[tuple[str, str]], limit: int
) -> list[tuple[int, str, int, tuple[Role, ...]]]:
    """Return the id, name, member count and roles on the entry of the first groups, by
    name, with a word in each range (the first range the longest word's)."""
    params = {"entry": entry.pk, "limit": limit, **_range_params(ranges), **_now_param()}
    return [
        (pk, name, members, roles_of((bits or 0) & GRANTED_BITS))
        for pk, name, members, bits in _run(SUGGEST_GROUPS, params)
    ]


def entry_for_change(entry: MediaEntry, principal: User | Group) -> tuple[bool, dict[Role, End]]:
    """Lock the entry's row until the end of the transaction; return whether the module is
    on and what the user or group is granted on the entry: each role with its end, ended
    ones too (one query, the lock's on PostgreSQL, and one for the ends if any)."""
    lock_entry(entry.pk)
    is_group = isinstance(principal, Group)
    params = {
        "entry": entry.pk,
        "user": None if is_group else principal.pk,
        "group": principal.pk if is_group else None,
        **_module_params(),
    }
    rows = _run(ENTRY_FOR_CHANGE, params)
    if not rows:
        raise MediaEntry.DoesNotExist
    name, created_at, updated_at, on, user_bits, user_ends, group_bits, group_ends = rows[0]
    # The read model's rows copy the entry's keys: take them as they are now.
    entry.name, entry.created_at, entry.updated_at = name, _aware(created_at), _aware(updated_at)
    bits = (user_bits or group_bits or 0) & GRANTED_BITS
    terms: dict[Role, End] = dict.fromkeys(roles_of(bits))
    if user_ends or group_ends:
        terms |= terms_of(entry, [("group" if is_group else "user", principal.pk)]).get(
            ("group" if is_group else "user", principal.pk), {}
        )
    return bool(on), terms


def terms_of(
    entry: MediaEntry, keys: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], dict[Role, datetime | Until]]:
    """Return when each role of these users and groups on the entry ends, for those that
    end, by ("user"|"group", id): one query."""
    keys = list(keys)
    users = [pk for kind, pk in keys if kind == "user"]
    groups = [pk for kind, pk in keys if kind == "group"]
    found: dict[tuple[str, int], dict[Role, datetime | Until]] = {}
    if not keys:
        return found
    rows = GrantTerm.objects.filter(entry=entry).filter(
        models.Q(user_id__in=users) | models.Q(group_id__in=groups)
    )
    for user_id, group_id, role, ends_at in rows.values_list(
        "user_id", "group_id", "role", "ends_at"
    ):
        key = ("group", group_id) if group_id else ("user", user_id)
        found.setdefault(key, {})[Role(role)] = SESSION_END if ends_at is None else ends_at
    return found


@dataclass(frozen=True)
class Path:
    """One way a user holds roles on an entry: owning it, their own grant, or a group's."""

    kind: str  # "owner", "direct" or "group"
    roles: tuple[Role, ...]  # granted, not ended (the module's condition aside)
    ends: Mapping[Role, datetime | Until] = field(default_factory=dict)
    group_id: int | None = None
    group_name: str = ""


@dataclass(frozen=True)
class Why:
    """What a user holds on an entry by the rule, and every path it comes by."""

    roles: frozenset[Role]  # as roles_held gives them: what counts
    paths: list[Path]
    module_on: bool


def why(entry: MediaEntry, user: User) -> Why:
    """Return the roles the user holds on the entry and where each comes from: the rule's
    walk, path by path (PATHS: one query)."""
    rows = _run(PATHS, {"entry": entry.pk, "user": user.pk, **_module_params()})
    *grants, (_, _, _, on, _) = rows
    on = bool(on)
    paths: list[Path] = []
    for kind, holder, name, bits, terms in grants:
        if bits & OWNER_BIT:
            paths.insert(0, Path(kind="owner", roles=(Role.OWNER,)))
            continue
        roles = roles_of(bits & GRANTED_BITS)
        if not roles:
            continue
        paths.append(
            Path(
                kind="group" if kind else "direct",
                roles=roles,
                ends={role: end for role, end in terms_parse(terms).items() if role in roles},
                group_id=holder if kind else None,
                group_name=name,
            )
        )
    held = roles_held([bits for _, _, _, bits, _ in grants], module_on=on)
    return Why(held, paths, on)


def members_found(
    entry: MediaEntry, *, words: Sequence[str], wanted: Iterable[Role] | None, limit: int
) -> list[tuple[User, list[tuple[int, str, tuple[Role, ...]]]]]:
    """Return the people a search of the tab finds who hold roles only through groups, with
    each group (id, name, roles) they hold them through (MEMBERS_FOUND: one query)."""
    params = {
        "entry": entry.pk,
        "wanted": GRANTED_BITS & (bits_of(wanted) if wanted is not None else ALL_BITS),
        "limit": limit * 4,
        **_now_param(),
        **_search_params(words),
    }
    found: dict[int, tuple[User, list[tuple[int, str, tuple[Role, ...]]]]] = {}
    # In the model's order of fields, as from_db takes them.
    fields = ("id", "username", "first_name", "last_name", "email", "display_name")
    for row in _run(MEMBERS_FOUND, params):
        if row[0] not in found:
            if len(found) == limit:
                break
            found[row[0]] = (User.from_db(connection.alias, fields, row[:6]), [])
        found[row[0]][1].append((row[6], row[7], roles_of(row[8] & GRANTED_BITS)))
    return list(found.values())


class Activity(NamedTuple):
    """A change of access as the Activity list shows it."""

    principal_name: str
    before: list[str]
    after: list[str]
    created_at: datetime
    reason: str
    before_ends: dict[str, str]
    after_ends: dict[str, str]
    actor: str | None  # the actor's name; None when no one acted, or an operator's tooling


def activity(entry: MediaEntry, limit: int) -> list[Activity]:
    """Return the entry's latest changes of access, newest first."""
    return [
        Activity(
            principal_name,
            _json(before),
            _json(after),
            _aware(_datetime(created_at)),
            reason,
            _json(before_ends),
            _json(after_ends),
            User.name_from(*names) if actor_id else None,
        )
        for (
            principal_name,
            before,
            after,
            created_at,
            reason,
            before_ends,
            after_ends,
            actor_id,
            *names,
        ) in _run(ACTIVITY, {"entry": entry.pk, "limit": limit})
    ]


def holders_of(entry: MediaEntry, roles: Iterable[Role]) -> dict[tuple[str, int], tuple[Role, ...]]:
    """Return every user and group granted any of these roles on the entry, with those."""
    wanted = bits_of(roles) & GRANTED_BITS
    rows = EntryAccess.objects.filter(entry=entry).values_list(*LIVE_FIELDS)
    return {
        ("group", group_id) if group_id else ("user", user_id): roles_of(bits & wanted)
        for bits, _, user_id, group_id, *_ in _lived(rows)
        if bits & wanted
    }


@dataclass(frozen=True)
class ListedEntry:
    """A row of My Media: the entry (its list columns), its owner's name fields, the roles."""

    entry: MediaEntry
    owner_names: tuple[str, str, str, str]  # display, first and last name, username
    roles: frozenset[Role]


MY_MEDIA_COUNT_CAP = 200


@dataclass(frozen=True)
class MyMedia:
    """Rows of My Media, with the module's switch and how many entries it lists in all
    (up to MY_MEDIA_COUNT_CAP + 1; None when filtered, or when there are no rows)."""

    rows: list[ListedEntry]
    module_on: bool
    listed: int | None


def my_media(
    user: User,
    *,
    wanted: Iterable[Role] | None,
    sort: str,
    media_type: str = "",
    words: Sequence[str] = (),
    start: int = 0,
    stop: int,
) -> MyMedia:
    """Return rows start..stop of the entries on which the user holds a role (one of
    `wanted`, all when None) that counts, in the order `sort`, with the type and words.

    One query: the page's rows with the user's roles on each, the module's switch and,
    unfiltered, the count.
    """
    filtered = bool(media_type or words)
    params: dict[str, Any] = {
        "user": user.pk,
        "wanted": bits_of(wanted) if wanted is not None else ALL_BITS,
        "end": stop,
        "count": stop - start,
        "start": start,
        "type": media_type or None,
        "cap": MY_MEDIA_COUNT_CAP + 1,
        **_module_params(),
        **_search_params(words),
    }
    rows = _run(MY_MEDIA_STATEMENTS[sort, filtered], params)
    if not rows:
        return MyMedia([], module_on(), None if filtered else 0)
    split = len(MY_MEDIA_COLUMNS)
    on = bool(rows[0][split + 5])
    listed = [
        ListedEntry(
            MediaEntry.from_db(
                connection.alias, MY_MEDIA_COLUMNS, [_aware(v) for v in row[:split]]
            ),
            tuple(row[split : split + 4]),
            roles_held([row[split + 4]], module_on=on),
        )
        for row in rows
    ]
    return MyMedia(listed, on, rows[0][split + 6])


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
    position: tuple[int, str, int]  # kind (0 groups, 1 people), name key, id
    name: str  # a group's name; a user's username
    display_name: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    members: int = 0
    ends: Mapping[Role, datetime | Until] = field(default_factory=dict)  # of those that end


def _holder_params(
    entry: MediaEntry,
    *,
    after: tuple[int, str, int],
    wanted: Iterable[Role] | None,
    words: Sequence[str],
) -> dict[str, Any]:
    kind, key, holder_id = after
    params: dict[str, Any] = {
        "entry": entry.pk,
        "wanted": GRANTED_BITS & (bits_of(wanted) if wanted is not None else ALL_BITS),
        "granted": GRANTED_BITS,
        "after_kind": kind,
        "after_key": key,
        "after_id": holder_id,
        **_now_param(),
    }
    return params | _search_params(words)


class HolderCounts(NamedTuple):
    """The Roles & permissions tab's counts (see HOLDERS_COUNT)."""

    users: int  # listed: granted a wanted role, matching the search
    groups: int
    later: int  # listed, and after the cursor
    all_users: int  # granted anything
    all_groups: int


def holders_page(
    entry: MediaEntry,
    *,
    after: tuple[int, str, int],
    limit: int,
    wanted: Iterable[Role] | None = None,
    words: Sequence[str] = (),
) -> tuple[list[Holder], HolderCounts]:
    """Return the first `limit` holders after `after` (groups, then people, by name key)
    and the tab's counts (HolderCounts).

    One query (with each row's ends), and another for the counts when there is no row to
    carry them.
    """
    params = _holder_params(entry, after=after, wanted=wanted, words=words) | {"limit": limit}
    rows = _run(HOLDERS_PAGE[bool(words)], params)
    if not rows:
        return [], holders_count(entry, after=after, wanted=wanted, words=words)
    holders = []
    for row in rows[:limit]:
        kind, pk, key, bits, name, display_name, first_name, last_name, email, members = row[:10]
        live = roles_of(bits & GRANTED_BITS)
        holders.append(
            Holder(
                kind="user" if kind else "group",
                pk=pk,
                roles=live,
                position=(kind, key, pk),
                name=name,
                display_name=display_name,
                first_name=first_name,
                last_name=last_name,
                email=email,
                members=members,
                ends={role: end for role, end in terms_parse(row[10]).items() if role in live},
            )
        )
    return holders, HolderCounts(*rows[0][11:])


def holders_count(
    entry: MediaEntry,
    *,
    after: tuple[int, str, int],
    wanted: Iterable[Role] | None = None,
    words: Sequence[str] = (),
) -> HolderCounts:
    """Return the tab's counts (HolderCounts), without its rows."""
    params = _holder_params(entry, after=after, wanted=wanted, words=words)
    return HolderCounts(*_run(HOLDERS_COUNT[bool(words)], params)[0])


def holder_positions(
    entry: MediaEntry, keys: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], tuple[tuple[int, str, int], int]]:
    """Return the place in the tab's order, and the roles' bits, of these users and groups."""
    keys = list(keys)
    users = [pk for kind, pk in keys if kind == "user"]
    groups = [pk for kind, pk in keys if kind == "group"]
    if not keys:
        return {}
    rows = _holders_rows(entry, users, groups).values_list(*LIVE_FIELDS, "holder_key")
    return {
        ("group", group_id) if group_id else ("user", user_id): (
            (0, key, group_id) if group_id else (1, key, user_id),
            bits & GRANTED_BITS,
        )
        for bits, _, user_id, group_id, _, _, key in _lived(rows)
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


def change_write(
    entry: MediaEntry,
    principal: User | Group,
    terms: Terms,
    change: AccessChange,
    *,
    before: Terms | None = None,
) -> None:
    """Record a change of what the user or group is granted on the entry: its row of the
    read model (now exactly the roles of `terms`, with the earliest of their ends: written,
    updated or deleted), when those roles end (GrantTerm, when that differs from `before`)
    and the audit log's row, stamped now.

    mediaspace.permissions calls it with guardian's rows for the same change, under the
    entry's lock. One statement on PostgreSQL (CHANGE_WRITE), two on SQLite, and two more
    when an end is set, changed or cleared; the audit row is written without the model's
    save machinery, which cost half a millisecond a grant.
    """
    kind = "group" if isinstance(principal, Group) else "user"
    bits = bits_of(terms) & GRANTED_BITS
    ends = {role: end for role, end in terms.items() if end is not None}
    instants = [end for end in ends.values() if isinstance(end, datetime)]
    params: dict[str, Any] = {"entry": entry.pk, "holder": principal.pk}
    adapt = connection.ops.adapt_datetimefield_value
    if bits:
        params |= {
            "roles": bits,
            "ends": adapt(min(instants or [SESSION_ENDS_AT])) if ends else None,
            "key": holder_key(principal),
            "updated": adapt(entry.updated_at),
            "created": adapt(entry.created_at),
            "name": entry_name_key(entry.name),
        }
    earlier = {role: end for role, end in (before or {}).items() if end is not None}
    if ends != earlier:
        holder = {f"{kind}_id": principal.pk}
        if earlier:
            GrantTerm.objects.filter(entry=entry, **holder).delete()
        GrantTerm.objects.bulk_create(
            GrantTerm(
                entry=entry,
                role=role,
                ends_at=end if isinstance(end, datetime) else None,
                at_session_end=end is SESSION_END,
                **holder,
            )
            for role, end in ends.items()
        )
    change.created_at = timezone.now()
    fields = {field.column: field for field in AccessChange._meta.concrete_fields}
    audit = {
        column: fields[column].get_db_prep_save(getattr(change, fields[column].attname), connection)
        for column in AUDIT_COLUMNS
    }
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(CHANGE_WRITE[kind, bool(bits)], params | audit)
        else:
            cursor.execute((HOLDER_UPSERT if bits else HOLDER_DELETE)[kind], params)
            cursor.execute(AUDIT_INSERT, audit)
        (change.pk,) = cursor.fetchone()
    _saved(change)


def _saved(instance: Model) -> None:
    """Mark an instance written by one of these statements as saved, as save() does."""
    instance._state.adding = False
    instance._state.db = connection.alias


def message_write(message: ChatMessage, *, seq: int, kind: str) -> None:
    """Write a new chat message (a rooms.models.ChatMessage, checked already) and its
    event number `seq` of kind `kind`, stamped now; the room is locked (MESSAGE_POST)."""
    now = timezone.now()
    params: dict[str, Any] = {
        "session": message.session_id,
        "author": message.author_id,
        "body": message.body,
        "now": connection.ops.adapt_datetimefield_value(now),
        "seq": seq,
        "kind": kind,
    }
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(MESSAGE_POST, params)
            (message.pk,) = cursor.fetchone()
        else:
            cursor.execute(MESSAGE_INSERT, params)
            (message.pk,) = cursor.fetchone()
            cursor.execute(MESSAGE_EVENT_INSERT, params | {"message": message.pk})
    message.created_at = now
    _saved(message)


def analyze() -> None:
    """Refresh PostgreSQL's statistics and visibility map after a bulk load (outside a
    transaction: VACUUM cannot run in one)."""
    with connection.cursor() as cursor:
        cursor.execute(ANALYZE)


def entry_keys_write(entry: MediaEntry) -> None:
    """Copy an entry's new dates and name to its rows (call when it is saved)."""
    EntryAccess.objects.filter(entry=entry).update(**_entry_keys(entry))


def holder_renamed(principal: User | Group) -> None:
    """Copy a user's or group's new name to its rows (call when it is renamed)."""
    holder = {"group": principal} if isinstance(principal, Group) else {"user": principal}
    EntryAccess.objects.filter(**holder).exclude(holder_key=holder_key(principal)).update(
        holder_key=holder_key(principal)
    )


Row = tuple[int, str, Any, Any, str, Any]


def expected_rows() -> dict[tuple[int, str, int], Row]:
    """Return EntryAccess as guardian's tables, the terms and the entries say it should be.

    By (entry id, "user"|"group", holder id): roles' bits, holder key, the entry's keys,
    then the earliest end among the roles.
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
    ends: dict[tuple[int, str, int], Any] = {}
    for entry_id, user_id, group_id, role, ends_at in GrantTerm.objects.values_list(
        "entry_id", "user_id", "group_id", "role", "ends_at"
    ):
        key = (entry_id, "group", group_id) if group_id else (entry_id, "user", user_id)
        if bits.get(key, 0) & ROLE_BITS[Role(role)]:
            at = ends_at or SESSION_ENDS_AT
            ends[key] = min(at, ends.get(key, at))
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
            ends.get((entry_id, kind, holder_id)),
        )
    return expected


def current_rows() -> dict[tuple[int, str, int], Row]:
    """Return EntryAccess as it is, in the shape of `expected_rows`."""
    return {
        (entry_id, "group" if group_id else "user", group_id or user_id): (
            bits,
            key,
            updated_at,
            created_at,
            name_key,
            ends_at,
        )
        for entry_id, user_id, group_id, bits, key, updated_at, created_at, name_key, ends_at in (
            EntryAccess.objects.values_list(
                "entry_id",
                "user_id",
                "group_id",
                "roles",
                "holder_key",
                "entry_updated_at",
                "entry_created_at",
                "entry_name_key",
                "ends_at",
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
                ends_at=ends_at,
            )
            for (entry_id, kind, holder_id), (
                role_bits,
                key,
                updated_at,
                created_at,
                name_key,
                ends_at,
            ) in expected.items()
        ],
        batch_size=1000,
    )
    return len(expected), differing
