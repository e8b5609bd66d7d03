from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from mediaspace.models import MediaEntry


class Room(models.Model):
    """The live-room record of a media entry of type room.

    Its moderators are roles on the entry itself (mediaspace.permissions).
    """

    media = models.OneToOneField(
        MediaEntry, on_delete=models.CASCADE, primary_key=True, related_name="room"
    )
    scheduled_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.media.name


# Live sessions, chat and moderation -------------------------------------------------


class Session(models.Model):
    """One sitting of a room, from opening to its end.

    Every change a room's visitors must see (a message, a deletion, a pin, a join, a
    state change) appends a RoomEvent numbered one past the session's latest, in the same
    transaction as the change and under the room's lock, so polls can ask for "everything
    after N" and never miss or repeat a change. The session's number is its latest
    event's (services.session_seq): one record, not a counter beside it.
    """

    class State(models.TextChoices):
        OPEN = "open", "Open"
        LIVE = "live", "Live"
        ENDED = "ended", "Ended"

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="sessions")
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    locked = models.BooleanField(default=False)
    # Not stored: the number of the session's latest event, where the services read it.
    seq: int = 0
    opened_at = models.DateTimeField(auto_now_add=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # When a poll last looked for participants who went away (rooms.services.presence_note).
    presence_checked_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["room", "-id"], name="session_room_latest")]
        constraints = [
            models.UniqueConstraint(
                fields=["room"],
                condition=~Q(state="ended"),
                name="session_one_current_per_room",
                violation_error_message="This room already has a session that has not ended.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.room} · {self.opened_at:%Y-%m-%d %H:%M} ({self.state})"

    @property
    def is_open(self) -> bool:
        return self.state == self.State.OPEN

    @property
    def is_live(self) -> bool:
        return self.state == self.State.LIVE

    @property
    def is_ended(self) -> bool:
        return self.state == self.State.ENDED


class Participant(models.Model):
    """A user's presence in one session, with the roles resolved when they (re)joined."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="room_participations"
    )
    # Role values (mediaspace.models.Role) held at join time; kept for the session.
    roles = models.JSONField(default=list, blank=True)
    joined_at = models.DateTimeField()
    # When the user's room page last polled (at most every selectors.PRESENCE_REFRESH);
    # None for rows from before presence was kept, counted as here.
    last_seen_at = models.DateTimeField(null=True, blank=True)
    left_at = models.DateTimeField(null=True, blank=True)
    chat_blocked_at = models.DateTimeField(null=True, blank=True)
    chat_blocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    # Not stored: services.participant_join says whether the user was in the session
    # already (a rejoin) on the row it returns.
    rejoined = False

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "user"], name="participant_once_per_session"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.session}"

    @property
    def is_present(self) -> bool:
        return self.left_at is None and self.removed_at is None

    @property
    def is_removed(self) -> bool:
        return self.removed_at is not None

    @property
    def is_chat_blocked(self) -> bool:
        return self.chat_blocked_at is not None


class ChatMessage(models.Model):
    """One chat message; deletion and clearing only flag it, so the record stays whole."""

    MAX_LENGTH = 2000

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_messages"
    )
    body = models.TextField(max_length=MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)
    pinned_at = models.DateTimeField(null=True, blank=True)
    pinned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["session", "-id"], name="chat_session_latest"),
            # The pinned area, read with every room page: a few rows among thousands.
            models.Index(
                fields=["session", "pinned_at"],
                condition=Q(pinned_at__isnull=False),
                name="chat_session_pinned",
            ),
            # A person's latest messages, for the chat's rate limit (across rooms).
            models.Index(fields=["author", "-created_at"], name="chat_author_latest"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(body=""), name="chat_body_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.author}: {self.body[:60]}"

    @property
    def is_visible(self) -> bool:
        return self.deleted_at is None and self.cleared_at is None


class RoomEvent(models.Model):
    """One numbered change in a session: what a poll after an older number must show."""

    class Kind(models.TextChoices):
        STATE = "state", "Session state"  # opened, started, ended, locked, unlocked
        MESSAGE = "message", "Message posted"
        HIDDEN = "hidden", "Message deleted"
        PIN = "pin", "Message pinned or unpinned"
        CLEAR = "clear", "Chat cleared"
        PEOPLE = "people", "Participants changed"  # joined, left, removed, blocked

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    message = models.ForeignKey(
        ChatMessage, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["session", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["session", "seq"], name="room_event_seq_unique"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind}"


class ModerationAction(models.Model):
    """Who did what to whom in a session, and when: the room's moderation record."""

    class Kind(models.TextChoices):
        SESSION_OPEN = "session-open", "Opened the room"
        SESSION_START = "session-start", "Started the session"
        SESSION_END = "session-end", "Ended the session"
        ROOM_LOCK = "room-lock", "Locked the room"
        ROOM_UNLOCK = "room-unlock", "Unlocked the room"
        PARTICIPANT_REMOVE = "participant-remove", "Removed a participant"
        CHAT_BLOCK = "chat-block", "Blocked from chat"
        CHAT_UNBLOCK = "chat-unblock", "Unblocked from chat"
        MESSAGE_DELETE = "message-delete", "Deleted a message"
        MESSAGE_PIN = "message-pin", "Pinned a message"
        MESSAGE_UNPIN = "message-unpin", "Unpinned a message"
        CHAT_CLEAR = "chat-clear", "Cleared the chat"

    session = models.ForeignKey(
        Session, on_delete=models.CASCADE, related_name="moderation_actions"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # The roles the actor acted with: join-time roles still held at the time.
    actor_roles = models.JSONField(default=list, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    target_message = models.ForeignKey(
        ChatMessage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Names and counts as they were, so the record reads well after renames.
    detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.actor} · {self.get_kind_display()} · {self.detail}"
