"""Who may do what with a media entry.

The roles and what each allows (`Access`), the `get_entry_for_user` access helper (404
when the user cannot see the entry, 403 when they may not act) and the grant calls that
services make. The only module that writes django-guardian's tables, through guardian's
own API; each change also goes to the access rule's read model (mediaspace.access) in the
same transaction. What a user holds is always read through mediaspace.access.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache, cached_property
from typing import TYPE_CHECKING

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.core.signals import setting_changed
from django.db.models.signals import post_migrate
from django.http import Http404
from guardian.shortcuts import assign_perm, remove_perm

from mediaspace import access
from mediaspace.models import (
    ROLE_CODENAMES,
    AccessChange,
    MediaEntry,
    Role,
)

if TYPE_CHECKING:
    from accounts.models import User

COLLABORATOR_ROLES = (Role.CO_EDITOR, Role.CO_PUBLISHER, Role.CO_VIEWER)
MODERATOR_ROLES = (Role.ROOM_MODERATOR, Role.CHAT_MODERATOR)
CODENAME_ROLES: dict[str, Role] = {codename: role for role, codename in ROLE_CODENAMES.items()}
ROLE_ORDER = {role: index for index, role in enumerate(Role)}
VISIBLE_TO_EVERYONE = access.VISIBLE_TO_EVERYONE
MODULE_OFF_MESSAGE = (
    "Moderators are unavailable because the ChatandCollaboration module is switched off. "
    "Ask an operator to switch it on."
)


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
        return f"Access({self.entry.pk}, {sorted_roles(self.roles)})"

    @cached_property
    def moderation_on(self) -> bool:
        """Whether the ChatandCollaboration module is on; looked up only when asked."""
        if self._moderation_on is not None:
            return self._moderation_on
        return access.module_on() if self.entry.is_room else True

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
    def can_transfer(self) -> bool:
        return self.is_owner

    @property
    def can_export_activity(self) -> bool:
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
        return access.sees(self.roles, self.entry.status)

    @property
    def main_role(self) -> Role | None:
        """Return the strongest role, for My Media's "My role" column."""
        return sorted_roles(self.roles)[0] if self.roles else None


# What a refusal says, by the `Access` property that was missing ({name}: the entry's).
REFUSALS = {
    "can_edit": "Only the owner and co-editors can edit “{name}”.",
    "can_publish": "Only the owner and co-publishers can change the publishing status of “{name}”.",
    "can_delete": "Only the owner can delete “{name}”.",
    "can_transfer": "Only the owner can transfer the ownership of “{name}”.",
    "can_export_activity": "Only the owner can download the activity of “{name}”.",
    "can_manage_roles": "Only the owner and co-editors can manage who has access to “{name}”.",
    "can_manage_collaborators": "Only the owner can add or change the collaborators of “{name}”.",
    "can_manage_moderators": "Only the owner and co-editors can manage the moderators of “{name}”.",
}


class Refused(PermissionDenied):
    """A 403 that says what was refused, with the access the user does have (the 403 page
    offers a moderator the way into the room)."""

    def __init__(self, found: Access, need: str) -> None:
        self.access = found
        default = "Your role on “{name}” doesn’t allow this."
        super().__init__(REFUSALS.get(need, default).format(name=found.entry.name))


def get_entry_for_user(user: User, entry_id: int, *, need: str | None = None) -> Access:
    """Fetch the entry and the user's access to it, or refuse.

    Raises Http404 when the user cannot see the entry at all, and PermissionDenied when
    they can see it but `need` (an `Access` property such as "can_edit") is false. One
    query (mediaspace.access.entry_for_user).
    """
    view = access.entry_for_user(user, entry_id)
    if view is None or not view.visible:
        raise Http404("No such media entry.")
    found = Access(view.entry, view.roles, moderation_on=view.module_on)
    if need is not None and not getattr(found, need):
        raise Refused(found, need)
    return found


def principal_roles(entry: MediaEntry, principal: User | Group) -> frozenset[Role]:
    """Return the roles granted to this user or group itself (not through its groups)."""
    return access.principal_roles(entry, principal)


def moderation_enabled() -> bool:
    """Return whether the ChatandCollaboration module is on (moderators count, chat opens)."""
    return access.module_on()


# Grants ------------------------------------------------------------------------------


@cache
def role_permissions() -> dict[Role, Permission]:
    """Return guardian's Permission of each role, read once per process."""
    found = Permission.objects.filter(
        content_type__app_label="mediaspace",
        content_type__model="mediaentry",
        codename__in=ROLE_CODENAMES.values(),
    )
    return {CODENAME_ROLES[permission.codename]: permission for permission in found}


def _forget_permissions(**kwargs: object) -> None:
    """Forget the cached Permissions when the database's are made anew (tests, migrate)."""
    role_permissions.cache_clear()


post_migrate.connect(_forget_permissions, dispatch_uid="mediaspace.permissions.forget")
setting_changed.connect(_forget_permissions, dispatch_uid="mediaspace.permissions.forget.s")


def roles_change(
    entry: MediaEntry,
    principal: User | Group,
    *,
    before: access.Terms,
    after: access.Terms,
    change: AccessChange,
) -> None:
    """Make guardian's rows go from the roles of `before` to those of `after`, the grants'
    ends and the read model with them, and write the change's audit record.

    Services call it under the entry's lock, inside their transaction, with `before` as
    access.entry_for_change read it: one guardian call per role that changes. Guardian's
    calls are idempotent (a permission held already, or not held, is left as it is).
    """
    permission = role_permissions()
    for role in sorted_roles(before.keys() - after.keys()):
        remove_perm(permission[role], [principal], entry)
    for role in sorted_roles(after.keys() - before.keys()):
        assign_perm(permission[role], [principal], entry)
    access.change_write(entry, principal, after, change, before=before)


def held_entry_ids(principal: User | Group) -> list[int]:
    """Return the ids of the entries on which this user or group itself holds any role."""
    holder = {"group": principal} if isinstance(principal, Group) else {"user": principal}
    rows = access.EntryAccess.objects.filter(roles__gt=0, **holder).exclude(
        roles=access.ROLE_BITS[Role.OWNER]
    )
    return sorted(rows.values_list("entry_id", flat=True))
