"""Reads that span relations: My Media, the Roles & permissions tab, suggestions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from functools import cache, lru_cache

from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.timezone import localtime

from accounts.models import NameKey, User, search_words
from mediaspace import permissions
from mediaspace.models import (
    AccessChange,
    MediaEntry,
    MediaEntryGroupObjectPermission,
    MediaEntryUserObjectPermission,
)
from mediaspace.permissions import Access, Role, quoted_table
from rooms.models import RoomGroupObjectPermission, RoomUserObjectPermission
from rooms.selectors import as_aware

PAGE_SIZE = 20

ROLE_FILTERS: dict[str, tuple[Role, ...]] = {
    "owner": (Role.OWNER,),
    "co-editor": (Role.CO_EDITOR,),
    "co-publisher": (Role.CO_PUBLISHER,),
    "co-viewer": (Role.CO_VIEWER,),
    "moderator": permissions.MODERATOR_ROLES,
}


ROLE_LABELS = dict(Role.choices)


@dataclass(frozen=True)
class MediaRow:
    """One row of My Media: the entry and what the user may do with it."""

    entry: MediaEntry
    access: Access
    owner_name: str  # empty on the user's own entries


@dataclass(frozen=True)
class MediaPage:
    rows: list[MediaRow]
    total: int | None  # None: not counted (a filtered list with more to load)
    start: int
    has_more: bool

    @property
    def shown(self) -> int:
        """Return how many rows the page shows counting the earlier pages."""
        return self.start + len(self.rows)


# The hand-written queries depend on the number of search words (and the Roles &
# permissions list's on the rows added at its top): so many of them are kept, at most.
SQL_SHAPES = 256
# How My Media sorts: the key column (or expression) and the direction. Each key has an
# index of an owner's entries by it (MediaEntry.Meta.indexes).
SORTS = {
    "-updated": ("e.updated_at", "DESC"),
    "updated": ("e.updated_at", "ASC"),
    "-created": ("e.created_at", "DESC"),
    "created": ("e.created_at", "ASC"),
    "name": ("LOWER(e.name)", "ASC"),
    "-name": ("LOWER(e.name)", "DESC"),
}
# The copies of each sort key on the permission rows (models.EntrySortKeys), by which the
# shared entries come in order.
SORT_KEY_COPIES = {
    "e.updated_at": "entry_updated_at",
    "e.created_at": "entry_created_at",
    "LOWER(e.name)": "entry_name_key",
}
MEDIA_FIELDS = (
    "id",
    "owner_id",
    "name",
    "media_type",
    "duration_seconds",
    "thumbnail",
    "status",
    "updated_at",
)


def _filters_sql(*, words: int, typed: bool) -> list[str]:
    """Return the conditions of the type `%(type)s` and the words `%(word0)s`, `%(word1)s`...

    Each word in the name, description or tags, case-insensitively, as `icontains` does:
    the words are given as `_word_param` makes them.
    """
    where = ["e.media_type = %(type)s"] if typed else []
    for word in range(words):
        columns = [_contains_sql(column, word) for column in SEARCHED_COLUMNS]
        where.append(f"({' OR '.join(columns)})")
    return where


SEARCHED_COLUMNS = ("e.name", "e.description", "e.tags")


def _contains_sql(column: str, word: int) -> str:
    """Return SQL for the text `column` containing search word number `word` (`%(word0)s`...).

    Case-insensitively, as `icontains` finds it; the word given as `_word_param` makes it.
    On SQLite, `instr` over `lower` finds exactly what `LIKE '%word%'` does, as both fold
    the ASCII letters only, in under half the time: LIKE compares pattern and text
    character by character, and a search reads the text of hundreds of entries.
    """
    param = f"%(word{word})s"
    if connection.vendor == "sqlite":
        return f"instr(lower({column}), lower({param})) > 0"
    cast = connection.ops.lookup_cast("icontains", "TextField") % column
    return f"{cast} {connection.operators['icontains'] % param}"


def _word_param(word: str) -> str:
    """Return a search word as `_contains_sql` takes it: itself, or a LIKE pattern."""
    if connection.vendor == "sqlite":
        return word
    return f"%{connection.ops.prep_for_like_query(word)}%"


def _owned_part_sql(*, words: int, typed: bool, key: str, direction: str) -> str:
    """Return SQL for the first `%(part_limit)s` matches the user owns, in order.

    They come off the (owner, sort key) index: the query stops at the part's end.
    """
    where = ["e.owner_id = %(user)s", *_filters_sql(words=words, typed=typed)]
    return (
        f"SELECT id, sort_key FROM (SELECT e.id AS id, {key} AS sort_key"
        f" FROM {quoted_table(MediaEntry)} e WHERE {' AND '.join(where)}"
        f" ORDER BY sort_key {direction}, e.id {direction} LIMIT %(part_limit)s) owned"
    )


def _shared_part_sql(*, words: int, typed: bool, key: str, direction: str, codenames: int) -> str:
    """Return SQL for the first `%(part_limit)s` matches shared with the user, in order.

    Only those on which the user holds one of the permissions `%(codename0)s`..., when
    `codenames` says how many. Merged in order from the permission rows' copies of the
    sort key (`permissions.shared_in_order_sql`). An entry is never both owned and shared:
    the owner cannot be granted a role on their own entry.
    """
    merged = permissions.shared_in_order_sql(
        column=SORT_KEY_COPIES[key],
        direction=direction,
        codenames=codenames,
        where=_filters_sql(words=words, typed=typed),
    )
    return f"SELECT id, sort_key FROM ({merged}) shared_part"


@lru_cache(maxsize=SQL_SHAPES)
def _my_media_sql(role: str, sort: str, typed: bool, words: int) -> str:
    """Return the query of `my_media_page` for this role filter, sort, filters and words.

    Parameters: `%(user)s`, the limits, the role filter's permissions `%(codename0)s`...,
    the module switch (`permissions.MODULE_ON_PARAMS`), the type and the search words.
    """
    wanted = ROLE_FILTERS.get(role)
    key, direction = SORTS[sort]
    with_owned = wanted is None or wanted == (Role.OWNER,)
    with_shared = wanted != (Role.OWNER,)
    entries, people = quoted_table(MediaEntry), quoted_table(User)
    codenames = len(wanted or ())
    counted = not (typed or words)
    shared = ""
    if with_shared and counted:
        shared = f"WITH shared AS ({permissions.shared_ids_sql(codenames)})"
    counts = "NULL, NULL"
    if counted:
        owned = f"SELECT COUNT(*) FROM {entries} WHERE owner_id = %(user)s"
        counts = (
            f"({owned if with_owned else 'SELECT 0'}), "
            f"({'SELECT COUNT(*) FROM shared' if with_shared else 'SELECT 0'})"
        )
    parts = []
    if with_owned:
        parts.append(_owned_part_sql(words=words, typed=typed, key=key, direction=direction))
    if with_shared:
        parts.append(
            _shared_part_sql(
                words=words, typed=typed, key=key, direction=direction, codenames=codenames
            )
        )
    return f"""
        {shared}
        SELECT {", ".join(f"e.{field}" for field in MEDIA_FIELDS)},
               o.display_name, o.first_name, o.last_name, o.username,
               CASE WHEN e.owner_id = %(user)s THEN 0 ELSE {permissions.held_bits_sql("e.id")} END,
               {permissions.module_on_sql()}, {counts}
        FROM ({" UNION ALL ".join(parts)}) page
        JOIN {entries} e ON e.id = page.id
        JOIN {people} o ON o.id = e.owner_id
        ORDER BY page.sort_key {direction}, page.id {direction}
        LIMIT %(limit)s OFFSET %(start)s
    """


def my_media_page(
    user: User,
    *,
    search: str = "",
    media_type: str = "",
    role: str = "",
    sort: str = "-updated",
    start: int = 0,
    stop: int = PAGE_SIZE,
) -> MediaPage:
    """Return rows start..stop of My Media with the user's roles on each, in one query.

    Hand-written: building and compiling the ORM's queries for this page cost several
    times what the database spends on them, on the page everyone opens first. The ids
    shared with the user are read once (`shared`); each part (owned, shared) gives its
    first `stop` matches; the query merges them and reads the page's rows, the user's
    roles on each (as bits) and, for a list without search or type filter, the counts.
    """
    role = role if role in ROLE_FILTERS else ""
    sort = sort if sort in SORTS else "-updated"
    words = search.split()
    filtered = bool(words or media_type)
    params: dict[str, object] = {
        "user": user.pk,
        "part_limit": stop + 1,
        "limit": stop - start + 1,
        "start": start,
        "type": media_type,
        **permissions.MODULE_ON_PARAMS,
    }
    wanted = ROLE_FILTERS.get(role, ())
    if wanted != (Role.OWNER,):  # the owner holds no permission: their part has no names
        for index, held in enumerate(wanted):
            params[f"codename{index}"] = permissions.ROLE_CODENAMES[held]
    for index, word in enumerate(words):
        params[f"word{index}"] = _word_param(word)
    with connection.cursor() as cursor:
        cursor.execute(_my_media_sql(role, sort, bool(media_type), len(words)), params)
        found = cursor.fetchall()
    has_more = len(found) > stop - start
    found = found[: stop - start]
    rows = []
    for *fields, display_name, first_name, last_name, username, held, module_on, _, _ in found:
        entry = MediaEntry.from_db(connection.alias, MEDIA_FIELDS, fields)
        entry.updated_at = as_aware(entry.updated_at)
        if entry.owner_id == user.pk:
            roles, owner_name = frozenset({Role.OWNER}), ""
        else:
            roles = permissions.roles_from_held(held, moderation_on=bool(module_on))
            owner_name = User.name_from(display_name, first_name, last_name, username)
        rows.append(MediaRow(entry=entry, access=Access(entry, roles), owner_name=owner_name))
    owned_count, shared_count = found[0][-2:] if found else (None, None)
    if not (has_more or start):
        total: int | None = start + len(rows)
    elif filtered or owned_count is None:
        # Counting every match of a search means scanning them all: say "more" instead.
        total = None
    else:
        total = owned_count + shared_count
    return MediaPage(rows=rows, total=total, start=start, has_more=has_more)


# The Roles & permissions tab -------------------------------------------------------
# Read with hand-written queries: building and compiling them with the ORM would cost
# several times what running them does. The list pages by a cursor (where the last row
# loaded sorts) rather than by an offset, so that the rows a change adds, edits or removes
# in place on the page do not shift the next page.

ACCESS_PAGE_SIZE = 20
ACTIVITY_SIZE = 10
SUGGESTION_LIMIT = 8

# A row's place in the list: groups (0) before people (1), then by name, then by id.
Position = tuple[int, str, int]
LIST_START: Position = (-1, "", 0)
LIST_END: Position = (2, "", 0)
PRINCIPAL_KINDS = ("group", "user")  # by their number in the queries
USER_SEARCH_FIELDS = ("display_name", "first_name", "last_name", "username", "email")
# The user fields a row needs, in the model's field order (as Model.from_db takes them).
ROW_USER_FIELDS = ("id", "username", "first_name", "last_name", "email", "display_name")


@dataclass(frozen=True)
class AccessListState:
    """What the list on the page shows: its filters, and how far it has loaded.

    The page keeps it in hidden inputs (#access-more in edit_roles.html) that go with Load
    more and with each change made in a dialog, so that the answer to a change updates in
    place just the rows it touched.
    """

    search: str = ""
    role: str = ""
    pages: int = 1  # how many pages are loaded, for the Load more link's address
    after: Position = LIST_START  # the last row loaded; LIST_END once all are
    added: frozenset[str] = frozenset()  # rows a change put at the top that sort after `after`

    @property
    def filtered(self) -> bool:
        return bool(self.search or self.role)

    @property
    def wanted_bits(self) -> int:
        """Return the role bits of which a row needs one to be listed."""
        return permissions.role_bits(ROLE_FILTERS.get(self.role) or permissions.ROLE_CODENAMES)

    @property
    def after_text(self) -> str:
        kind, name, pk = self.after
        return f"{kind}:{pk}:{name}"

    @staticmethod
    def parse_after(text: str) -> Position:
        """Return the cursor that `after_text` wrote; the list's end if there is none.

        The end, as a page that does not say how far its list goes is taken to show all of
        it: a change then replaces its rows rather than adding them again.
        """
        kind, _, rest = text.partition(":")
        pk, _, name = rest.partition(":")
        try:
            return (min(max(int(kind), -1), 2), name, int(pk))
        except ValueError:
            return LIST_END


@dataclass(frozen=True)
class AccessRow:
    """A user or group with the roles granted to it on one entry."""

    kind: str  # "user" or "group"
    pk: int
    name: str
    detail: str  # the email or username; a group's member count
    initials: str
    avatar: str  # the avatar's style
    roles: tuple[Role, ...]
    position: Position

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.pk}"

    def as_context(
        self, *, viewer: User, roles_url: str, manageable: set[Role], moderation_on: bool
    ) -> dict[str, object]:
        """Return the row flattened for the template tag `access_rows` (mediaspace_tags)."""
        path = f"{roles_url}{self.kind}/{self.pk}/"
        return {
            "id": f"{self.kind}-{self.pk}",
            "name": self.name,
            "detail": self.detail,
            "initials": self.initials,
            "avatar": self.avatar,
            "is_you": self.kind == "user" and self.pk == viewer.pk,
            "badges": [BADGES[role, moderation_on] for role in self.roles],
            "edit_url": f"{path}edit/" if manageable else "",
            "remove_url": f"{path}remove/" if manageable.intersection(self.roles) else "",
        }


# Each role's badge (label and style) in the list, with the module switched on and off.
BADGES = {
    (role, on): (
        role.label + ("" if on or not role.is_moderator else " (inactive)"),
        "badge-collaborator"
        if not role.is_moderator
        else ("badge-moderator" if on else "badge-inactive"),
    )
    for role in permissions.ROLE_CODENAMES
    for on in (True, False)
}


@dataclass(frozen=True)
class AccessPage:
    """Rows of the list, with its counts and the list's state once they are shown."""

    rows: list[AccessRow]
    users: int
    groups: int
    remaining: int  # rows that match and are not shown yet
    state: AccessListState

    @property
    def total(self) -> int:
        return self.users + self.groups

    @property
    def shown(self) -> int:
        return self.total - self.remaining

    @property
    def has_more(self) -> bool:
        return self.remaining > 0


@dataclass(frozen=True)
class AccessUpdate:
    """How the list on the page changes with a change of grants: row by row, in place."""

    replaced: list[AccessRow]  # rows the page shows, as they are now
    inserted: list[AccessRow]  # rows to show at the top of the list
    removed: list[AccessRow]  # rows to take away
    page: AccessPage  # the new counts and state of the list (no rows)


def access_page(
    entry: MediaEntry, state: AccessListState, *, size: int = ACCESS_PAGE_SIZE
) -> AccessPage:
    """Return the `size` rows after `state.after` that the list shows: groups, then people.

    One query however many grants there are: the page's users and groups with their roles
    and member counts, how many users and groups match, and how many are left after the
    page. Rows put at the top of the list already (`state.added`) are left out.
    """
    added = _added_ids(state)
    params = _list_params(entry, state, added) | {"limit": size}
    with connection.cursor() as cursor:
        cursor.execute(_access_page_sql(*_list_shape(state, added)), params)
        found = cursor.fetchall()
    rows = [_access_row(row[:9], members=row[12]) for row in found]
    total, users, later = found[0][9:12] if found else (0, 0, 0)
    remaining = later - len(rows)
    return AccessPage(
        rows=rows,
        users=users,
        groups=total - users,
        remaining=remaining,
        state=replace(state, after=rows[-1].position if remaining > 0 else LIST_END),
    )


def access_count(entry: MediaEntry, state: AccessListState) -> AccessPage:
    """Return the list's counts for a page whose list is as `state` says (no rows)."""
    added = _added_ids(state)
    with connection.cursor() as cursor:
        cursor.execute(
            _access_count_sql(*_list_shape(state, added)),
            _list_params(entry, state, added),
        )
        total, users, later = cursor.fetchone()
    return AccessPage(rows=[], users=users, groups=total - users, remaining=later, state=state)


def access_update(
    entry: MediaEntry, state: AccessListState, changes: Iterable[AccessChange]
) -> AccessUpdate:
    """Return how the list the page shows (`state`) changes with these changes of grants.

    A row the page shows is replaced, or taken away once it no longer matches the list's
    filters; a row it does not show that matches now goes at the top of the list, and the
    state notes it if Load more would otherwise bring it again. Two queries.
    """
    before = {
        _changed_key(change): permissions.role_bits(Role(role) for role in change.before)
        for change in changes
    }
    wanted = state.wanted_bits
    added = set(state.added)
    replaced, inserted, removed = [], [], []
    for key, (row, matches, later) in _changed_rows(entry, state, list(before)).items():
        shown = matches and bool(before[key] & wanted) and (not later or row.key in added)
        listed = matches and bool(permissions.role_bits(row.roles) & wanted)
        if shown and listed:
            replaced.append(row)
        elif shown:
            removed.append(row)
            added.discard(row.key)
        elif listed:
            inserted.append(row)
            if later:
                added.add(row.key)
    page = access_count(entry, replace(state, added=frozenset(added)))
    return AccessUpdate(replaced=replaced, inserted=inserted, removed=removed, page=page)


def _changed_key(change: AccessChange) -> tuple[str, int]:
    if change.group_id is not None:
        return ("group", change.group_id)
    return ("user", change.user_id)


def _changed_rows(
    entry: MediaEntry, state: AccessListState, keys: list[tuple[str, int]]
) -> dict[tuple[str, int], tuple[AccessRow, bool, bool]]:
    """Return these users' and groups' rows as they are now, in the list's order.

    With each row: whether it matches the list's search, and whether it sorts after the
    last row the page has loaded.
    """
    ids = [[pk for kind, pk in keys if kind == name] for name in PRINCIPAL_KINDS]
    params = _list_params(entry, state, ([], []))
    for name, pks in zip(PRINCIPAL_KINDS, ids, strict=True):
        params |= {f"{name}{index}": pk for index, pk in enumerate(pks)}
    with connection.cursor() as cursor:
        cursor.execute(_changed_rows_sql(len(state.search.split()), *map(len, ids)), params)
        found = cursor.fetchall()
    return {
        (PRINCIPAL_KINDS[row[0]], row[1]): (
            _access_row(row[:9], members=row[11]),
            bool(row[9]),
            bool(row[10]),
        )
        for row in found
    }


def _access_row(columns: tuple, *, members: int) -> AccessRow:
    """Return a row from a group's or user's columns, as the queries below read them."""
    kind, pk, name, display_name, first_name, last_name, email, sort_name, roles = columns
    if kind == 0:
        return AccessRow(
            kind="group",
            pk=pk,
            name=name,
            detail=f"Group · {members} member{pluralize(members)}",
            initials=name[:1].upper(),
            avatar="avatar-group",
            roles=permissions.roles_from_bits(roles),
            position=(kind, sort_name, pk),
        )
    user = User.from_db(
        connection.alias,
        ROW_USER_FIELDS,
        (pk, name, first_name, last_name, email, display_name),
    )
    return AccessRow(
        kind="user",
        pk=pk,
        name=user.name,
        detail=email or name,
        initials=user.initials,
        avatar=f"avatar-tone-{user.avatar_tone}",
        roles=permissions.roles_from_bits(roles),
        position=(kind, sort_name, pk),
    )


def _added_ids(state: AccessListState) -> tuple[list[int], list[int]]:
    """Return the ids of the groups and of the users in `state.added`."""
    ids: dict[str, list[int]] = {name: [] for name in PRINCIPAL_KINDS}
    for key in sorted(state.added):
        kind, _, pk = key.partition(":")
        ids[kind].append(int(pk))
    return ids["group"], ids["user"]


def _list_shape(
    state: AccessListState, added: tuple[list[int], list[int]]
) -> tuple[int, bool, int, int]:
    """Return what the list's SQL depends on: search words, role filter, rows added."""
    return len(state.search.split()), bool(state.role), len(added[0]), len(added[1])


def _list_params(
    entry: MediaEntry, state: AccessListState, added: tuple[list[int], list[int]]
) -> dict[str, object]:
    """Return the parameters of `_listed_sql` and `_after_sql`."""
    kind, name, pk = state.after
    params: dict[str, object] = {
        "entry": entry.pk,
        "wanted": state.wanted_bits,
        "after_kind": kind,
        "after_name": name,
        "after_id": pk,
    }
    for index, word in enumerate(state.search.split()):
        params[f"word{index}"] = _word_param(word)
    for kind_name, ids in zip(PRINCIPAL_KINDS, added, strict=True):
        params |= {f"added_{kind_name}{index}": pk for index, pk in enumerate(ids)}
    return params


def _search_sql(kind: int, words: int) -> str:
    """Return SQL for a group (`g`) or user (`u`) matching every search word; "" for none."""
    if kind == 0:
        return "".join(f" AND {_contains_sql('g.name', word)}" for word in range(words))
    return "".join(
        " AND (" + " OR ".join(_contains_sql(f"u.{f}", word) for f in USER_SEARCH_FIELDS) + ")"
        for word in range(words)
    )


@cache
def _roles_sql(kind: int, holder: str) -> str:
    """Return SQL for the role bits the group (kind 0) or user (1) `holder` has on the entry.

    Guardian keeps one row per holder, permission and entry: the sum of the bits is the set.
    """
    column = PRINCIPAL_KINDS[kind] + "_id"
    grants = " UNION ALL ".join(
        f"SELECT h.permission_id FROM {quoted_table(model)} h"
        f" WHERE h.content_object_id = %(entry)s AND h.{column} = {holder}"
        for model, is_group in permissions.ROLE_TABLES
        if is_group == (kind == 0)
    )
    return (
        f"(SELECT COALESCE(SUM({permissions.role_bit_sql('p.codename')}), 0)"
        f" FROM ({grants}) h JOIN {quoted_table(Permission)} p ON p.id = h.permission_id)"
    )


# The sort keys, as in the list: a group by its name, a person by the name they go by.
GROUP_SORT_SQL = "LOWER(g.name)"
USER_SORT_SQL = "LOWER(COALESCE(NULLIF(u.display_name, ''), u.username))"


@cache
def _holder_ids_sql(kind: int, by_role: bool) -> str:
    """Return SQL for the `id` of each group (kind 0) or user (1) holding a role on the
    entry `%(entry)s` (with `by_role`, one of the roles `%(wanted)s`): some maybe twice."""
    wanted = ""
    if by_role:
        bit = permissions.role_bit_sql("p.codename")
        wanted = (
            f" AND h.permission_id IN"
            f" (SELECT p.id FROM {quoted_table(Permission)} p WHERE ({bit} & %(wanted)s) <> 0)"
        )
    column = PRINCIPAL_KINDS[kind] + "_id"
    return " UNION ALL ".join(
        f"SELECT h.{column} AS id FROM {quoted_table(model)} h"
        f" WHERE h.content_object_id = %(entry)s{wanted}"
        for model, is_group in permissions.ROLE_TABLES
        if is_group == (kind == 0)
    )


@cache
def _holders_sql(by_role: bool) -> str:
    """Return the CTE `holders`: the (kind, id) of each group (0) and user (1) holding a role
    on the entry (see `_holder_ids_sql`), each once."""
    return (
        f"WITH holders (kind, id) AS (SELECT 0, g.id FROM ({_holder_ids_sql(0, by_role)}) g"
        f" UNION SELECT 1, u.id FROM ({_holder_ids_sql(1, by_role)}) u)"
    )


@lru_cache(maxsize=SQL_SHAPES)
def _listed_sql(words: int, by_role: bool) -> str:
    """Return the CTE `listed`: the users and groups the list shows, unsorted.

    That is the holders of a role (see `_holder_ids_sql`) whose names contain each search
    word `%(word0)s`, `%(word1)s`..., with their sort keys. Only that: the rest of a row is
    read for the page's rows. Materialized, as the list reads it twice (its page and its
    counts) and SQLite would otherwise push conditions into it.
    """
    return f"""
        WITH listed (kind, id, sort_name) AS MATERIALIZED (
            SELECT 0, g.id, {GROUP_SORT_SQL} FROM {quoted_table(Group)} g
            WHERE g.id IN ({_holder_ids_sql(0, by_role)}){_search_sql(0, words)}
            UNION ALL
            SELECT 1, u.id, {USER_SORT_SQL} FROM {quoted_table(User)} u
            WHERE u.id IN ({_holder_ids_sql(1, by_role)}){_search_sql(1, words)}
        )"""


def _after_sql(added_groups: int, added_users: int, sort_name: str = "sort_name") -> str:
    """Return SQL for a row (kind, id, `sort_name`) after the cursor and not among `added`.

    The sort key is compared only for rows of the cursor's kind: `_access_count_sql` gives
    a subquery for it, which then runs for those rows only.
    """
    sql = (
        "(kind > %(after_kind)s OR kind = %(after_kind)s"
        f" AND ({sort_name}, id) > (%(after_name)s, %(after_id)s))"
    )
    for number, count in enumerate((added_groups, added_users)):
        if count:
            ids = ", ".join(f"%(added_{PRINCIPAL_KINDS[number]}{i})s" for i in range(count))
            sql += f" AND NOT (kind = {number} AND id IN ({ids}))"
    return sql


def _counts_sql(
    added_groups: int, added_users: int, rows: str = "listed", sort_name: str = "sort_name"
) -> str:
    """Return a SELECT of the list's counts: all its rows, its users, its rows still to load."""
    return f"""
        SELECT COUNT(*) AS total, COALESCE(SUM(kind), 0) AS users,
               COALESCE(SUM(CASE WHEN {_after_sql(added_groups, added_users, sort_name)}
                                 THEN 1 ELSE 0 END), 0) AS later
        FROM {rows}"""


@lru_cache(maxsize=SQL_SHAPES)
def _access_page_sql(words: int, by_role: bool, added_groups: int, added_users: int) -> str:
    """Return the query behind `access_page`: the page's rows, each with the list's counts.

    Names, roles and member counts are read for the page's rows only.
    """
    return f"""{_listed_sql(words, by_role)}
        SELECT page.kind, page.id, COALESCE(g.name, u.username), COALESCE(u.display_name, ''),
               COALESCE(u.first_name, ''), COALESCE(u.last_name, ''), COALESCE(u.email, ''),
               page.sort_name,
               CASE WHEN page.kind = 0 THEN {_roles_sql(0, "page.id")}
                    ELSE {_roles_sql(1, "page.id")} END,
               counts.total, counts.users, counts.later,
               CASE WHEN page.kind = 0 THEN (
                   SELECT COUNT(*) FROM {quoted_table(User.groups.through)} m
                   WHERE m.group_id = page.id
               ) ELSE 0 END
        FROM (
            SELECT * FROM listed
            WHERE {_after_sql(added_groups, added_users)}
            ORDER BY kind, sort_name, id
            LIMIT %(limit)s
        ) page
        LEFT JOIN {quoted_table(Group)} g ON page.kind = 0 AND g.id = page.id
        LEFT JOIN {quoted_table(User)} u ON page.kind = 1 AND u.id = page.id
        CROSS JOIN ({_counts_sql(added_groups, added_users)}) counts
        ORDER BY page.kind, page.sort_name, page.id
    """


@lru_cache(maxsize=SQL_SHAPES)
def _access_count_sql(words: int, by_role: bool, added_groups: int, added_users: int) -> str:
    """Return the query behind `access_count`.

    With no search, the counts need no names: they come from `holders`, and a row's sort
    key is read only to compare it with the cursor's.
    """
    if words:
        return _listed_sql(words, by_role) + _counts_sql(added_groups, added_users)
    sort_name = (
        f"CASE kind WHEN 0 THEN (SELECT {GROUP_SORT_SQL} FROM {quoted_table(Group)} g"
        f" WHERE g.id = holders.id) ELSE (SELECT {USER_SORT_SQL} FROM {quoted_table(User)} u"
        f" WHERE u.id = holders.id) END"
    )
    return _holders_sql(by_role) + _counts_sql(added_groups, added_users, "holders", sort_name)


@lru_cache(maxsize=SQL_SHAPES)
def _changed_rows_sql(words: int, groups: int, users: int) -> str:
    """Return the query behind `_changed_rows`, for so many groups and users.

    Read from the group and user tables, so that those left with no role come too.
    """
    after = "(%(after_kind)s, %(after_name)s, %(after_id)s)"
    parts = []
    if groups:
        ids = ", ".join(f"%(group{index})s" for index in range(groups))
        parts.append(f"""
            SELECT 0, g.id, g.name, '', '', '', '', {GROUP_SORT_SQL}, {_roles_sql(0, "g.id")},
                   CASE WHEN 1 = 1{_search_sql(0, words)} THEN 1 ELSE 0 END,
                   CASE WHEN (0, {GROUP_SORT_SQL}, g.id) > {after} THEN 1 ELSE 0 END,
                   (SELECT COUNT(*) FROM {quoted_table(User.groups.through)} m
                    WHERE m.group_id = g.id)
            FROM {quoted_table(Group)} g
            WHERE g.id IN ({ids})""")
    if users:
        ids = ", ".join(f"%(user{index})s" for index in range(users))
        parts.append(f"""
            SELECT 1, u.id, u.username, u.display_name, u.first_name, u.last_name, u.email,
                   {USER_SORT_SQL}, {_roles_sql(1, "u.id")},
                   CASE WHEN 1 = 1{_search_sql(1, words)} THEN 1 ELSE 0 END,
                   CASE WHEN (1, {USER_SORT_SQL}, u.id) > {after} THEN 1 ELSE 0 END,
                   0
            FROM {quoted_table(User)} u
            WHERE u.id IN ({ids})""")
    return "\n            UNION ALL".join(parts) + "\n            ORDER BY 1, 8, 2"


# Activity ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityItem:
    """One grant, change or removal in the Activity list."""

    actor: str
    principal_name: str
    before: list[str]
    after: list[str]
    created_at: datetime

    @classmethod
    def of(cls, change: AccessChange, actor: str) -> ActivityItem:
        """Return the item for an audit record, its actor named `actor`."""
        return cls(
            actor=actor,
            principal_name=change.principal_name,
            before=change.before,
            after=change.after,
            created_at=change.created_at,
        )

    def as_context(self, now: datetime, zone: tzinfo) -> dict[str, object]:
        """Return the item flattened for the template, its time as of `now` in `zone`."""
        created = localtime(self.created_at, zone)
        return {
            "actor": self.actor,
            "principal_name": self.principal_name,
            "before": ", ".join(ROLE_LABELS[role] for role in self.before),
            "after": ", ".join(ROLE_LABELS[role] for role in self.after),
            "iso": created.isoformat(),
            # The tooltip, as My Media dates read, with the time.
            "title": f"{created:%b} {created.day}, {created.year}, {created:%H:%M}",
            "ago": timesince(created, now),
        }


def activity_contexts(items: Iterable[ActivityItem]) -> list[dict[str, object]]:
    """Return the Activity items flattened for the template, as of now."""
    now, zone = timezone.now(), timezone.get_current_timezone()
    return [item.as_context(now, zone) for item in items]


def access_activity(entry: MediaEntry, limit: int = ACTIVITY_SIZE) -> list[ActivityItem]:
    """Return the latest grants, changes and removals on the entry, newest first."""
    with connection.cursor() as cursor:
        cursor.execute(_activity_sql(), [entry.pk, limit])
        found = cursor.fetchall()
    decode = AccessChange._meta.get_field("before").from_db_value
    actors: dict[int | None, str] = {None: ACTIVITY_NO_ACTOR}  # often one or two people
    items = []
    for name, before, after, created_at, *actor in found:
        if actor[0] not in actors:
            actors[actor[0]] = User.from_db(connection.alias, ACTIVITY_ACTOR_FIELDS, actor).name
        items.append(
            ActivityItem(
                actor=actors[actor[0]],
                principal_name=name,
                before=decode(before, None, connection),
                after=decode(after, None, connection),
                created_at=as_aware(created_at),
            )
        )
    return items


def access_activity_before(change: AccessChange) -> bool:
    """Return whether the entry's Activity lists anything older than this change."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {quoted_table(AccessChange)} WHERE entry_id = %s AND id < %s LIMIT 1",
            [change.entry_id, change.pk],
        )
        return cursor.fetchone() is not None


ACTIVITY_NO_ACTOR = "An operator"
# The actor's fields the Activity list needs, in the model's field order.
ACTIVITY_ACTOR_FIELDS = ("id", "username", "first_name", "last_name", "display_name")


@cache
def _activity_sql() -> str:
    """Return the query behind `access_activity`."""
    columns = ", ".join(f"a.{name}" for name in ACTIVITY_ACTOR_FIELDS)
    return f"""
        SELECT c.principal_name, c.before, c.after, c.created_at, {columns}
        FROM {quoted_table(AccessChange)} c
        LEFT JOIN {quoted_table(User)} a ON a.id = c.actor_id
        WHERE c.entry_id = %s
        ORDER BY c.created_at DESC, c.id DESC
        LIMIT %s
    """


@dataclass(frozen=True)
class Suggestion:
    """A user or group the Select users combobox offers, and what it holds on the entry."""

    kind: str
    pk: int
    label: str
    detail: str
    holds: tuple[Role, ...]

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.pk}"


# The user fields a suggestion shows, in the model's field order (as Model.from_db takes them).
SUGGESTION_USER_FIELDS = tuple(
    field.attname
    for field in User._meta.concrete_fields
    if field.attname in ("id", "username", "display_name", "first_name", "last_name", "email")
)
# The guardian tables that say what a user or group holds on an entry: collaborator
# permissions (on the entry) and moderator permissions (on its room).
HELD_ROLE_TABLES = (
    (MediaEntryUserObjectPermission, "user"),
    (MediaEntryGroupObjectPermission, "group"),
    (RoomUserObjectPermission, "user"),
    (RoomGroupObjectPermission, "group"),
)


def _prefix_range(word: str) -> tuple[str, str]:
    """Return the bounds of the keys that start with the word, for a walk of the index."""
    return word, word[:-1] + chr(ord(word[-1]) + 1)


def principals_suggest(
    entry: MediaEntry, query: str, *, limit: int = SUGGESTION_LIMIT
) -> list[Suggestion]:
    """Return users (by the start of any of their names) and groups matching the query.

    Inactive users and the owner are left out; each suggestion says what it holds already.
    Three hand-written queries (people, groups, what they hold): the combobox asks on each
    keystroke, and building and compiling the ORM's queries costs several times what
    running them does.
    """
    words = search_words(query)
    if not words or len("".join(words)) < 2:
        return []
    users = _suggested_users(entry, words, limit)
    groups = _suggested_groups(query.split(), max(3, limit // 2))
    held = _held_roles(entry, [user.pk for user in users], [pk for pk, _, _ in groups])
    suggestions = [
        Suggestion(
            kind="group",
            pk=pk,
            label=name,
            detail=f"Group · {members} member{pluralize(members)}",
            holds=tuple(permissions.sorted_roles(held.get(("group", pk), ()))),
        )
        for pk, name, members in groups
    ] + [
        Suggestion(
            kind="user",
            pk=user.pk,
            label=user.name,
            detail=user.email or user.username,
            holds=tuple(permissions.sorted_roles(held.get(("user", user.pk), ()))),
        )
        for user in users
    ]
    return suggestions[:limit]


def _suggested_users(entry: MediaEntry, words: list[str], limit: int) -> list[User]:
    """Return the first active users, other than the owner, with a name starting each word.

    The query walks the name-key index in order from the longest word and stops early: the
    first matches alphabetically by the word that matched, with no sort over everyone whose
    name starts so. A user found by several of their keys comes once.
    """
    longest = max(words, key=len)
    others = [word for word in words if word != longest]
    # search_words leaves no LIKE wildcards in a word: the pattern needs no escaping.
    params: list[object] = [*_prefix_range(longest), f"{longest}%", True, entry.owner_id]
    for word in others:
        params += _prefix_range(word)
    with connection.cursor() as cursor:
        cursor.execute(_suggested_users_sql(len(others)), [*params, limit * 3])
        rows = cursor.fetchall()
    # A user found by several keys gives identical rows: keep the first.
    return [
        User.from_db(connection.alias, SUGGESTION_USER_FIELDS, row)
        for row in list(dict.fromkeys(rows))[:limit]
    ]


@cache
def _suggested_users_sql(other_words: int) -> str:
    """Return the query behind `_suggested_users`, for so many words besides the longest."""
    key, user = quoted_table(NameKey), quoted_table(User)
    columns = ", ".join(f"u.{name}" for name in SUGGESTION_USER_FIELDS)
    also = f"""
          AND EXISTS (SELECT 1 FROM {key} other WHERE other.user_id = k.user_id
                      AND other.key >= %s AND other.key < %s)"""
    return f"""
        SELECT {columns}
        FROM {key} k
        JOIN {user} u ON u.id = k.user_id
        WHERE k.key >= %s AND k.key < %s AND k.key LIKE %s
          AND u.is_active = %s AND u.id <> %s{also * other_words}
        ORDER BY k.key, k.user_id
        LIMIT %s
    """


def _suggested_groups(words: list[str], limit: int) -> list[tuple[int, str, int]]:
    """Return the id, name and member count of the first groups whose name has each word."""
    patterns = [f"%{connection.ops.prep_for_like_query(word)}%" for word in words]
    with connection.cursor() as cursor:
        cursor.execute(_suggested_groups_sql(len(words)), [*patterns, limit])
        return cursor.fetchall()


@cache
def _suggested_groups_sql(words: int) -> str:
    """Return the query behind `_suggested_groups`, for a query of so many words."""
    # Each word as `icontains` would match it, on this database.
    name = connection.ops.lookup_cast("icontains", "CharField") % "g.name"
    contains = f"{name} {connection.operators['icontains'] % '%s'}"
    return f"""
        SELECT g.id, g.name,
               (SELECT COUNT(*) FROM {quoted_table(User.groups.through)} m WHERE m.group_id = g.id)
        FROM {quoted_table(Group)} g
        WHERE {" AND ".join([contains] * words)}
        ORDER BY LOWER(g.name)
        LIMIT %s
    """


def _held_roles(
    entry: MediaEntry, user_ids: list[int], group_ids: list[int]
) -> dict[tuple[str, int], set[Role]]:
    """Return what these users and groups hold on the entry already, in one query."""
    if not user_ids and not group_ids:
        return {}
    ids = {"user": user_ids, "group": group_ids}
    params: list[int] = []
    for _, kind in HELD_ROLE_TABLES:
        if ids[kind]:
            params += [entry.pk, *ids[kind]]
    with connection.cursor() as cursor:
        cursor.execute(_held_roles_sql(len(user_ids), len(group_ids)), params)
        rows = cursor.fetchall()
    held: dict[tuple[str, int], set[Role]] = defaultdict(set)
    for kind, principal_id, codename in rows:
        held[(kind, principal_id)].add(permissions.CODENAME_ROLES[codename])
    return held


@cache
def _held_roles_sql(users: int, groups: int) -> str:
    """Return the query behind `_held_roles`, for so many users and groups."""
    ids = {"user": ", ".join(["%s"] * users), "group": ", ".join(["%s"] * groups)}
    parts = [
        f"""
        SELECT '{kind}', held.{kind}_id, p.codename
        FROM {quoted_table(model)} held
        JOIN {quoted_table(Permission)} p ON p.id = held.permission_id
        WHERE held.content_object_id = %s AND held.{kind}_id IN ({ids[kind]})"""
        for model, kind in HELD_ROLE_TABLES
        if ids[kind]
    ]
    return "\n        UNION ALL".join(parts)
