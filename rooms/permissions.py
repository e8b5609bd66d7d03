"""Who may moderate a room, and whether moderation is on at all.

The room moderator and chat moderator permissions (mediaspace.permissions grants and
revokes them, with the catalogue's roles), and the ChatandCollaboration switch that makes
them count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.db.models import Exists, Q

from mediaspace.models import Role
from rooms.models import Module, Room

ROOM_MODERATOR = "moderate_room"
CHAT_MODERATOR = "moderate_chat"
MODERATOR_CODENAMES = (ROOM_MODERATOR, CHAT_MODERATOR)
MODULE_OFF_MESSAGE = (
    "Moderators are unavailable because the ChatandCollaboration module is switched off. "
    "Ask an operator to switch it on."
)


def moderation_enabled() -> bool:
    """Return whether the ChatandCollaboration module is on (it holds moderators and chat).

    Hand-written: services ask it on every change, and compiling the ORM's query costs
    several times what running it does.
    """
    module = connection.ops.quote_name(Module._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {module} WHERE name = %s AND enabled = %s",
            [Module.Name.CHAT_AND_COLLABORATION, True],
        )
        return cursor.fetchone() is not None


def moderation_enabled_q() -> Q:
    """Return moderation_enabled() as a condition, to fold into a query instead of asking."""
    return Q(Exists(Module.objects.filter(name=Module.Name.CHAT_AND_COLLABORATION, enabled=True)))


def room_ensure(entry_id: int) -> None:
    """Make sure a room entry has its room record (moderators' permissions are on it)."""
    room = connection.ops.quote_name(Room._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {room} (media_id) SELECT %s"
            f" WHERE NOT EXISTS (SELECT 1 FROM {room} WHERE media_id = %s)",
            [entry_id, entry_id],
        )


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
