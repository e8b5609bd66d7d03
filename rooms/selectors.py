"""Reads for the room page: the viewer's place in the session, participants, chat, events."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.http import Http404
from django.utils import timezone
from django.utils.text import Truncator

from accounts.models import User
from mediaspace import access
from mediaspace.models import MediaEntry, Role
from mediaspace.permissions import Access, sorted_roles
from rooms.models import ChatMessage, Participant, Room, RoomEvent, Session
from rooms.permissions import Powers, session_roles

# How much of a busy room one page shows: the latest messages (earlier ones load a page at
# a time), the first participants.
CHAT_SHOWN = 30
PARTICIPANTS_SHOWN = 100

# Presence: the page's poll refreshes Participant.last_seen_at at most every
# PRESENCE_REFRESH (services.presence_note); someone unseen for longer than AWAY_AFTER is
# away. Chromium runs a background tab's timers as rarely as once a minute, so AWAY_AFTER
# leaves room for that.
PRESENCE_REFRESH = timedelta(seconds=30)
AWAY_AFTER = timedelta(seconds=90)

STATE_LABELS = {
    "not-started": "Not started",
    Session.State.OPEN: "Open",
    Session.State.LIVE: "Live",
    Session.State.ENDED: "Ended",
}


# Session and event numbers in ASCII digits (no more than the database holds), two flags.
# (A page from before the access version was added sends four parts: it reads as 0.)
CURSOR = re.compile(r"([0-9]{1,18})\.([0-9]{1,18})\.([01])\.([01])(?:\.([0-9]{1,18}))?")


@dataclass(frozen=True)
class Cursor:
    """Where a page's view of the room stands; a poll answers 204 while it still holds.

    Written `<session>.<seq>.<notice>.<chat>.<access>`: the session shown, the last event
    seen, whether the page shows the "permissions changed" notice and the chat, and the
    entry's latest change of access it has seen (someone's roles, and so the participants
    list's labels, may have changed).
    """

    session_id: int = 0
    seq: int = 0
    notice: bool = False
    chat: bool = False
    access: int = 0

    def __str__(self) -> str:
        flags = f"{int(self.notice)}.{int(self.chat)}"
        return f"{self.session_id}.{self.seq}.{flags}.{self.access}"

    @classmethod
    def parse(cls, text: str) -> Cursor | None:
        """Return the cursor written in `text`, or None when it is malformed."""
        found = CURSOR.fullmatch(text)
        if found is None:
            return None
        session_id, seq, notice, chat, access_version = found.groups()
        return cls(int(session_id), int(seq), notice == "1", chat == "1", int(access_version or 0))


@dataclass(frozen=True)
class Standing:
    """Where a user stands in a room: its latest session, their place in it, their roles.

    Read with two queries (see `standing`), because it is the hot path: every page in a
    room polls every two seconds, and joining and posting need no more than this.
    """

    entry: MediaEntry  # in full, with its owner
    module_on: bool
    session_id: int | None  # the latest session, ended or not
    session_state: str | None
    session_locked: bool
    seq: int
    participant_id: int | None  # the user's row in that session
    joined_roles: frozenset[Role]
    present: bool  # joined, and neither left nor removed
    removed: bool
    chat_blocked: bool
    user_id: int = 0
    last_seen_at: datetime | None = None  # the user's, in that session
    presence_checked_at: datetime | None = None  # the session's (services.presence_note)
    roles: frozenset[Role] = frozenset()  # held now, as the access rule counts them
    nth_post: datetime | None = None  # read for a post: see posting_wait
    access_version: int = 0  # the entry's latest change of access

    @property
    def access(self) -> Access:
        return Access(entry=self.entry, roles=self.roles, moderation_on=self.module_on)

    @property
    def session_pk(self) -> int:
        """Return the latest session's id, for a caller that knows there is one."""
        if self.session_id is None:
            raise ValueError("The room has no session.")
        return self.session_id

    @property
    def participant_pk(self) -> int:
        """Return the user's row's id, for a caller that knows there is one."""
        if self.participant_id is None:
            raise ValueError("The user has no place in the session.")
        return self.participant_id

    @property
    def chat_on(self) -> bool:
        """Whether the ChatandCollaboration module is on: it holds the chat."""
        return self.module_on

    @property
    def state(self) -> str:
        return self.session_state or "not-started"

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def is_open(self) -> bool:
        return self.session_state == Session.State.OPEN

    @property
    def is_live(self) -> bool:
        return self.session_state == Session.State.LIVE

    @property
    def is_ended(self) -> bool:
        return self.session_state == Session.State.ENDED

    @property
    def has_session(self) -> bool:
        """Whether a session is in progress: open or live."""
        return self.is_open or self.is_live

    @property
    def locked(self) -> bool:
        return self.has_session and self.session_locked

    @property
    def leads(self) -> bool:
        """Whether the user may open and start the room now: hosts and room moderators."""
        return Powers(session_roles(self.roles)).can_run_room

    @property
    def joined(self) -> bool:
        """Whether the user is in the session in progress."""
        return self.has_session and self.present

    @property
    def was_removed(self) -> bool:
        """Whether a moderator removed the user from the session in progress."""
        return self.has_session and self.removed

    @property
    def inside(self) -> bool:
        """Whether the user sees the room itself: live, or open for those preparing it."""
        return self.joined and (self.is_live or self.leads)

    @property
    def powers(self) -> Powers:
        """Return what the user may do: join-time roles still held now (rules 1 and 2)."""
        if not self.joined:
            return Powers()
        return Powers.held(joined=self.joined_roles, current=self.roles)

    @property
    def role_labels(self) -> list[str]:
        """Return the labels of the roles the user acts with in the session."""
        return [role.label for role in sorted_roles(self.powers.roles)]

    @property
    def roles_changed(self) -> bool:
        """Whether the user's roles changed since they joined: lost at once (rule 2), or
        gained on rejoining (rule 1)."""
        return self.joined and session_roles(self.joined_roles) != session_roles(self.roles)

    @property
    def roles_lost(self) -> list[str]:
        """Return the labels of roles the user joined with and no longer holds."""
        if not self.joined:
            return []
        lost = session_roles(self.joined_roles) - session_roles(self.roles)
        return [role.label.lower() for role in sorted_roles(lost)]

    @property
    def roles_gained(self) -> bool:
        """Whether the user holds roles now that apply when they rejoin (rule 1)."""
        return self.joined and bool(session_roles(self.roles) - session_roles(self.joined_roles))

    @property
    def can_join(self) -> bool:
        """Whether a Join button would let the user in now."""
        if self.was_removed:
            return False
        if self.leads:
            return True
        return self.is_live and (not self.session_locked or self.participant_id is not None)

    @property
    def can_post(self) -> bool:
        return self.chat_on and self.joined and self.is_live and not self.chat_blocked

    @property
    def cursor(self) -> Cursor:
        return Cursor(
            self.session_id or 0, self.seq, self.roles_changed, self.chat_on, self.access_version
        )


