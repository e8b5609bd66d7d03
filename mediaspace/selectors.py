"""Reads that span relations: My Media, the Roles & permissions tab, suggestions."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.db.models import CharField, Count, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Lower, NullIf
from django.template.defaultfilters import pluralize
from django.utils.timezone import localtime

from accounts.models import NameKey, User, search_words
from mediaspace import permissions
from mediaspace.models import (
    AccessChange,
    Grant,
    MediaEntry,
    MediaEntryGroupObjectPermission,
    MediaEntryUserObjectPermission,
)
from mediaspace.permissions import Access, Role
from rooms.models import RoomGroupObjectPermission, RoomUserObjectPermission

PAGE_SIZE = 20

SORTS = {
    "-updated": ("-updated_at", "-id"),
    "updated": ("updated_at", "id"),
    "-created": ("-created_at", "-id"),
    "created": ("created_at", "id"),
    "name": (Lower("name").asc(), "id"),
    "-name": (Lower("name").desc(), "-id"),
}
ROLE_FILTERS: dict[str, tuple[Role, ...]] = {
    "owner": (Role.OWNER,),
    "co-editor": (Role.CO_EDITOR,),
    "co-publisher": (Role.CO_PUBLISHER,),
    "co-viewer": (Role.CO_VIEWER,),
    "moderator": permissions.MODERATOR_ROLES,
}


TYPE_LABELS = dict(MediaEntry.Type.choices)
STATUS_LABELS = dict(MediaEntry.Status.choices)


@dataclass(frozen=True)
class MediaRow:
    """One row of My Media: the entry and what the user may do with it."""

    entry: MediaEntry
    access: Access

    def as_context(self) -> dict[str, object]:
        """Return the row flattened for the template.

        A list renders thousands of variables: plain dictionary look-ups cost the template
        engine far less than attribute chains through models and properties.
        """
        entry, access = self.entry, self.access
        role = access.main_role
        updated = localtime(entry.updated_at)
        return {
            "id": entry.pk,
            "url": entry.get_absolute_url(),
            "name": entry.name,
            "owner_name": "" if access.is_owner else entry.owner.name,
            "media_type": entry.media_type,
            "type_label": TYPE_LABELS[entry.media_type],
            "duration": entry.duration_display,
            "thumbnail": entry.thumbnail,
            "updated_iso": updated.isoformat(),
            "updated": f"{updated:%b} {updated.day}, {updated.year}",
            "status": entry.status,
            "status_label": STATUS_LABELS[entry.status],
            "role_label": role.label if role else "",
            "is_owner": access.is_owner,
            "can_edit": access.can_edit,
            "can_publish": access.can_publish,
            "can_delete": access.can_delete,
        }


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


def my_media_parts(
    user: User,
    *,
    search: str = "",
    media_type: str = "",
    role: str = "",
    moderation_on: bool | None = True,
) -> list[QuerySet[MediaEntry]]:
    """Return My Media as two querysets: what the user owns, and what is shared with them.

    Kept apart because each has an index-friendly shape: the owner's entries come
    straight off the (owner, sort key) indexes, the shared ones off the permission tables.
    An entry is never in both: the owner cannot be granted a role on their own entry.
    """
    wanted = ROLE_FILTERS.get(role)
    parts = []
    if wanted is None or wanted == (Role.OWNER,):
        parts.append(MediaEntry.objects.filter(owner=user))
    if wanted != (Role.OWNER,):
        parts.append(
            MediaEntry.objects.filter(
                permissions.shared_with(user, wanted, moderation_on=moderation_on)
            )
        )
    filtered = []
    for queryset in parts:
        if media_type:
            queryset = queryset.filter(media_type=media_type)
        for word in search.split():
            queryset = queryset.filter(
                Q(name__icontains=word) | Q(description__icontains=word) | Q(tags__icontains=word)
            )
        filtered.append(queryset)
    return filtered


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
    """Return rows start..stop of My Media with each row's access, in constant queries.

    Each part (owned, shared) yields the ids and sort keys of its first `stop` entries;
    they are merged here, and only the page's rows are fetched in full.
    """
    # The module's switch is folded into the queries rather than asked for separately.
    parts = my_media_parts(
        user, search=search, media_type=media_type, role=role, moderation_on=None
    )
    order = SORTS.get(sort, SORTS["-updated"])
    key_field = {"updated": "updated_at", "created": "created_at"}.get(sort.lstrip("-"), "name")
    candidates = [
        row
        for queryset in parts
        for row in queryset.order_by(*order).values_list(key_field, "pk")[: stop + 1]
    ]
    if key_field == "name":
        candidates.sort(key=lambda row: (row[0].lower(), row[1]), reverse=sort.startswith("-"))
    else:
        candidates.sort(reverse=sort.startswith("-"))
    has_more = len(candidates) > stop
    page_ids = [row[-1] for row in candidates[start:stop]]
    found = MediaEntry.objects.select_related("owner").in_bulk(page_ids)
    entries = [found[pk] for pk in page_ids if pk in found]
    roles = permissions.roles_for_entries(user, entries, moderation_on=None)
    filtered = bool(search or media_type)
    if not (has_more or start):
        total: int | None = start + len(entries)
    elif filtered:
        # Counting every match of a search means scanning them all: say "more" instead.
        total = None
    else:
        total = my_media_count(user, role=role)
    return MediaPage(
        rows=[MediaRow(entry=entry, access=Access(entry, roles[entry.pk])) for entry in entries],
        total=total,
        start=start,
        has_more=has_more,
    )


def my_media_count(user: User, *, role: str = "") -> int:
    """Count the user's entries (owned plus shared) without filters, off the indexes."""
    wanted = ROLE_FILTERS.get(role)
    owned = (
        MediaEntry.objects.filter(owner=user).count()
        if wanted is None or wanted == (Role.OWNER,)
        else 0
    )
    if wanted == (Role.OWNER,):
        return owned
    grants = Grant.objects.filter(user=user)
    if wanted:
        codenames = [permissions.ROLE_CODENAMES[role] for role in wanted]
        grants = grants.filter(codename__in=codenames)
    return owned + grants.values("entry_id").distinct().count()


