"""Every change to the catalogue: edits, publishing, deletion and access grants."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from mediaspace import access, permissions, tasks
from mediaspace.access import SESSION_END, End, Terms
from mediaspace.models import AccessChange, GrantTerm, MediaEntry
from mediaspace.permissions import Role

if TYPE_CHECKING:
    Target = Callable[[Terms], Terms]


class Unchanged(enum.Enum):
    """An `ends` that keeps each role's end as it is (a role new to the grant lasts)."""

    KEEP = "keep"


KEEP = Unchanged.KEEP
Ends = End | Unchanged


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


def _ends_text(terms: Terms) -> dict[str, str]:
    """Return when the roles of these terms end, for the audit log (those that end)."""
    return {
        role.value: access.end_text(end)
        for role, end in sorted(terms.items(), key=lambda item: permissions.ROLE_ORDER[item[0]])
        if end is not None
    }


def _record(
    *,
    actor: User | None,
    entry: MediaEntry,
    principal: User | Group,
    before: Terms,
    after: Terms,
    reason: AccessChange.Reason = AccessChange.Reason.CHANGE,
) -> AccessChange:
    """Write a change from `before` to `after` (guardian's rows, the ends, the read model)
    and its audit record."""
    change = AccessChange(
        entry=entry,
        actor=actor,
        user=None if isinstance(principal, Group) else principal,
        group=principal if isinstance(principal, Group) else None,
        principal_name=_principal_name(principal),
        before=[role.value for role in permissions.sorted_roles(before)],
        after=[role.value for role in permissions.sorted_roles(after)],
        before_ends=_ends_text(before),
        after_ends=_ends_text(after),
        reason=reason,
    )
    permissions.roles_change(entry, principal, before=before, after=after, change=change)
    return change


def _ended_remove(entry: MediaEntry, principal: User | Group, held: Terms) -> Terms:
    """Remove the roles of `held` whose end has come, recording "expired" (no actor), and
    return what is left. The entry is locked."""
    gone = access.ended(held, timezone.now())
    if not gone:
        return held
    left = {role: end for role, end in held.items() if role not in gone}
    _record(
        actor=None,
        entry=entry,
        principal=principal,
        before=held,
        after=left,
        reason=AccessChange.Reason.EXPIRED,
    )
    return left


def _check_ends(entry: MediaEntry, before: Terms, after: Terms) -> None:
    """Refuse an end that is set or changed to a moment already past, and a session's end
    for anything but a room's moderator roles."""
    now = timezone.now()
    for role, end in after.items():
        if before.get(role) == end:
            continue
        if isinstance(end, datetime) and end <= now:
            raise ValidationError(
                "Choose an end in the future: that moment has already passed.", code="ends_past"
            )
        if end is SESSION_END and not (entry.is_room and role.is_moderator):
            raise ValidationError(
                "Only a room's moderators can be given access until a session ends.",
                code="session_end",
            )


def _access_change(
    *,
    actor: User | None,
    entry: MediaEntry,
    principal: User | Group,
    target: Target,
    moderators: bool = False,
    reason: AccessChange.Reason = AccessChange.Reason.CHANGE,
) -> AccessChange | None:
    """Lock the entry, read what the user or group holds, apply `target` to it, log it
    (with `reason`).

    Reading under the lock means two people changing the same row one after the other
    each build on the other's result instead of overwriting it. Roles whose end has come
    are removed first, with their own record ("expired"), so that `target` sees what
    counts. With `moderators`, the change is refused while the ChatandCollaboration module
    is off.
    """
    module_on, held = access.entry_for_change(entry, principal)
    if moderators and not module_on:
        raise ValidationError(permissions.MODULE_OFF_MESSAGE, code="module_off")
    before = _ended_remove(entry, principal, held)
    after = dict(target(before))
    roles = frozenset(after)
    if Role.OWNER in roles:
        raise ValidationError("Ownership is not a permission that can be granted.", code="owner")
    if roles & set(permissions.MODERATOR_ROLES) and not entry.is_room:
        raise ValidationError("Only rooms have moderators.", code="not_room")
    if roles - before.keys():
        _check_principal(entry, principal)
    _check_ends(entry, before, after)
    if before == after:
        return None
    change = _record(
        actor=actor, entry=entry, principal=principal, before=before, after=after, reason=reason
    )
    for end in {end for role, end in after.items() if before.get(role) != end}:
        if isinstance(end, datetime):
            transaction.on_commit(partial(tasks.expiry_schedule, end))
    return change


def _with_ends(before: Terms, roles: frozenset[Role], ends: Ends) -> dict[Role, End]:
    """Return `roles`, each ending at `ends` (KEEP: as it does in `before`)."""
    if isinstance(ends, Unchanged):
        return {role: before.get(role) for role in roles}
    return dict.fromkeys(roles, ends)


def _later(first: End, second: End) -> End:
    """Return the later of two ends (None, no end, is the latest). An instant and a
    session's end cannot be compared: the second, the newer choice, wins."""
    if first is None or second is None:
        return None
    if isinstance(first, datetime) and isinstance(second, datetime):
        return max(first, second)
    return second