def _standing(user: User, found: access.RoomView) -> Standing:
    """Return where the user stands in the room `found` shows."""
    session = found.session or {}
    me = found.participant or {}
    roles = me.get("roles")
    if isinstance(roles, str):  # JSON read by hand
        roles = json.loads(roles)
    return Standing(
        entry=found.view.entry,
        module_on=found.view.module_on,
        session_id=session.get("id"),
        session_state=session.get("state"),
        session_locked=bool(session.get("locked")),
        seq=session.get("seq") or 0,
        participant_id=me.get("id"),
        joined_roles=session_roles(roles or []),
        present=bool(me) and me["left_at"] is None and me["removed_at"] is None,
        removed=me.get("removed_at") is not None,
        chat_blocked=me.get("chat_blocked_at") is not None,
        user_id=user.pk,
        last_seen_at=me.get("last_seen_at"),
        presence_checked_at=session.get("presence_checked_at"),
        roles=found.view.roles,
        nth_post=found.nth_post,
        access_version=found.access_version,
    )


def standing(user: User, entry_id: int, *, lock: bool = False) -> Standing | None:
    """Return where the user stands in the room, or None when there is no such room.

    One query (mediaspace.access.room_for_user): the hot path, as every page in a room
    polls every two seconds. With `lock`, for a change, it also locks the room until the
    transaction ends. It does not check that the user may see the room: see
    `standing_for_user`.
    """
    found = access.room_for_user(user, entry_id, lock=lock)
    return _standing(user, found) if found is not None else None


