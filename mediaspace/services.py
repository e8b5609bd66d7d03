"""Every change to the catalogue: edits, publishing, deletion and access grants."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction

from mediaspace import access, permissions
from mediaspace.models import AccessChange, MediaEntry
from mediaspace.permissions import Role

if TYPE_CHECKING:
    from accounts.models import User


def tags_normalise(tags: str) -> str:
    """Return the tags trimmed, de-duplicated (case-insensitively) and comma-separated."""
    seen: dict[str, str] = {}
    for tag in tags.split(","):
        tag = " ".join(tag.split())
        if tag and tag.lower() not in seen:
            seen[tag.lower()] = tag
    return ", ".join(seen.values())


@transaction.atomic
def media_create(
    *,
    owner: User,
    name: str,
    media_type: str,
    description: str = "",
    tags: str = "",
    status: str = MediaEntry.Status.PRIVATE,
    duration_seconds: int | None = None,
    thumbnail: str = "",
) -> MediaEntry:
    """Create a media entry owned by `owner` (rooms.services.room_create makes rooms)."""
    entry = MediaEntry(
        owner=owner,
        name=name.strip(),
        media_type=media_type,
        description=description.strip(),
        tags=tags_normalise(tags),
        status=status,
        duration_seconds=duration_seconds,
        thumbnail=thumbnail,
    )
    entry.full_clean()
    entry.save()
    access.owner_write(entry)
    return entry


@transaction.atomic
def media_update(
    *, actor: User, entry: MediaEntry, name: str, description: str, tags: str
) -> MediaEntry:
    """Change an entry's details (owner and co-editors)."""
    entry.name = name.strip()
    entry.description = description.strip()
    entry.tags = tags_normalise(tags)
    entry.full_clean()
    entry.save(update_fields=["name", "description", "tags", "updated_at"])
    access.entry_keys_write(entry)
    return entry


@transaction.atomic
def media_status_set(*, actor: User, entry: MediaEntry, status: str) -> MediaEntry:
    """Change an entry's publishing status (owner and co-publishers)."""
    entry.status = status
    entry.full_clean()
    entry.save(update_fields=["status", "updated_at"])
    access.entry_keys_write(entry)
    return entry


@transaction.atomic
def media_delete(*, actor: User, entry: MediaEntry) -> None:
    """Delete an entry with its permissions and its room (owner only)."""
    entry.delete()


def _principal_name(principal: User | Group) -> str:
    return principal.name if isinstance(principal, Group) else str(principal)


def _check_principal(entry: MediaEntry, principal: User | Group) -> None:
    if isinstance(principal, Group):
        return
    if principal.pk == entry.owner_id:
        raise ValidationError(
            f"{principal} is the owner and already has full control.", code="owner"
        )
    if not principal.is_active:
        raise ValidationError(
            f"{principal} is inactive and cannot be given access.", code="inactive"
        )


def _access_change(
    *,
    actor: User | None,
    entry: MediaEntry,
    principal: User | Group,
    target: Callable[[frozenset[Role]], frozenset[Role]],
    moderators: bool = False,
) -> AccessChange | None:
    """Lock the entry, read what the user or group holds, apply `target` to it, log it.

    Reading under the lock means two people changing the same row one after the other
    each build on the other's result instead of overwriting it. With `moderators`, the
    change is refused while the ChatandCollaboration module is off.
    """
    module_on, before = access.entry_for_change(entry, principal)
    if moderators and not module_on:
        raise ValidationError(permissions.MODULE_OFF_MESSAGE, code="module_off")
    roles = frozenset(target(before))
    if Role.OWNER in roles:
        raise ValidationError("Ownership is not a permission that can be granted.", code="owner")
    if roles & set(permissions.MODERATOR_ROLES) and not entry.is_room:
        raise ValidationError("Only rooms have moderators.", code="not_room")
    if roles - before:
        _check_principal(entry, principal)
    if before == roles:
        return None
    change = AccessChange(
        entry=entry,
        actor=actor,
        user=None if isinstance(principal, Group) else principal,
        group=principal if isinstance(principal, Group) else None,
        principal_name=_principal_name(principal),
        before=[role.value for role in permissions.sorted_roles(before)],
        after=[role.value for role in permissions.sorted_roles(roles)],
    )
    permissions.roles_change(entry, principal, before=before, after=roles, change=change)
    return change