def _added(before: Terms, roles: frozenset[Role], ends: End) -> Terms:
    """Return `before` with `roles` added to end at `ends`: adding never shortens a grant."""
    added = {role: _later(before[role], ends) if role in before else ends for role in roles}
    return {**before, **added}


# Nested calls share the outermost transaction (no savepoint each): one failure undoes all.
@transaction.atomic(savepoint=False)
def access_set(
    *,
    actor: User | None,
    entry: MediaEntry,
    principal: User | Group,
    roles: Iterable[Role],
    ends: Ends = KEEP,
) -> AccessChange | None:
    """Make `roles` exactly what the user or group holds on the entry, ending at `ends`
    (KEEP: those held already end as they did, new ones last), and log the change.

    Returns the audit record, or None when nothing changed.
    """
    roles = frozenset(roles)
    return _access_change(
        actor=actor,
        entry=entry,
        principal=principal,
        target=lambda before: _with_ends(before, roles, ends),
    )


@transaction.atomic(savepoint=False)
def access_add(
    *,
    actor: User | None,
    entry: MediaEntry,
    principal: User | Group,
    roles: Iterable[Role],
    moderators: bool = False,
    ends: End = None,
    reason: AccessChange.Reason = AccessChange.Reason.CHANGE,
) -> AccessChange | None:
    """Add `roles`, ending at `ends` (None: lasting), to what the user or group already
    holds; never removes a role nor brings an instant's end nearer (see _later for a
    session's end)."""
    roles = frozenset(roles)
    if not roles:
        raise ValidationError("Choose at least one permission.", code="no_roles")
    _check_principal(entry, principal)
    return _access_change(
        actor=actor,
        entry=entry,
        principal=principal,
        target=lambda before: _added(before, roles, ends),
        moderators=moderators,
        reason=reason,
    )


@transaction.atomic(savepoint=False)
def access_add_many(
    *,
    actor: User | None,
    entry: MediaEntry,
    principals: Iterable[User | Group],
    roles: Iterable[Role],
    moderators: bool = False,
    ends: End = None,
) -> list[AccessChange]:
    """Add `roles` (ending at `ends`) to each user and group; all or nothing. Return the
    audit records."""
    roles = frozenset(roles)
    changes = []
    for principal in principals:
        change = access_add(
            actor=actor,
            entry=entry,
            principal=principal,
            roles=roles,
            moderators=moderators,
            ends=ends,
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
    ends: datetime | None = None,
) -> list[AccessChange]:
    """Make users and groups co-editors, co-publishers or co-viewers (owner only), until
    `ends` (None: lasting)."""
    roles = frozenset(roles)
    if not roles <= set(permissions.COLLABORATOR_ROLES):
        raise ValidationError("Collaborators are co-editors, co-publishers or co-viewers.")
    return access_add_many(actor=actor, entry=entry, principals=principals, roles=roles, ends=ends)


@transaction.atomic
def moderators_add(
    *,
    actor: User,
    entry: MediaEntry,
    principals: Iterable[User | Group],
    roles: Iterable[Role],
    ends: End = None,
) -> list[AccessChange]:
    """Make users and groups room and/or chat moderators of a room (owner and co-editors),
    until `ends` (None: lasting; SESSION_END: the end of the session in progress or the
    next one)."""
    roles = frozenset(roles)
    if not entry.is_room:
        raise ValidationError("Only rooms have moderators.", code="not_room")
    if not roles <= set(permissions.MODERATOR_ROLES):
        raise ValidationError("Moderators are room moderators or chat moderators.")
    principals = list(principals)
    if not principals and not access.module_on():
        raise ValidationError(permissions.MODULE_OFF_MESSAGE, code="module_off")
    return access_add_many(
        actor=actor, entry=entry, principals=principals, roles=roles, moderators=True, ends=ends
    )


@transaction.atomic(savepoint=False)
def access_edit(
    *,
    actor: User,
    entry: MediaEntry,
    principal: User | Group,
    roles: Iterable[Role],
    scope: Iterable[Role],
    ends: Ends = KEEP,
) -> AccessChange | None:
    """Set the roles within `scope` (what the actor may manage), ending at `ends` (KEEP:
    as they did; a new one lasts); leave the others alone."""
    scope, chosen = frozenset(scope), frozenset(roles) & frozenset(scope)

    def target(before: Terms) -> Terms:
        kept = {role: end for role, end in before.items() if role not in scope}
        return kept | _with_ends(before, chosen, ends)

    return _access_change(actor=actor, entry=entry, principal=principal, target=target)


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
        actor=actor,
        entry=entry,
        principal=principal,
        target=lambda before: {role: end for role, end in before.items() if role not in scope},
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