def standing_for_user(
    user: User, entry_id: int, *, lock: bool = False, posting: datetime | None = None
) -> Standing:
    """Return where the user stands in a room they may see, with their roles now; or 404.

    With `posting` (now), for a chat post, it also reads what the chat's rate needs.
    """
    window = posting_window(posting) if posting is not None else None
    found = access.room_for_user(user, entry_id, lock=lock, posts_since=window)
    if found is None or not found.view.visible:
        raise Http404("No such room.")
    return _standing(user, found)


def room_standing(found: Access, user: User) -> Standing:
    """Return where the user stands in a room already fetched and authorised."""
    here = standing(user, found.entry.pk)
    if here is None:
        raise Http404("No such room.")
    return here


@dataclass(frozen=True)
class RoomPage:
    """What the room page shows: where the user stands, and the records to render."""

    view: Standing
    entry: MediaEntry  # in full, with its owner
    room: Room | None  # the room's record (its schedule), once it has one
    session: Session | None  # the latest session, in full, when it has ended


def room_for_user(user: User, entry_id: int) -> RoomPage:
    """Fetch the room page's records for a user who may see the room, or 404."""
    view = standing_for_user(user, entry_id)
    room = Room.objects.filter(pk=entry_id).first()
    session = Session.objects.get(pk=view.session_pk) if view.is_ended else None
    return RoomPage(view=view, entry=view.entry, room=room, session=session)


# Lists: rows go to the templates as flat dictionaries of what each row shows, which the
# template engine reads faster than attribute chains through models and properties.

PERSON_FIELDS = ("username", "display_name", "first_name", "last_name")
PERSON_LOOKUPS = tuple(f"user__{name}" for name in PERSON_FIELDS)


class _Person:
    """Just a user's names, shown as User shows them: far cheaper than a model."""

    __slots__ = PERSON_FIELDS

    def __init__(self, username: str, display_name: str, first_name: str, last_name: str):
        self.username, self.display_name = username, display_name
        self.first_name, self.last_name = first_name, last_name

    @property
    def name(self) -> str:
        return User.name_from(self.display_name, self.first_name, self.last_name, self.username)

    @property
    def initials(self) -> str:
        return User.initials_from(self.name)

    @property
    def avatar_tone(self) -> int:
        return User.avatar_tone_of(self.username)


@cache
def _joined_with(roles_json: str) -> frozenset[Role]:
    """Return the session roles stored as join-time roles (a room has a few combinations
    among hundreds of participants: each is decoded once)."""
    return session_roles(json.loads(roles_json))


@cache
def _standing_in_list(acting: frozenset[Role]) -> tuple[str, bool, str]:
    """Return where the roles someone acts with put them in the participants list: the
    group, whether they are a host, and the roles' labels."""
    powers = Powers(acting)
    labels = " · ".join(role.label for role in sorted_roles(powers.roles))
    return powers.group, powers.is_host, labels


@dataclass
class ParticipantGroups:
    """The participants list: hosts, moderators and everyone else, each by name."""

    hosts: list[dict[str, object]] = field(default_factory=list)
    moderators: list[dict[str, object]] = field(default_factory=list)
    participants: list[dict[str, object]] = field(default_factory=list)
    total: int = 0
    away: int = 0
    hidden: int = 0

    @property
    def groups(self) -> list[tuple[str, list[dict[str, object]]]]:
        return [
            ("Hosts", self.hosts),
            ("Moderators", self.moderators),
            ("Participants", self.participants),
        ]


