"""Reads that span relations: My Media, the Roles & permissions tab, suggestions.

Who holds what comes from the access rule's read model (mediaspace.access); this module
shapes it into the lists' rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from dataclasses import field as default
from datetime import datetime, timedelta

from django.contrib.auth.models import Group
from django.db.models import Count, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from accounts.models import User, search_words
from mediaspace import access, permissions, terms
from mediaspace.models import AccessChange, MediaEntry
from mediaspace.permissions import Access, Role

PAGE_SIZE = 20

ROLE_FILTERS: dict[str, tuple[Role, ...]] = {
    "owner": (Role.OWNER,),
    "co-editor": (Role.CO_EDITOR,),
    "co-publisher": (Role.CO_PUBLISHER,),
    "co-viewer": (Role.CO_VIEWER,),
    "moderator": permissions.MODERATOR_ROLES,
}
# The Roles & permissions tab's permission filter: each granted role on its own ("moderator"
# stays understood, for addresses saved before the two were apart).
ACCESS_ROLE_FILTERS: dict[str, tuple[Role, ...]] = {
    role: roles for role, roles in ROLE_FILTERS.items() if role != "owner"
} | {
    "room-moderator": (Role.ROOM_MODERATOR,),
    "chat-moderator": (Role.CHAT_MODERATOR,),
}
SORTS = tuple(access.SORTS)


def search_terms(text: str) -> list[str]:
    """Return the words a search box's text asks for (at most access.SEARCH_WORDS).

    NUL characters are dropped: no database stores them, and PostgreSQL refuses them.
    """
    return text.replace("\x00", "").split()[: access.SEARCH_WORDS]


@dataclass(frozen=True)
class MediaRow:
    """One row of My Media: the entry and what the user may do with it."""

    entry: MediaEntry
    access: Access
    owner_name: str  # empty on the user's own entries

    @property
    def actions(self) -> str:
        """Return what the row's ⋮ menu offers besides View (static/mediaspace/app.js)."""
        allowed = (
            ("edit", self.access.can_edit),
            ("publish", self.access.can_publish),
            ("delete", self.access.can_delete),
        )
        return " ".join(action for action, may in allowed if may)


@dataclass(frozen=True)
class MediaPage:
    rows: list[MediaRow]
    total: int | None  # None: not counted (a search with more to load, or past the cap)
    start: int
    has_more: bool
    at_least: int | None = None  # when there are more than the count's cap: the cap

    @property
    def shown(self) -> int:
        """Return how many rows the page shows counting the earlier pages."""
        return self.start + len(self.rows)


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
    """Return rows start..stop of My Media: the entries the user holds a role on.

    One query (access.my_media): the page's rows with the user's roles on each, and for a
    list without search or filters, how many entries it holds.
    """
    role = role if role in ROLE_FILTERS else ""
    sort = sort if sort in access.SORTS else "-updated"
    words = search_terms(search)
    found = access.my_media(
        user,
        wanted=ROLE_FILTERS.get(role),
        sort=sort,
        media_type=media_type,
        words=words,
        start=start,
        stop=stop + 1,
    )
    has_more = len(found.rows) > stop - start
    rows = []
    for listed in found.rows[: stop - start]:
        entry = listed.entry
        owner_name = "" if entry.owner_id == user.pk else User.name_from(*listed.owner_names)
        found_access = Access(entry, listed.roles, found.module_on)
        rows.append(MediaRow(entry=entry, access=found_access, owner_name=owner_name))
    total: int | None = None
    at_least = None
    if not (has_more or start):
        total = start + len(rows)
    elif found.listed is not None:
        if found.listed > access.MY_MEDIA_COUNT_CAP:
            at_least = access.MY_MEDIA_COUNT_CAP
        else:
            total = found.listed
    return MediaPage(rows=rows, total=total, start=start, has_more=has_more, at_least=at_least)


# The Roles & permissions tab -------------------------------------------------------
# The list pages by a cursor (where the last row loaded sorts) rather than by an offset,
# so that the rows a change adds, edits or removes in place on the page do not shift the
# next page.

ACCESS_PAGE_SIZE = 20
ACTIVITY_SIZE = 10
SUGGESTION_LIMIT = 8