# The Roles & permissions tab -------------------------------------------------------

ACCESS_PAGE_SIZE = 20
ACTIVITY_SIZE = 10
SUGGESTION_LIMIT = 8


@dataclass(frozen=True)
class AccessRow:
    """A user or group with the roles granted to it on one entry."""

    kind: str  # "user" or "group"
    principal: User | Group
    roles: tuple[Role, ...]
    member_count: int | None = None

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.principal.pk}"

    @property
    def is_group(self) -> bool:
        return self.kind == "group"

    def as_context(
        self, *, viewer: User, roles_url: str, manageable: set[Role], moderation_on: bool
    ) -> dict[str, object]:
        """Return the row flattened for the template (see MediaRow.as_context)."""
        principal = self.principal
        if self.is_group:
            count = self.member_count or 0
            detail = f"Group · {count} member{pluralize(count)}"
            initials, tone = principal.name[:1].upper(), "group"
        else:
            detail = principal.email or principal.username
            initials, tone = principal.initials, principal.avatar_tone
        path = f"{roles_url}{self.kind}/{principal.pk}/"
        return {
            "id": f"{self.kind}-{principal.pk}",
            "name": str(principal),
            "detail": detail,
            "initials": initials,
            "tone": tone,
            "is_you": not self.is_group and principal.pk == viewer.pk,
            "badges": [
                (
                    role.label + ("" if moderation_on or not role.is_moderator else " (inactive)"),
                    "badge-collaborator"
                    if not role.is_moderator
                    else ("badge-moderator" if moderation_on else "badge-inactive"),
                )
                for role in self.roles
            ],
            "edit_url": f"{path}edit/" if manageable else "",
            "remove_url": f"{path}remove/" if manageable & set(self.roles) else "",
        }


@dataclass(frozen=True)
class AccessPage:
    rows: list[AccessRow]
    total: int
    users: int
    groups: int
    start: int
    has_more: bool

    @property
    def shown(self) -> int:
        return self.start + len(self.rows)


def entry_grants(entry: MediaEntry) -> dict[tuple[str, int], frozenset[Role]]:
    """Return every user's and group's own roles on the entry, in one query."""
    querysets = [
        model.objects.filter(content_object_id=entry.pk).values_list(
            Value(kind, output_field=CharField()), holder, "permission__codename"
        )
        for model, kind, holder in (
            (MediaEntryUserObjectPermission, "user", "user_id"),
            (MediaEntryGroupObjectPermission, "group", "group_id"),
            (RoomUserObjectPermission, "user", "user_id"),
            (RoomGroupObjectPermission, "group", "group_id"),
        )
    ]
    first, *rest = querysets
    grants: dict[tuple[str, int], set[Role]] = defaultdict(set)
    for kind, principal_id, codename in first.union(*rest, all=True):
        grants[(kind, principal_id)].add(permissions.CODENAME_ROLES[codename])
    return {key: frozenset(roles) for key, roles in grants.items()}