def participants_grouped(view: Standing) -> ParticipantGroups:
    """Return who is in the session now, grouped by the roles they act with: those they
    joined with and still hold (rules 1 and 2), so that a revocation shows at once.

    Two queries: the participants, and the roles now of those who joined with any. Each
    group is sorted by the name shown, ignoring case, the same on every database. A busy
    room shows its first PARTICIPANTS_SHOWN participants; hosts and moderators are always
    all shown. Someone unseen for longer than AWAY_AFTER is marked away.
    """
    away_before = timezone.now() - AWAY_AFTER
    rows = (
        Participant.objects.filter(session_id=view.session_pk, left_at=None, removed_at=None)
        .annotate(
            # As text and booleans: cheaper to read than JSON and datetimes, row after row.
            roles_json=Cast("roles", TextField()),
            blocked=ExpressionWrapper(Q(chat_blocked_at__isnull=False), BooleanField()),
            away=ExpressionWrapper(Q(last_seen_at__lt=away_before), BooleanField()),
        )
        .values_list("id", "user_id", "roles_json", "blocked", "away", *PERSON_LOOKUPS)
    )
    people = [
        (_Person(*names), participant_id, user_id, _joined_with(roles_json), blocked, away)
        for participant_id, user_id, roles_json, blocked, away, *names in rows
    ]
    people.sort(key=lambda row: (row[0].name.casefold(), row[0].username))
    holders = [user_id for _, _, user_id, joined, _, _ in people if joined]
    now = access.users_roles(view.entry, holders, module_on=view.module_on) if holders else {}
    can_manage = view.powers.can_manage_people
    grouped = ParticipantGroups(total=len(people))
    for person, participant_id, user_id, joined, blocked, away in people:
        acting = joined & session_roles(now.get(user_id, ())) if joined else joined
        group_name, is_host, labels = _standing_in_list(acting)
        grouped.away += bool(away)
        group = getattr(grouped, group_name)
        if group is grouped.participants and len(group) >= PARTICIPANTS_SHOWN:
            grouped.hidden += 1
            continue
        you = participant_id == view.participant_id
        group.append(
            {
                "id": participant_id,
                "name": person.name,
                "initials": person.initials,
                "tone": person.avatar_tone,
                "labels": labels,
                "blocked": bool(blocked),
                "away": bool(away),
                "you": you,
                "manageable": can_manage and not (you or is_host),
            }
        )
    return grouped


MESSAGE_FIELDS = (
    "id",
    "body",
    "created_at",
    "author_id",
    "pinned_at",
    *(f"author__{name}" for name in PERSON_FIELDS),
)


def _message_rows(view: Standing, messages: Iterable[tuple]) -> list[dict[str, object]]:
    """Return chat messages flattened for the template, with the actions this reader has.

    Chat moderators and hosts pin or unpin and delete any message; anyone in the live
    session deletes their own.
    """
    moderates = view.chat_on and view.powers.can_moderate_chat
    deletes_own = view.chat_on and view.is_live and view.joined
    rows = []
    for message_id, body, created_at, author_id, pinned_at, *names in messages:
        when = timezone.localtime(created_at)
        mine = author_id == view.user_id
        rows.append(
            {
                "id": message_id,
                "body": body,
                "author": _Person(*names).name,
                "iso": when.isoformat(),
                "time": f"{when:%H:%M}",
                "pinned": pinned_at is not None,
                "mine": mine,
                "deletable": moderates or (mine and deletes_own),
                "pinnable": moderates,
            }
        )
    return rows


def _visible_messages(session_id: int) -> QuerySet[ChatMessage]:
    return ChatMessage.objects.filter(session_id=session_id, deleted_at=None, cleared_at=None)


def chat_recent(
    view: Standing, *, before: int | None = None
) -> tuple[list[dict[str, object]], bool]:
    """Return the latest CHAT_SHOWN visible messages (before message `before`, if given),
    oldest first, and whether earlier ones exist.
    """
    messages = _visible_messages(view.session_pk)
    if before is not None:
        messages = messages.filter(pk__lt=before)
    latest = list(messages.order_by("-id").values_list(*MESSAGE_FIELDS)[: CHAT_SHOWN + 1])
    return _message_rows(view, latest[:CHAT_SHOWN][::-1]), len(latest) > CHAT_SHOWN