# A row's place in the list: groups (0) before people (1), then by name key, then by the
# group's or person's id (access.Holder.position).
Position = tuple[int, str, int]
LIST_START: Position = (-1, "", 0)
LIST_END: Position = (2, "", 0)
CURSOR = re.compile(r"(-1|0|1|2):([0-9]{1,18}):(.*)", re.DOTALL)


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
    def wanted(self) -> tuple[Role, ...] | None:
        """Return the roles of which a row needs one to be listed; None for any."""
        return ACCESS_ROLE_FILTERS.get(self.role)

    @property
    def wanted_bits(self) -> int:
        wanted = self.wanted
        return access.GRANTED_BITS & (access.bits_of(wanted) if wanted else access.ALL_BITS)

    @property
    def words(self) -> list[str]:
        return search_terms(self.search)

    @property
    def after_text(self) -> str:
        kind, key, row_id = self.after
        return f"{kind}:{row_id}:{key}"

    @staticmethod
    def parse_after(text: str) -> Position:
        """Return the cursor that `after_text` wrote; the list's end if there is none.

        The end, as a page that does not say how far its list goes is taken to show all of
        it: a change then replaces its rows rather than adding them again.
        """
        found = CURSOR.fullmatch(text.replace("\x00", ""))
        if found is None:
            return LIST_END
        kind, row_id, key = found.groups()
        return (int(kind), key[:150], int(row_id))


def owner_listed(entry: MediaEntry, state: AccessListState) -> bool:
    """Whether the owner's row belongs in the list: no permission filter (the owner holds
    Owner alone, which the filters do not offer), and every word of the search in their
    names, username or email, ignoring case, as the other rows match (USER_TEXT)."""
    if state.role:
        return False
    owner = entry.owner
    text = " ".join(
        (owner.display_name, owner.first_name, owner.last_name, owner.username, owner.email)
    ).casefold()
    return all(word.casefold() in text for word in state.words)


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
    ends: Mapping[Role, datetime | access.Until] = default(default_factory=dict)  # that end

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.pk}"

    @property
    def dom_id(self) -> str:
        return f"{self.kind}-{self.pk}"


@dataclass(frozen=True)
class AccessPage:
    """Rows of the list, with its counts and the list's state once they are shown."""

    rows: list[AccessRow]
    users: int  # listed (the filters'), the owner aside
    groups: int
    remaining: int  # rows that match and are not shown yet
    state: AccessListState
    all_users: int = 0  # granted anything, the owner aside
    all_groups: int = 0
    owner_listed: bool = True  # the owner's row matches the list's filters

    @property
    def total(self) -> int:
        return self.users + self.groups

    @property
    def listed(self) -> int:
        """Return how many users and groups the list holds, the owner's row included."""
        return self.total + self.owner_listed

    @property
    def with_access(self) -> int:
        """Return how many users and groups have access, the owner included."""
        return self.all_users + self.all_groups + 1

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


def members_label(members: int) -> str:
    return f"Group · {members} member{'' if members == 1 else 's'}"


def _row(holder: access.Holder) -> AccessRow:
    if holder.kind == "group":
        return AccessRow(
            kind="group",
            pk=holder.pk,
            name=holder.name,
            detail=members_label(holder.members),
            initials=holder.name[:1].upper(),
            avatar="avatar-group",
            roles=holder.roles,
            position=holder.position,
            ends=holder.ends,
        )
    user = User(
        pk=holder.pk,
        username=holder.name,
        display_name=holder.display_name,
        first_name=holder.first_name,
        last_name=holder.last_name,
        email=holder.email,
    )
    return AccessRow(
        kind="user",
        pk=holder.pk,
        name=user.name,
        detail=holder.email or holder.name,
        initials=user.initials,
        avatar=f"avatar-tone-{user.avatar_tone}",
        roles=holder.roles,
        position=holder.position,
        ends=holder.ends,
    )


def _added_keys(state: AccessListState) -> list[tuple[str, int]]:
    return [(kind, int(pk)) for kind, _, pk in (key.partition(":") for key in state.added)]


def _later_added(
    state: AccessListState, positions: dict[tuple[str, int], tuple[Position, int]]
) -> int:
    """Return how many of the rows a change put at the top sort after the cursor."""
    return sum(
        1
        for key in _added_keys(state)
        if key in positions
        and positions[key][0] > state.after
        and positions[key][1] & state.wanted_bits
    )


