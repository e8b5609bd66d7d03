"""Who may moderate a room, and whether moderation is on at all.

The only module of the rooms app that talks to django-guardian: the room moderator and
chat moderator permissions, and the ChatandCollaboration switch that makes them count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.auth.models import Group
from django.db.models import Exists, Q
from guardian.shortcuts import assign_perm, remove_perm

from mediaspace.models import Role
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


# Roles in a live session (issue 5) ------------------------------------------------------
# Rule 1: roles are resolved when a user joins and kept for the session. Rule 2: an
# action needs the role both at join time and now, so a revocation bites at once.

HOST_ROLES = frozenset({Role.OWNER, Role.CO_EDITOR})
SESSION_ROLES = HOST_ROLES | {Role.ROOM_MODERATOR, Role.CHAT_MODERATOR}
CHAT_OFF_MESSAGE = (
    "Chat is unavailable because the ChatandCollaboration module is switched off. "
    "Ask an operator to switch it on."
)


def session_roles(roles: Iterable[Role | str]) -> frozenset[Role]:
    """Return the roles that count in a room session: hosts' and moderators'."""
    return frozenset(Role(role) for role in roles) & SESSION_ROLES


@dataclass(frozen=True)
class Powers:
    """What someone may do in a session, from the roles they act with."""

    roles: frozenset[Role] = frozenset()

    @classmethod
    def held(cls, *, joined: Iterable[Role | str], current: Iterable[Role | str]) -> Powers:
        """Return the powers of join-time roles that are still held now."""
        return cls(session_roles(joined) & session_roles(current))

    @property
    def is_host(self) -> bool:
        return bool(self.roles & HOST_ROLES)

    @property
    def can_run_room(self) -> bool:
        """Open, start and end the session, lock the room, remove participants."""
        return self.is_host or Role.ROOM_MODERATOR in self.roles

    @property
    def can_moderate_chat(self) -> bool:
        """Delete and pin messages, block from chat, clear the chat."""
        return self.is_host or Role.CHAT_MODERATOR in self.roles

    @property
    def can_manage_people(self) -> bool:
        """Whether the participants list offers Manage: remove, or block from chat."""
        return self.can_run_room or self.can_moderate_chat

    @property
    def group(self) -> str:
        """Return where the participants list shows this person: hosts, moderators, others."""
        if self.is_host:
            return "hosts"
        return "moderators" if self.roles else "participants"
