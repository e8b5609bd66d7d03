"""Every change to rooms: creating them and adding their moderators."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction

from mediaspace import services as media_services
from mediaspace.models import AccessChange, MediaEntry
from mediaspace.permissions import MODERATOR_ROLES, Role
from rooms import permissions

if TYPE_CHECKING:
    from django.contrib.auth.models import Group

    from accounts.models import User


@transaction.atomic
def room_create(*, owner: User, name: str, description: str = "", tags: str = "") -> MediaEntry:
    """Create a room: a media entry of type room with its room record."""
    return media_services.media_create(
        owner=owner,
        name=name,
        media_type=MediaEntry.Type.ROOM,
        description=description,
        tags=tags,
    )


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
    if not permissions.moderation_enabled():
        raise ValidationError(permissions.MODULE_OFF_MESSAGE, code="module_off")
    if not entry.is_room:
        raise ValidationError("Only rooms have moderators.", code="not_room")
    if not roles <= set(MODERATOR_ROLES):
        raise ValidationError("Moderators are room moderators or chat moderators.")
    return media_services.access_add_many(
        actor=actor, entry=entry, principals=principals, roles=roles
    )