def access_page(
    entry: MediaEntry, state: AccessListState, *, size: int = ACCESS_PAGE_SIZE
) -> AccessPage:
    """Return the `size` rows after `state.after` that the list shows: groups, then people.

    One query however many grants there are: the page's users and groups with their
    roles and member counts, how many users and groups match, and how many come after
    the cursor. Rows put at the top of the list already (`state.added`) are left out.
    """
    holders, counts = access.holders_page(
        entry,
        after=state.after,
        limit=size + len(state.added),
        wanted=state.wanted,
        words=state.words,
    )
    rows = [_row(holder) for holder in holders]
    rows = [row for row in rows if row.key not in state.added][:size]
    later = counts.later
    if state.added:
        later -= _later_added(state, access.holder_positions(entry, _added_keys(state)))
    remaining = later - len(rows)
    return AccessPage(
        rows=rows,
        users=counts.users,
        groups=counts.groups,
        remaining=remaining,
        state=replace(state, after=rows[-1].position if remaining > 0 else LIST_END),
        all_users=counts.all_users,
        all_groups=counts.all_groups,
        owner_listed=owner_listed(entry, state),
    )


def access_count(
    entry: MediaEntry,
    state: AccessListState,
    positions: dict[tuple[str, int], tuple[Position, int]],
) -> AccessPage:
    """Return the list's counts for a page whose list is as `state` says (no rows).

    `positions` holds where the rows of `state.added` sort (access.holder_positions).
    """
    counts = access.holders_count(entry, after=state.after, wanted=state.wanted, words=state.words)
    return AccessPage(
        rows=[],
        users=counts.users,
        groups=counts.groups,
        remaining=counts.later - _later_added(state, positions),
        state=state,
        all_users=counts.all_users,
        all_groups=counts.all_groups,
        owner_listed=owner_listed(entry, state),
    )


def access_update(
    entry: MediaEntry, state: AccessListState, changes: Iterable[AccessChange]
) -> AccessUpdate:
    """Return how the list the page shows (`state`) changes with these changes of grants.

    A row the page shows is replaced, or taken away once it no longer matches the list's
    filters; a row it does not show that matches now goes at the top of the list, and the
    state notes it if Load more would otherwise bring it again. The rows come from the
    changes themselves (their principals, and the roles they left them with); the counts
    from one query.
    """
    wanted = state.wanted_bits
    added = set(state.added)
    positions = access.holder_positions(entry, _added_keys(state)) if state.added else {}
    replaced, inserted, removed = [], [], []
    for change, row, matches in _changed_rows(state, list(changes)):
        before = access.bits_of(Role(role) for role in change.before)
        later = row.position > state.after
        shown = matches and bool(before & wanted) and (not later or row.key in added)
        listed = matches and bool(access.bits_of(row.roles) & wanted)
        if shown and listed:
            replaced.append(row)
        elif shown:
            removed.append(row)
            added.discard(row.key)
        elif listed:
            inserted.append(row)
            if later:
                added.add(row.key)
        positions[row.kind, row.pk] = (row.position, access.bits_of(row.roles))
    page = access_count(entry, replace(state, added=frozenset(added)), positions)
    return AccessUpdate(replaced=replaced, inserted=inserted, removed=removed, page=page)


USER_SEARCH_FIELDS = ("display_name", "first_name", "last_name", "username", "email")


def _matching(queryset, fields: tuple[str, ...], words: list[str]):
    """Return the queryset narrowed to rows with every word in one of the fields."""
    for word in words:
        condition = Q()
        for field in fields:
            condition |= Q(**{f"{field}__icontains": word})
        queryset = queryset.filter(condition)
    return queryset