# Nested calls share the outermost transaction (no savepoint each): one failure undoes all.
@transaction.atomic(savepoint=False)
def access_set(
    *,
    actor: User | None,
    entry: MediaEntry,
    principal: User | Group,
    roles: Iterable[Role],
) -> AccessChange | None:
    """Make `roles` exactly what the user or group holds on the entry, and log the change.

    Returns the audit record, or None when nothing changed.
    """
    roles = frozenset(roles)
    return _access_change(actor=actor, entry=entry, principal=principal, target=lambda _: roles)


@transaction.atomic(savepoint=False)
def access_add(
    *,
    actor: User | None,
    entry: MediaEntry,
    principal: User | Group,
    roles: Iterable[Role],
    moderators: bool = False,
) -> AccessChange | None:
    """Add `roles` to what the user or group already holds; never removes any."""
    roles = frozenset(roles)
    if not roles:
        raise ValidationError("Choose at least one permission.", code="no_roles")
    _check_principal(entry, principal)
    return _access_change(
        actor=actor,
        entry=entry,
        principal=principal,
        target=lambda before: before | roles,
        moderators=moderators,
    )


@transaction.atomic(savepoint=False)
def access_add_many(
    *,
    actor: User | None,
    entry: MediaEntry,
    principals: Iterable[User | Group],
    roles: Iterable[Role],
    moderators: bool = False,
) -> list[AccessChange]:
    """Add `roles` to each user and group; all or nothing. Return the audit records."""
    roles = frozenset(roles)
    changes = []
    for principal in principals:
        change = access_add(
            actor=actor, entry=entry, principal=principal, roles=roles, moderators=moderators
        )
        if change is not None:
            changes.append(change)
    return changes


def collaborators_add(
    *,
    actor: User,
    entry: MediaEntry,
    principals: Iterable[User | Group],
    roles: Iterable[Role],
) -> list[AccessChange]:
    """Make users and groups co-editors, co-publishers or co-viewers (owner only)."""
    roles = frozenset(roles)
    if not roles <= set(permissions.COLLABORATOR_ROLES):
        raise ValidationError("Collaborators are co-editors, co-publishers or co-viewers.")
    return access_add_many(actor=actor, entry=entry, principals=principals, roles=roles)


@transaction.atomic
def moderators_add(
    *,
    actor: User,
    entry: MediaEntry,
    principals: Iterable[User | Group],
    roles: Iterable[Role],
) -> list[AccessChange]:
    """Make users and groups room and/or chat moderators of a room (owner and co-editors)."""
    roles = frozenset(roles)
    if not entry.is_room:
        raise ValidationError("Only rooms have moderators.", code="not_room")
    if not roles <= set(permissions.MODERATOR_ROLES):
        raise ValidationError("Moderators are room moderators or chat moderators.")
    principals = list(principals)
    if not principals and not access.module_on():
        raise ValidationError(permissions.MODULE_OFF_MESSAGE, code="module_off")
    return access_add_many(
        actor=actor, entry=entry, principals=principals, roles=roles, moderators=True
    )


@transaction.atomic(savepoint=False)
def access_edit(
    *,
    actor: User,
    entry: MediaEntry,
    principal: User | Group,
    roles: Iterable[Role],
    scope: Iterable[Role],
) -> AccessChange | None:
    """Set the roles within `scope` (what the actor may manage); leave the others alone."""
    scope, chosen = frozenset(scope), frozenset(roles) & frozenset(scope)
    return _access_change(
        actor=actor,
        entry=entry,
        principal=principal,
        target=lambda before: (before - scope) | chosen,
    )


@transaction.atomic(savepoint=False)
def access_remove(
    *,
    actor: User,
    entry: MediaEntry,
    principal: User | Group,
    scope: Iterable[Role],
) -> AccessChange | None:
    """Take away every role within `scope` from the user or group."""
    scope = frozenset(scope)
    return _access_change(
        actor=actor, entry=entry, principal=principal, target=lambda before: before - scope
    )


@transaction.atomic
def access_remove_all(*, actor: User | None, principal: User | Group) -> list[AccessChange]:
    """Take every role the user or group holds away, on every entry, logging each removal.

    Run before deleting a user or group: their permission rows would otherwise vanish
    with them, unrecorded.
    """
    changes = []
    for entry in MediaEntry.objects.filter(pk__in=permissions.held_entry_ids(principal)):
        change = access_set(actor=actor, entry=entry, principal=principal, roles=())
        if change is not None:
            changes.append(change)
    return changes
