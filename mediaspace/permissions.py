"""Who may do what with a media entry.

The only module of the catalogue that talks to django-guardian: the role → permission
mapping, the one-query look-ups of a user's roles, the `get_entry_for_user` access
helper (404 when the user cannot see the entry, 403 when they may not act) and the
grant and revoke calls that services make.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from functools import cached_property
from typing import TYPE_CHECKING

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from guardian.shortcuts import assign_perm, remove_perm

from mediaspace.models import (
    Grant,
    MediaEntry,
    MediaEntryGroupObjectPermission,
    MediaEntryUserObjectPermission,
    Role,
)
from rooms import permissions as room_permissions
from rooms.models import RoomGroupObjectPermission, RoomUserObjectPermission

if TYPE_CHECKING:
    from accounts.models import User


# Collaborator roles are permissions on the media entry; moderator roles are
# permissions on its room record.
COLLABORATOR_ROLES = (Role.CO_EDITOR, Role.CO_PUBLISHER, Role.CO_VIEWER)
MODERATOR_ROLES = (Role.ROOM_MODERATOR, Role.CHAT_MODERATOR)
ROLE_CODENAMES: dict[Role, str] = {
    Role.CO_EDITOR: "coedit_mediaentry",
    Role.CO_PUBLISHER: "copublish_mediaentry",
    Role.CO_VIEWER: "coview_mediaentry",
    Role.ROOM_MODERATOR: room_permissions.ROOM_MODERATOR,
    Role.CHAT_MODERATOR: room_permissions.CHAT_MODERATOR,
}
CODENAME_ROLES: dict[str, Role] = {codename: role for role, codename in ROLE_CODENAMES.items()}
ROLE_ORDER = {role: index for index, role in enumerate(Role)}
VISIBLE_TO_EVERYONE = (MediaEntry.Status.UNLISTED, MediaEntry.Status.PUBLISHED)


def sorted_roles(roles: Iterable[Role]) -> list[Role]:
    return sorted(roles, key=ROLE_ORDER.__getitem__)


class Access:
    """What one user may do with one entry."""

    def __init__(
        self, entry: MediaEntry, roles: frozenset[Role], moderation_on: bool | None = None
    ) -> None:
        self.entry = entry
        self.roles = roles
        self._moderation_on = moderation_on

    def __repr__(self) -> str:
        return f"Access({self.entry.pk}, {sorted(self.roles)})"

    @cached_property
    def moderation_on(self) -> bool:
        """Whether the ChatandCollaboration module is on; looked up only when asked."""
        if self._moderation_on is not None:
            return self._moderation_on
        return room_permissions.moderation_enabled() if self.entry.is_room else True

    @property
    def is_owner(self) -> bool:
        return Role.OWNER in self.roles

    @property
    def is_host(self) -> bool:
        """Owners and co-editors are the room's hosts."""
        return bool(self.roles & {Role.OWNER, Role.CO_EDITOR})

    @property
    def can_edit(self) -> bool:
        return self.is_host

    @property
    def can_publish(self) -> bool:
        return bool(self.roles & {Role.OWNER, Role.CO_PUBLISHER})

    @property
    def can_delete(self) -> bool:
        return self.is_owner

    @property
    def can_manage_collaborators(self) -> bool:
        return self.is_owner

    @property
    def can_manage_moderators(self) -> bool:
        return self.is_host and self.entry.is_room and self.moderation_on

    @property
    def can_manage_roles(self) -> bool:
        """Whether the user may open the Roles & permissions tab (owner and co-editors)."""
        return self.is_host

    @property
    def manageable_roles(self) -> tuple[Role, ...]:
        """Return the roles this user may grant, change and remove on the entry."""
        roles: tuple[Role, ...] = ()
        if self.can_manage_collaborators:
            roles += COLLABORATOR_ROLES
        if self.can_manage_moderators:
            roles += MODERATOR_ROLES
        return roles

    @property
    def can_see(self) -> bool:
        return bool(self.roles) or self.entry.status in VISIBLE_TO_EVERYONE

    @property
    def main_role(self) -> Role | None:
        """Return the role to show in lists: the strongest one held."""
        ordered = sorted_roles(self.roles)
        return ordered[0] if ordered else None


def _grants(user: User, *, moderation_on: bool | None = True) -> QuerySet[Grant]:
    """Return the user's grants, direct and through groups (the Grant view).

    The view already drops moderator grants while the module is off; `moderation_on`
    False drops them too, for callers that looked the switch up themselves.
    """
    grants = Grant.objects.filter(user=user)
    if moderation_on is False:
        grants = grants.exclude(codename__in=[ROLE_CODENAMES[role] for role in MODERATOR_ROLES])
    return grants


def _permission_rows(
    user: User, entry_ids: Iterable[int] | None = None, *, moderation_on: bool | None = True
):
    """Return one query of (entry id, codename) for the user's direct and group grants."""
    grants = _grants(user, moderation_on=moderation_on)
    if entry_ids is not None:
        grants = grants.filter(entry_id__in=entry_ids)
    return grants.values_list("entry_id", "codename")


