"""Reads that span relations: the My Media list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from mediaspace import permissions
from mediaspace.models import MediaEntry
from mediaspace.permissions import Access, Role

if TYPE_CHECKING:
    from accounts.models import User

PAGE_SIZE = 24

SORTS = {
    "-updated": ("-updated_at", "-id"),
    "updated": ("updated_at", "id"),
    "-created": ("-created_at", "-id"),
    "created": ("created_at", "id"),
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
}
ROLE_FILTERS: dict[str, tuple[Role, ...]] = {
    "owner": (Role.OWNER,),
    "co-editor": (Role.CO_EDITOR,),
    "co-publisher": (Role.CO_PUBLISHER,),
    "co-viewer": (Role.CO_VIEWER,),
    "moderator": permissions.MODERATOR_ROLES,
}


@dataclass(frozen=True)
class MediaRow:
    entry: MediaEntry
    access: Access


@dataclass(frozen=True)
class MediaPage:
    rows: list[MediaRow]
    total: int
    start: int
    has_more: bool

    @property
    def shown(self) -> int:
        """Return how many rows the page shows counting the earlier pages."""
        return self.start + len(self.rows)


def my_media_queryset(
    user: User,
    *,
    search: str = "",
    media_type: str = "",
    role: str = "",
    sort: str = "-updated",
) -> QuerySet[MediaEntry]:
    """Return the entries the user owns or that are shared with them, filtered and sorted."""
    wanted = ROLE_FILTERS.get(role)
    if wanted == (Role.OWNER,):
        visible = Q(owner=user)
    elif wanted:
        visible = Q(pk__in=permissions.shared_entry_ids(user, wanted)) & ~Q(owner=user)
    else:
        shared = permissions.shared_entry_ids(user)
        visible = Q(owner=user) | Q(pk__in=shared) if shared else Q(owner=user)
    queryset = MediaEntry.objects.filter(visible)
    if media_type:
        queryset = queryset.filter(media_type=media_type)
    for word in search.split():
        queryset = queryset.filter(
            Q(name__icontains=word) | Q(description__icontains=word) | Q(tags__icontains=word)
        )
    return queryset.order_by(*SORTS.get(sort, SORTS["-updated"]))


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
    """Return rows start..stop of My Media with each row's access, in constant queries."""
    queryset = my_media_queryset(user, search=search, media_type=media_type, role=role, sort=sort)
    entries = list(queryset.select_related("owner")[start : stop + 1])
    has_more = len(entries) > stop - start
    entries = entries[: stop - start]
    access = permissions.access_for_entries(user, entries)
    total = queryset.count() if (has_more or start) else start + len(entries)
    return MediaPage(
        rows=[MediaRow(entry=entry, access=access[entry.pk]) for entry in entries],
        total=total,
        start=start,
        has_more=has_more,
    )