def access_page(
    entry: MediaEntry,
    *,
    search: str = "",
    role: str = "",
    start: int = 0,
    stop: int = ACCESS_PAGE_SIZE,
) -> AccessPage:
    """Return the users and groups with access to the entry: groups first, then people.

    One query reads every grant on the entry (ids and roles only); the page's groups and
    people are then sorted and sliced in the database. Constant queries however many rows.
    """
    grants = entry_grants(entry)
    wanted = set(ROLE_FILTERS.get(role, ())) - {Role.OWNER}
    if wanted:
        grants = {key: roles for key, roles in grants.items() if roles & wanted}
    users = User.objects.filter(pk__in=[pk for kind, pk in grants if kind == "user"])
    groups = Group.objects.filter(pk__in=[pk for kind, pk in grants if kind == "group"])
    if search:
        for word in search.split():
            users = users.filter(
                Q(display_name__icontains=word)
                | Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(username__icontains=word)
                | Q(email__icontains=word)
            )
            groups = groups.filter(name__icontains=word)
        group_count, user_count = groups.count(), users.count()
    else:
        group_count = sum(kind == "group" for kind, _ in grants)
        user_count = len(grants) - group_count
    members = User.groups.through.objects.filter(group_id=OuterRef("pk"))
    page_groups = (
        list(
            groups.annotate(
                member_count=Subquery(
                    members.values("group_id").annotate(count=Count("*")).values("count")
                )
            ).order_by(Lower("name"), "pk")[start:stop]
        )
        if start < group_count
        else []
    )
    user_start, user_stop = max(0, start - group_count), max(0, stop - group_count)
    page_users = (
        list(
            users.order_by(
                Lower(Coalesce(NullIf("display_name", Value("")), "username")), "pk"
            ).only("id", "username", "display_name", "first_name", "last_name", "email")[
                user_start:user_stop
            ]
        )
        if user_stop > user_start
        else []
    )
    rows = [
        AccessRow(
            kind="group",
            principal=group,
            roles=tuple(permissions.sorted_roles(grants[("group", group.pk)])),
            member_count=group.member_count or 0,
        )
        for group in page_groups
    ] + [
        AccessRow(
            kind="user",
            principal=user,
            roles=tuple(permissions.sorted_roles(grants[("user", user.pk)])),
        )
        for user in page_users
    ]
    total = group_count + user_count
    return AccessPage(
        rows=rows,
        total=total,
        users=user_count,
        groups=group_count,
        start=start,
        has_more=total > stop,
    )


def access_activity(entry: MediaEntry, limit: int = ACTIVITY_SIZE) -> list[AccessChange]:
    """Return the latest grants, changes and removals on the entry, newest first."""
    return list(
        AccessChange.objects.filter(entry=entry)
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class Suggestion:
    kind: str
    pk: int
    label: str
    detail: str
    holds: tuple[Role, ...]

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.pk}"


def _prefix_range(word: str) -> tuple[str, str]:
    return word, word[:-1] + chr(ord(word[-1]) + 1)


def principals_suggest(
    entry: MediaEntry, query: str, *, limit: int = SUGGESTION_LIMIT
) -> list[Suggestion]:
    """Return users (by the start of any of their names) and groups matching the query.

    Inactive users and the owner are left out; each suggestion says what it holds already.
    """
    words = search_words(query)
    if not words or len("".join(words)) < 2:
        return []
    longest = max(words, key=len)
    low, high = _prefix_range(longest)
    # Walk the key index in order and stop early: the first matches alphabetically by
    # the word that matched, with no sort over every person whose name starts so.
    keys = NameKey.objects.filter(
        key__gte=low, key__lt=high, key__startswith=longest, user__is_active=True
    ).exclude(user_id=entry.owner_id)
    for word in words:
        if word != longest:
            low, high = _prefix_range(word)
            keys = keys.filter(user__name_keys__key__gte=low, user__name_keys__key__lt=high)
    user_ids = list(
        dict.fromkeys(
            keys.order_by("key", "user_id").values_list("user_id", flat=True)[: limit * 3]
        )
    )[:limit]
    found = User.objects.only(
        "id", "username", "display_name", "first_name", "last_name", "email"
    ).in_bulk(user_ids)
    users = [found[pk] for pk in user_ids if pk in found]
    groups = Group.objects.all()
    for word in query.split():
        groups = groups.filter(name__icontains=word)
    members = User.groups.through.objects.filter(group_id=OuterRef("pk"))
    groups = list(
        groups.annotate(
            member_count=Subquery(
                members.values("group_id").annotate(count=Count("*")).values("count")
            )
        ).order_by(Lower("name"))[: max(3, limit // 2)]
    )
    held = _held_roles(entry, [user.pk for user in users], [group.pk for group in groups])
    suggestions = [
        Suggestion(
            kind="group",
            pk=group.pk,
            label=group.name,
            detail=f"Group · {group.member_count or 0} member{pluralize(group.member_count or 0)}",
            holds=tuple(permissions.sorted_roles(held.get(("group", group.pk), ()))),
        )
        for group in groups
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


def _held_roles(
    entry: MediaEntry, user_ids: list[int], group_ids: list[int]
) -> dict[tuple[str, int], set[Role]]:
    """Return what these users and groups hold on the entry already, in one query."""
    if not user_ids and not group_ids:
        return {}
    querysets = [
        model.objects.filter(content_object_id=entry.pk, **{f"{holder}__in": ids}).values_list(
            Value(kind, output_field=CharField()), holder, "permission__codename"
        )
        for model, kind, holder, ids in (
            (MediaEntryUserObjectPermission, "user", "user_id", user_ids),
            (MediaEntryGroupObjectPermission, "group", "group_id", group_ids),
            (RoomUserObjectPermission, "user", "user_id", user_ids),
            (RoomGroupObjectPermission, "group", "group_id", group_ids),
        )
    ]
    first, *rest = querysets
    held: dict[tuple[str, int], set[Role]] = defaultdict(set)
    for kind, principal_id, codename in first.union(*rest, all=True):
        held[(kind, principal_id)].add(permissions.CODENAME_ROLES[codename])
    return held