def roles_for_entries(
    user: User, entries: Iterable[MediaEntry], *, moderation_on: bool | None = True
) -> dict[int, frozenset[Role]]:
    """Return the user's roles on each entry, with one query for all of them.

    An owner holds everything on their own entries, so those need no look-up.
    """
    entries = list(entries)
    roles: dict[int, set[Role]] = defaultdict(set)
    for entry in entries:
        if entry.owner_id == user.pk:
            roles[entry.pk].add(Role.OWNER)
    entry_ids = [entry.pk for entry in entries if entry.owner_id != user.pk]
    if entry_ids:
        for entry_id, codename in _permission_rows(user, entry_ids, moderation_on=moderation_on):
            if codename in CODENAME_ROLES:
                roles[entry_id].add(CODENAME_ROLES[codename])
    return {entry.pk: frozenset(roles[entry.pk]) for entry in entries}


def access_for_entries(
    user: User, entries: Iterable[MediaEntry], *, moderation_on: bool | None = None
) -> dict[int, Access]:
    """Return what the user may do with each entry: one permission query for the whole list."""
    entries = list(entries)
    # The Grant view folds the module's switch in: no need to ask for it up front.
    roles = roles_for_entries(user, entries, moderation_on=moderation_on)
    return {
        entry.pk: Access(entry=entry, roles=roles[entry.pk], moderation_on=moderation_on)
        for entry in entries
    }


def shared_entry_ids(
    user: User, roles: Iterable[Role] | None = None, *, moderation_on: bool = True
) -> list[int]:
    """Return the ids of entries shared with the user, directly or through a group."""
    rows = _permission_rows(user, moderation_on=moderation_on)
    codenames = {ROLE_CODENAMES[role] for role in roles} if roles is not None else None
    return sorted(
        {entry_id for entry_id, codename in rows if codenames is None or codename in codenames}
    )


def shared_with(
    user: User, roles: Iterable[Role] | None = None, *, moderation_on: bool | None = True
) -> Q:
    """Return a condition on MediaEntry: shared with the user, directly or through a group.

    A subquery, so the database never receives a list of thousands of ids.
    """
    grants = _grants(user, moderation_on=moderation_on)
    if roles is not None:
        grants = grants.filter(codename__in=sorted(ROLE_CODENAMES[role] for role in roles))
    return Q(pk__in=grants.values("entry_id"))


def get_entry_for_user(
    user: User, entry_id: int, *, need: str | None = None, for_update: bool = False
) -> Access:
    """Fetch the entry and the user's access to it, or refuse.

    Raises Http404 when the user cannot see the entry at all, and PermissionDenied when
    they can see it but `need` (an `Access` property such as "can_edit") is false.
    """
    queryset = MediaEntry.objects.select_related("owner")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    try:
        entry = queryset.get(pk=entry_id)
    except MediaEntry.DoesNotExist:
        raise Http404("No such media entry.") from None
    access = access_for_entries(user, [entry])[entry.pk]
    if not access.can_see:
        raise Http404("No such media entry.")
    if need is not None and not getattr(access, need):
        raise PermissionDenied
    return access


def principal_roles(entry: MediaEntry, principal: User | Group) -> frozenset[Role]:
    """Return the roles granted to this user or group itself (not through its groups)."""
    if isinstance(principal, Group):
        media_rows = MediaEntryGroupObjectPermission.objects.filter(group=principal)
        room_rows = RoomGroupObjectPermission.objects.filter(group=principal)
    else:
        media_rows = MediaEntryUserObjectPermission.objects.filter(user=principal)
        room_rows = RoomUserObjectPermission.objects.filter(user=principal)
    codenames = (
        media_rows.filter(content_object=entry)
        .values_list("permission__codename", flat=True)
        .union(
            room_rows.filter(content_object_id=entry.pk).values_list(
                "permission__codename", flat=True
            ),
            all=True,
        )
    )
    return frozenset(CODENAME_ROLES[codename] for codename in codenames)


def grant(entry: MediaEntry, principal: User | Group, roles: Iterable[Role]) -> None:
    """Give the user or group these roles on the entry (guardian; moderators via rooms)."""
    roles = set(roles)
    for role in roles & set(COLLABORATOR_ROLES):
        assign_perm(ROLE_CODENAMES[role], principal, entry)
    moderator_codenames = [ROLE_CODENAMES[role] for role in roles & set(MODERATOR_ROLES)]
    if moderator_codenames:
        room_permissions.moderator_grant(entry.pk, principal, moderator_codenames)


def revoke(entry: MediaEntry, principal: User | Group, roles: Iterable[Role]) -> None:
    """Take these roles on the entry away from the user or group."""
    roles = set(roles)
    for role in roles & set(COLLABORATOR_ROLES):
        remove_perm(ROLE_CODENAMES[role], principal, entry)
    moderator_codenames = [ROLE_CODENAMES[role] for role in roles & set(MODERATOR_ROLES)]
    if moderator_codenames:
        room_permissions.moderator_revoke(entry.pk, principal, moderator_codenames)


def held_entry_ids(principal: User | Group) -> list[int]:
    """Return the ids of the entries on which this user or group itself holds any role."""
    if isinstance(principal, Group):
        media_rows = MediaEntryGroupObjectPermission.objects.filter(group=principal)
        room_rows = RoomGroupObjectPermission.objects.filter(group=principal)
    else:
        media_rows = MediaEntryUserObjectPermission.objects.filter(user=principal)
        room_rows = RoomUserObjectPermission.objects.filter(user=principal)
    entry_ids = media_rows.values_list("content_object_id", flat=True).union(
        room_rows.values_list("content_object_id", flat=True)
    )
    return sorted(entry_ids)
