"""Who may moderate a room, and whether moderation is on at all.

The only module of the rooms app that talks to django-guardian: the room moderator and
chat moderator permissions, and the ChatandCollaboration switch that makes them count.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.contrib.auth.models import Group
from django.db.models import Exists, Q
from guardian.shortcuts import assign_perm, remove_perm

from rooms.models import Module, Room

if TYPE_CHECKING:
    from accounts.models import User

ROOM_MODERATOR = "moderate_room"
CHAT_MODERATOR = "moderate_chat"
MODERATOR_CODENAMES = (ROOM_MODERATOR, CHAT_MODERATOR)
MODULE_OFF_MESSAGE = (
    "Moderators are unavailable because the ChatandCollaboration module is switched off. "
    "Ask an operator to switch it on."
)


def moderation_enabled() -> bool:
    """Return whether the ChatandCollaboration module is on (it holds moderators and chat)."""
    return Module.objects.filter(name=Module.Name.CHAT_AND_COLLABORATION, enabled=True).exists()


def moderation_enabled_q() -> Q:
    """Return moderation_enabled() as a condition, to fold into a query instead of asking."""
    return Q(Exists(Module.objects.filter(name=Module.Name.CHAT_AND_COLLABORATION, enabled=True)))


def room_for_entry(entry_id: int) -> Room:
    """Return the room record of a room entry, creating it if it is missing."""
    return Room.objects.get_or_create(media_id=entry_id)[0]


def moderator_grant(entry_id: int, principal: User | Group, codenames: Iterable[str]) -> None:
    """Give the user or group these moderator permissions on the room (guardian)."""
    room = room_for_entry(entry_id)
    for codename in codenames:
        assign_perm(codename, principal, room)


def moderator_revoke(entry_id: int, principal: User | Group, codenames: Iterable[str]) -> None:
    """Take these moderator permissions on the room away from the user or group (guardian)."""
    room = room_for_entry(entry_id)
    for codename in codenames:
        remove_perm(codename, principal, room)
