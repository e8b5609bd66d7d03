"""What the roles someone holds on a room let them do in its sessions.

Who holds which role is the access rule's (mediaspace.access): room moderators and chat
moderators are roles on the room's entry, counted only while ChatandCollaboration is on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mediaspace.models import Role

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