def _changed_rows(
    state: AccessListState, changes: list[AccessChange]
) -> list[tuple[AccessChange, AccessRow, bool]]:
    """Return each change with its user's or group's row as it left it, in the list's
    order, and whether the row matches the list's search.

    The changes carry their principals (as the services made them) and the roles they
    left them with; only groups' member counts, and a search, need a query.
    """
    groups = [change.group for change in changes if change.group is not None]
    users = [change.user for change in changes if change.group is None and change.user]
    members: dict[int, int] = {}
    if groups:
        counted = User.groups.through.objects.filter(group__in=groups).values("group_id")
        for counts in counted.annotate(members=Count("pk")):
            members[counts["group_id"]] = counts["members"]
    matching = {("user", user.pk) for user in users} | {("group", g.pk) for g in groups}
    if state.words:
        matching = {
            ("user", pk)
            for pk in _matching(
                User.objects.filter(pk__in=[user.pk for user in users]),
                USER_SEARCH_FIELDS,
                state.words,
            ).values_list("pk", flat=True)
        } | {
            ("group", pk)
            for pk in _matching(
                Group.objects.filter(pk__in=[group.pk for group in groups]),
                ("name",),
                state.words,
            ).values_list("pk", flat=True)
        }
    found = []
    for change in changes:
        principal = change.group if change.group is not None else change.user
        if principal is None:
            continue
        roles = tuple(Role(role) for role in change.after)
        ends = {Role(role): access.end_parse(end) for role, end in change.after_ends.items()}
        if isinstance(principal, Group):
            holder = access.Holder(
                kind="group",
                pk=principal.pk,
                roles=roles,
                position=(0, access.holder_key(principal), principal.pk),
                name=principal.name,
                members=members.get(principal.pk, 0),
                ends=ends,
            )
        else:
            holder = access.Holder(
                kind="user",
                pk=principal.pk,
                roles=roles,
                position=(1, access.holder_key(principal), principal.pk),
                name=principal.username,
                display_name=principal.display_name,
                first_name=principal.first_name,
                last_name=principal.last_name,
                email=principal.email,
                ends=ends,
            )
        row = _row(holder)
        found.append((change, row, (row.kind, row.pk) in matching))
    return sorted(found, key=lambda item: item[1].position)


# Activity ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityItem:
    """One grant, change or removal in the Activity list."""

    actor: str
    principal_name: str
    before: list[str]
    after: list[str]
    created_at: datetime
    reason: str = AccessChange.Reason.CHANGE
    before_ends: Mapping[str, str] = default(default_factory=dict)  # ISO 8601, by role
    after_ends: Mapping[str, str] = default(default_factory=dict)

    @classmethod
    def of(cls, change: AccessChange, actor: str) -> ActivityItem:
        """Return the item for an audit record, its actor named `actor`."""
        return cls(
            actor=actor,
            principal_name=change.principal_name,
            before=change.before,
            after=change.after,
            created_at=change.created_at,
            reason=change.reason,
            before_ends=change.before_ends,
            after_ends=change.after_ends,
        )

    @property
    def expired(self) -> bool:
        return self.reason == AccessChange.Reason.EXPIRED

    @staticmethod
    def _labels(roles: list[str], ends: Mapping[str, str]) -> str:
        return ", ".join(terms.role_label(role, ends) for role in roles)

    @property
    def before_labels(self) -> str:
        return self._labels(self.before, self.before_ends)

    @property
    def after_labels(self) -> str:
        return self._labels(self.after, self.after_ends)

    @property
    def lost_labels(self) -> str:
        """Return the roles the change took away (what expired)."""
        return ", ".join(Role(role).label for role in self.before if role not in self.after)


ACTIVITY_NO_ACTOR = "An operator"


def access_activity(entry: MediaEntry, limit: int = ACTIVITY_SIZE) -> list[ActivityItem]:
    """Return the latest grants, changes and removals on the entry, newest first."""
    return [
        ActivityItem(
            actor=item.actor or ACTIVITY_NO_ACTOR,
            principal_name=item.principal_name,
            before=item.before,
            after=item.after,
            created_at=item.created_at,
            reason=item.reason,
            before_ends=item.before_ends,
            after_ends=item.after_ends,
        )
        for item in access.activity(entry, limit)
    ]


# Suggestions ------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    """A user or group the Select users combobox offers, and what it holds on the entry."""

    kind: str
    pk: int
    label: str
    detail: str
    holds: tuple[Role, ...]
    unavailable: str = ""  # why it cannot be chosen (the owner), shown in its place

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.pk}"


OWNER_UNAVAILABLE = "Owner — already has full control"