def chat_pinned(view: Standing) -> list[dict[str, object]]:
    """Return the session's pinned, visible messages, earliest pin first."""
    pinned = _visible_messages(view.session_pk).filter(pinned_at__isnull=False)
    moderates = view.chat_on and view.powers.can_moderate_chat
    return [
        {
            "id": message_id,
            "author": _Person(*names).name,
            "text": Truncator(body).chars(200),
            "unpinnable": moderates,
        }
        for message_id, body, *names in pinned.order_by("pinned_at", "id").values_list(
            "id", "body", *(f"author__{name}" for name in PERSON_FIELDS)
        )
    ]


def messages_by_id(view: Standing, message_ids: Iterable[int]) -> list[dict[str, object]]:
    """Return these visible messages of the session, oldest first."""
    chosen = _visible_messages(view.session_pk).filter(pk__in=list(message_ids))
    return _message_rows(view, chosen.order_by("id").values_list(*MESSAGE_FIELDS))


def message_updates(view: Standing, changes: Changes) -> list[dict[str, object]]:
    """Return what changed in messages a page may show: deleted ones, re-pinned ones.

    The page applies each to the message with the same id only if it shows that message
    (it may show earlier ones, or not yet the latest), so nothing refers to a missing one.
    """
    gone = [{"id": str(message_id), "gone": True} for message_id in dict.fromkeys(changes.hidden)]
    redrawn = set(changes.pinned) - set(changes.hidden) - set(changes.posted)
    return gone + (messages_by_id(view, redrawn) if redrawn else [])


@dataclass
class Changes:
    """What happened in a session after a cursor, as the poll needs it."""

    state: bool = False
    people: bool = False
    cleared: bool = False
    pins: bool = False
    me: bool = False
    posted: list[int] = field(default_factory=list)
    hidden: list[int] = field(default_factory=list)
    pinned: list[int] = field(default_factory=list)


def changes_since(session_id: int, seq: int, participant_id: int | None) -> Changes:
    """Sum up the session's events after `seq` (one query)."""
    changes = Changes()
    rows = RoomEvent.objects.filter(session_id=session_id, seq__gt=seq).values_list(
        "kind", "message_id", "participant_id"
    )
    for kind, message_id, event_participant_id in rows:
        if kind == RoomEvent.Kind.STATE:
            changes.state = True
        elif kind == RoomEvent.Kind.MESSAGE:
            changes.posted.append(message_id)
        elif kind == RoomEvent.Kind.HIDDEN and message_id in changes.posted:
            changes.posted.remove(message_id)  # posted and deleted since: never shown
        elif kind == RoomEvent.Kind.HIDDEN:
            changes.hidden.append(message_id)
            changes.pins = True  # it may have been pinned
        elif kind == RoomEvent.Kind.PIN:
            changes.pins = True
            changes.pinned.append(message_id)
        elif kind == RoomEvent.Kind.CLEAR:
            changes.cleared = True
            changes.pins = True
        elif kind == RoomEvent.Kind.PEOPLE:
            changes.people = True
            if participant_id is not None and event_participant_id == participant_id:
                changes.me = True
    return changes


def posting_window(now: datetime) -> tuple[datetime, int]:
    """Return since when a person's posts count against the chat's rate, and how many may
    be there: CHAT_RATE_MESSAGES within any CHAT_RATE_SECONDS, over all their rooms,
    sessions and tabs. `standing_for_user(posting=...)` reads the last one that counts."""
    return now - timedelta(seconds=settings.CHAT_RATE_SECONDS), settings.CHAT_RATE_MESSAGES


def posting_wait(here: Standing, now: datetime) -> int:
    """Return how many seconds the poster must wait before posting again; 0 when they may.

    `here` was read with `posting=now`: the limit-th newest post within the window, if
    there is one, must leave the window first.
    """
    if here.nth_post is None:
        return 0
    window = timedelta(seconds=settings.CHAT_RATE_SECONDS)
    return max(1, math.ceil((here.nth_post + window - now).total_seconds()))