def grants_expire() -> int:
    """Remove every grant whose end has come, recording each as "expired" with no actor:
    the sweep (mediaspace.tasks.grants_expire). A grant stops counting at its end without
    it; this tidies guardian's rows and tells the audit log. Returns how many users and
    groups lost roles. Each is its own transaction, under its entry's lock."""
    due = (
        GrantTerm.objects.filter(ends_at__lte=timezone.now())
        .order_by("entry_id", "group_id", "user_id")
        .values_list("entry_id", "user_id", "group_id")
        .distinct()
    )
    expired = 0
    for entry_id, user_id, group_id in list(due):
        with transaction.atomic():
            entry = MediaEntry.objects.filter(pk=entry_id).first()
            principal: User | Group | None = (
                Group.objects.filter(pk=group_id).first()
                if group_id
                else User.objects.filter(pk=user_id).first()
            )
            if entry is None or principal is None:
                continue  # deleted since: its terms went with it
            _, held = access.entry_for_change(entry, principal)
            if _ended_remove(entry, principal, held) != held:
                expired += 1
    return expired


def session_grants_end(entry: MediaEntry) -> int:
    """Take away the roles granted on the room until its session ends, recording each as
    "expired" (no actor): rooms.services.session_end calls it as the session ends, in its
    transaction. Returns how many users and groups lost roles."""
    bound = (
        GrantTerm.objects.filter(entry=entry, at_session_end=True)
        .order_by("group_id", "user_id")
        .values_list("user_id", "group_id")
        .distinct()
    )
    ended = 0
    for user_id, group_id in list(bound):
        principal: User | Group = (
            Group.objects.get(pk=group_id) if group_id else User.objects.get(pk=user_id)
        )
        _, found = access.entry_for_change(entry, principal)
        held = _ended_remove(entry, principal, found)
        left = {role: end for role, end in held.items() if end is not SESSION_END}
        if left != held:
            _record(
                actor=None,
                entry=entry,
                principal=principal,
                before=held,
                after=left,
                reason=AccessChange.Reason.EXPIRED,
            )
            ended += 1
    return ended


@transaction.atomic
def ownership_transfer(
    *, actor: User, entry: MediaEntry, new_owner: User | Group, keep_co_editor: bool = True
) -> MediaEntry:
    """Make `new_owner` the entry's owner (the owner only). By default the old owner keeps
    Co-editor; the new owner's own grants are folded into ownership. Both changes are in
    the audit log ("Ownership transferred"). Refused: a group, an inactive person, the
    owner themselves, or someone not the owner asking (a second submit, say)."""
    access.lock_entry(entry.pk)
    entry.refresh_from_db(fields=["owner"])
    if entry.owner_id != actor.pk:
        raise ValidationError(
            f"Only the owner can transfer “{entry.name}”, and {actor} no longer owns it.",
            code="not_owner",
        )
    if isinstance(new_owner, Group):
        raise ValidationError("Ownership goes to a person, not a group.", code="group")
    if new_owner.pk == actor.pk:
        raise ValidationError("You own it already: choose someone else.", code="self")
    if not new_owner.is_active:
        raise ValidationError(f"{new_owner} is inactive and cannot own media.", code="inactive")
    _, found = access.entry_for_change(entry, new_owner)
    held = _ended_remove(entry, new_owner, found)
    transfer = AccessChange.Reason.TRANSFER
    # The new owner's grants give way to ownership (the owner holds Owner alone).
    change = AccessChange(
        entry=entry,
        actor=actor,
        user=new_owner,
        principal_name=_principal_name(new_owner),
        before=[role.value for role in permissions.sorted_roles(held)],
        after=[Role.OWNER.value],
        before_ends=_ends_text(held),
        reason=transfer,
    )
    permissions.roles_change(entry, new_owner, before=held, after={}, change=change)
    # The old owner's row becomes a co-editor's, or goes.
    kept: dict[Role, End] = {Role.CO_EDITOR: None} if keep_co_editor else {}
    change = AccessChange(
        entry=entry,
        actor=actor,
        user=actor,
        principal_name=_principal_name(actor),
        before=[Role.OWNER.value],
        after=[role.value for role in kept],
        reason=transfer,
    )
    permissions.roles_change(entry, actor, before={}, after=kept, change=change)
    entry.owner = new_owner
    entry.save(update_fields=["owner"])
    access.owner_write(entry)
    return entry


@transaction.atomic
def access_copy(
    *, actor: User, entry: MediaEntry, items: Iterable[tuple[User | Group, Terms]]
) -> list[AccessChange]:
    """Add to the entry each user's or group's roles with their ends (a copy from another
    entry: selectors.copy_plan); all or nothing, never removing anything. One record per
    user or group and end."""
    changes = []
    for principal, terms in items:
        by_end: dict[End, set[Role]] = {}
        for role, end in terms.items():
            by_end.setdefault(end, set()).add(role)
        for end, roles in by_end.items():
            change = access_add(
                actor=actor,
                entry=entry,
                principal=principal,
                roles=roles,
                moderators=bool(roles & set(permissions.MODERATOR_ROLES)),
                ends=end,
                reason=AccessChange.Reason.COPY,
            )
            if change is not None:
                changes.append(change)
    return changes