def _prefix_range(word: str) -> tuple[str, str]:
    """Return the bounds of the keys that start with the word, for a walk of the index."""
    return word, word[:-1] + chr(min(ord(word[-1]) + 1, 0x10FFFF))


def principals_suggest(
    entry: MediaEntry, query: str, *, limit: int = SUGGESTION_LIMIT
) -> list[Suggestion]:
    """Return users and groups with a word of their names starting with each word.

    Inactive users are left out; each suggestion says what it holds already. The owner,
    when the words find them, comes first and cannot be chosen: they hold full control.
    Two queries (access.suggested_users, access.suggested_groups).
    """
    query = query.replace("\x00", "")
    words = search_words(query)[: access.SEARCH_WORDS]
    if not words or len("".join(words)) < 2:
        return []
    # The longest word first: its range is the one walked.
    ranges = [_prefix_range(word) for word in sorted(words, key=len, reverse=True)]
    users = access.suggested_users(entry, ranges, limit)
    groups = access.suggested_groups(entry, ranges, max(3, limit // 2))
    suggestions = [
        Suggestion(kind="group", pk=pk, label=name, detail=members_label(members), holds=holds)
        for pk, name, members, holds in groups
    ] + [
        Suggestion(
            kind="user",
            pk=user.pk,
            label=user.name,
            detail=user.email or user.username,
            holds=holds,
        )
        for user, holds in users
    ]
    owner = entry.owner
    owner_keys = owner.name_key_set()
    if all(any(key.startswith(word) for key in owner_keys) for word in words):
        found = Suggestion(
            kind="user",
            pk=owner.pk,
            label=owner.name,
            detail=owner.email or owner.username,
            holds=(Role.OWNER,),
            unavailable=OWNER_UNAVAILABLE,
        )
        suggestions.insert(0, found)
    return suggestions[:limit]


# Where access comes from ------------------------------------------------------------


@dataclass(frozen=True)
class Explanation:
    """What one person may do with an entry, and why: the Check access answer."""

    person: User
    why: access.Why
    sees: bool
    powers: list[str]


def powers_of(entry: MediaEntry, roles: frozenset[Role], module_on: bool) -> list[str]:
    """Return what these roles let someone do with the entry, in words."""
    found = Access(entry, roles, moderation_on=module_on)
    if found.is_owner:
        return ["everything: edit, publish, delete and manage who has access"]
    powers = []
    if found.can_edit:
        powers.append("edit the details and manage moderators")
    if found.can_publish:
        powers.append("change the publishing status")
    if entry.is_room and module_on:
        if found.is_host or Role.ROOM_MODERATOR in roles:
            powers.append("run the room: start, end, lock and remove people")
        if found.is_host or Role.CHAT_MODERATOR in roles:
            powers.append("moderate the chat")
    return powers


def explanation(entry: MediaEntry, person: User) -> Explanation:
    """Return what the person may do with the entry and every path it comes by (two
    queries, three when a path has ends)."""
    why = access.why(entry, person)
    return Explanation(
        person=person,
        why=why,
        sees=access.sees(why.roles, entry.status),
        powers=powers_of(entry, why.roles, why.module_on),
    )


def people_found(entry: MediaEntry, query: str) -> list[Suggestion]:
    """Return the people the Check access box finds: as Select users finds them, owner
    included, groups left out."""
    return [found for found in principals_suggest(entry, query) if found.kind == "user"]


MEMBERS_FOUND_LIMIT = 10


def members_through_groups(
    entry: MediaEntry, state: AccessListState
) -> list[tuple[User, list[tuple[int, str, tuple[Role, ...]]]]]:
    """Return the people a search of the tab finds who hold roles only through its groups,
    with the groups (up to MEMBERS_FOUND_LIMIT people; none unless searched)."""
    if not state.words:
        return []
    return access.members_found(
        entry, words=state.words, wanted=state.wanted, limit=MEMBERS_FOUND_LIMIT
    )


# Copy permissions from another entry ------------------------------------------------


@dataclass(frozen=True)
class CopyItem:
    """A user or group whose grants on the source the copy adds to the entry."""

    principal: User | Group
    roles: tuple[Role, ...]  # what the copy adds (never what the entry grants already)
    ends: Mapping[Role, datetime | access.Until]  # as on the source, for those that end

    @property
    def kind(self) -> str:
        return "group" if isinstance(self.principal, Group) else "user"


@dataclass(frozen=True)
class CopyPlan:
    """What copying a source's grants to an entry would add, and who it leaves out."""

    source: MediaEntry
    items: list[CopyItem]
    skipped: list[str]  # why someone on the source is left out, one line each


def copy_plan(
    entry: MediaEntry, source: MediaEntry, scope: Iterable[Role], *, module_on: bool
) -> CopyPlan:
    """Return what copying `source`'s grants within `scope` (the actor's manageable roles)
    to `entry` would add: roles the entry does not grant them yet, with the source's ends.
    Moderator roles go only to a room while the module is on; the entry's owner and
    inactive people are left out. A few queries, whatever the number of grants."""
    scope = set(scope)
    if not (entry.is_room and module_on):
        scope -= set(permissions.MODERATOR_ROLES)
    held = access.holders_of(source, scope)
    users = User.objects.in_bulk([pk for kind, pk in held if kind == "user"])
    groups = Group.objects.in_bulk([pk for kind, pk in held if kind == "group"])
    current = access.holders_roles(
        entry,
        user_ids=[pk for kind, pk in held if kind == "user"],
        group_ids=[pk for kind, pk in held if kind == "group"],
    )
    ends = access.terms_of(source, held)
    now = timezone.now()
    items, skipped = [], []
    for key, roles in held.items():
        principal: User | Group | None = (users if key[0] == "user" else groups).get(key[1])
        if principal is None:
            continue
        if isinstance(principal, User) and principal.pk == entry.owner_id:
            skipped.append(f"{principal.name} owns this entry already.")
            continue
        if isinstance(principal, User) and not principal.is_active:
            skipped.append(f"{principal.name} is inactive.")
            continue
        adding = tuple(role for role in roles if role not in current.get(key, ()))
        if not adding:
            continue
        term = {
            role: end
            for role, end in ends.get(key, {}).items()
            if role in adding and not (isinstance(end, datetime) and end <= now)
        }
        items.append(CopyItem(principal, adding, term))
    items.sort(key=lambda item: (item.kind == "user", access.holder_key(item.principal)))
    return CopyPlan(source, items, skipped)


def copy_sources(user: User, entry: MediaEntry, query: str, limit: int = 8) -> list[MediaEntry]:
    """Return entries the user manages (owns or co-edits), other than `entry`, whose text
    has every word of the query; by name."""
    words = search_words(query)[: access.SEARCH_WORDS]
    found = access.my_media(
        user,
        wanted=[Role.OWNER, Role.CO_EDITOR],
        sort="name",
        words=words,
        stop=limit + 1,
    )
    return [row.entry for row in found.rows if row.entry.pk != entry.pk][:limit]


# The audit log of an entry, filtered ------------------------------------------------

ACTIVITY_PAGE_SIZE = 50


def activity_changes(entry: MediaEntry, filters: dict) -> QuerySet[AccessChange]:
    """Return the entry's changes of access matching the Activity page's filters (valid
    ones: forms.ActivityFilterForm), newest first, with their actors."""
    changes = AccessChange.objects.filter(entry=entry).select_related("actor")
    if filters.get("who"):
        changes = changes.filter(principal_name__icontains=filters["who"])
    if filters.get("role"):
        mentioned = f'"{filters["role"]}"'
        changes = changes.annotate(
            before_text=Cast("before", TextField()), after_text=Cast("after", TextField())
        ).filter(Q(before_text__contains=mentioned) | Q(after_text__contains=mentioned))
    if filters.get("reason"):
        changes = changes.filter(reason=filters["reason"])
    if filters.get("since"):
        changes = changes.filter(created_at__gte=terms.end_of_day(filters["since"]) - DAY)
    if filters.get("until"):
        changes = changes.filter(created_at__lt=terms.end_of_day(filters["until"]))
    return changes.order_by("-created_at", "-id")


DAY = timedelta(days=1)


def activity_item(change: AccessChange) -> ActivityItem:
    """Return the Activity list's item for an audit record (its actor loaded)."""
    actor = change.actor.name if change.actor else ACTIVITY_NO_ACTOR
    return ActivityItem.of(change, actor)
