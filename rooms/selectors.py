"""Reads for the room page: the viewer's place in the session, participants, chat, events."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cache

from django.db import connection
from django.http import Http404
from django.utils.timezone import localtime

from accounts.models import User
from mediaspace.models import MediaEntry, Role
from mediaspace.permissions import VISIBLE_TO_EVERYONE, Access, roles_for_entries, sorted_roles
from rooms.models import ChatMessage, Module, Participant, Room, RoomEvent, Session
from rooms.permissions import Powers, session_roles

# How much of a busy room one page shows: the latest messages, the first participants.
CHAT_SHOWN = 50
PARTICIPANTS_SHOWN = 100

STATE_LABELS = {
    "not-started": "Not started",
    Session.State.OPEN: "Open",
    Session.State.LIVE: "Live",
    Session.State.ENDED: "Ended",
}


@dataclass(frozen=True)
class Cursor:
    """Where a page's view of the room stands; a poll answers 204 while it still holds.

    Written `<session>.<seq>.<notice>.<chat>`: the session shown, the last event seen, and
    whether the page shows the "permissions changed" notice and the chat.
    """

    session_id: int = 0
    seq: int = 0
    notice: bool = False
    chat: bool = False

    def __str__(self) -> str:
        return f"{self.session_id}.{self.seq}.{int(self.notice)}.{int(self.chat)}"

    @classmethod
    def parse(cls, text: str) -> Cursor | None:
        """Return the cursor written in `text`, or None when it is malformed."""
        parts = text.split(".")
        if len(parts) != 4 or not all(part.isdecimal() and len(part) < 19 for part in parts):
            return None
        session_id, seq, notice, chat = (int(part) for part in parts)
        if notice > 1 or chat > 1:
            return None
        return cls(session_id, seq, bool(notice), bool(chat))


@dataclass(frozen=True)
class Standing:
    """Where a user stands in a room: its latest session and their place in it.

    Read with one query (see `standing`), because it is the hot path: every page in a
    room polls every two seconds, and joining and posting need no more than this.
    """

    entry: MediaEntry  # only id, owner_id, status and media_type are loaded
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
    roles: frozenset[Role] = frozenset()  # held now, when looked up (see standing_for_user)

    @property
    def access(self) -> Access:
        return Access(entry=self.entry, roles=self.roles, moderation_on=self.module_on)

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
        """Whether the user's roles changed since they joined: rejoin to apply (rule 1)."""
        return self.joined and session_roles(self.joined_roles) != session_roles(self.roles)

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
        return Cursor(self.session_id or 0, self.seq, self.roles_changed, self.chat_on)


@cache
def _standing_sql() -> str:
    """Return the one query behind `standing`, with the tables' real names."""
    table = {
        model.__name__: connection.ops.quote_name(model._meta.db_table)
        for model in (MediaEntry, Room, Module, Session, Participant)
    }
    return f"""
        SELECT e.owner_id, e.status,
               EXISTS (SELECT 1 FROM {table["Module"]} m WHERE m.name = %s AND m.enabled = %s),
               s.id, s.state, s.locked, s.seq,
               p.id, p.roles, p.left_at, p.removed_at, p.chat_blocked_at
        FROM {table["MediaEntry"]} e
        JOIN {table["Room"]} r ON r.media_id = e.id
        LEFT JOIN {table["Session"]} s
            ON s.id = (SELECT MAX(latest.id) FROM {table["Session"]} latest
                       WHERE latest.room_id = r.media_id)
        LEFT JOIN {table["Participant"]} p ON p.session_id = s.id AND p.user_id = %s
        WHERE e.id = %s AND e.media_type = %s
    """


def standing(user: User, entry_id: int) -> Standing | None:
    """Return where the user stands in the room, or None when the entry is not a room.

    One hand-written query: the ORM's compiling would cost more than the query itself,
    several times over, on the path every participant's page takes every two seconds.
    It does not check that the user may see the room: see `standing_for_user`.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            _standing_sql(),
            [Module.Name.CHAT_AND_COLLABORATION, True, user.pk, entry_id, MediaEntry.Type.ROOM],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    owner_id, status, module_on, session_id, state, locked, seq, participant_id, *rest = row
    roles, left_at, removed_at, chat_blocked_at = rest
    loaded = {"id": entry_id, "owner_id": owner_id, "media_type": MediaEntry.Type.ROOM}
    loaded["status"] = status
    # from_db takes the values in the model's field order; the rest stay deferred.
    fields = [f.attname for f in MediaEntry._meta.concrete_fields if f.attname in loaded]
    entry = MediaEntry.from_db(connection.alias, fields, [loaded[name] for name in fields])
    roles_field = Participant._meta.get_field("roles")
    joined = roles_field.from_db_value(roles, None, connection) if roles is not None else []
    return Standing(
        entry=entry,
        module_on=bool(module_on),
        session_id=session_id,
        session_state=state,
        session_locked=bool(locked),
        seq=seq or 0,
        participant_id=participant_id,
        joined_roles=session_roles(joined),
        present=participant_id is not None and left_at is None and removed_at is None,
        removed=removed_at is not None,
        chat_blocked=chat_blocked_at is not None,
    )


def standing_for_user(user: User, entry_id: int, *, need_roles: bool = True) -> Standing:
    """Return where the user stands in a room they may see, with their roles now; or 404.

    Two queries: `standing`, then the roles (mediaspace.permissions.roles_for_entries),
    which a caller that only needs visibility can skip when the room is visible anyway
    (its owner, or Unlisted or Published).
    """
    found = standing(user, entry_id)
    if found is None:
        raise Http404("No such room.")
    entry = found.entry
    if need_roles or not (entry.owner_id == user.pk or entry.status in VISIBLE_TO_EVERYONE):
        roles = roles_for_entries(user, [entry], moderation_on=found.module_on)[entry.pk]
        found = replace(found, roles=roles)
    if not found.access.can_see:
        raise Http404("No such room.")
    return found


def room_standing(access: Access, user: User) -> Standing:
    """Return where the user stands in a room already fetched and authorised."""
    found = standing(user, access.entry.pk)
    if found is None:
        raise Http404("No such room.")
    return replace(found, roles=access.roles)


@dataclass(frozen=True)
class RoomPage:
    """What the room page shows: where the user stands, and the records to render."""

    view: Standing
    entry: MediaEntry  # in full, with its owner and room
    session: Session | None  # the latest session, in full, when it has ended


def room_for_user(user: User, entry_id: int) -> RoomPage:
    """Fetch the room page's records for a user who may see the room, or 404."""
    view = standing_for_user(user, entry_id)
    entry = MediaEntry.objects.select_related("owner", "room").get(pk=entry_id)
    session = Session.objects.get(pk=view.session_id) if view.is_ended else None
    return RoomPage(view=view, entry=entry, session=session)


# Lists: rows go to the templates as flat dictionaries, which the template engine reads far
# faster than attribute chains through models and properties (see mediaspace.selectors).

PERSON_FIELDS = ("username", "display_name", "first_name", "last_name")


def _person(values: Iterable[str]) -> User:
    """Return an unsaved user holding just the names, for their display helpers."""
    return User(**dict(zip(PERSON_FIELDS, values, strict=True)))


@dataclass
class ParticipantGroups:
    """The participants list: hosts, moderators and everyone else, each by name."""

    hosts: list[dict[str, object]] = field(default_factory=list)
    moderators: list[dict[str, object]] = field(default_factory=list)
    participants: list[dict[str, object]] = field(default_factory=list)
    total: int = 0
    hidden: int = 0

    @property
    def groups(self) -> list[tuple[str, list[dict[str, object]]]]:
        return [
            ("Hosts", self.hosts),
            ("Moderators", self.moderators),
            ("Participants", self.participants),
        ]


def participants_grouped(session_id: int) -> ParticipantGroups:
    """Return who is in the session now, grouped by the roles they joined with (one query).

    A busy room shows its first PARTICIPANTS_SHOWN participants by name; hosts and
    moderators are always all shown.
    """
    rows = (
        Participant.objects.filter(session_id=session_id, left_at=None, removed_at=None)
        .order_by("user__display_name", "user__username")
        .values_list(
            "id",
            "user_id",
            "roles",
            "chat_blocked_at",
            *(f"user__{name}" for name in PERSON_FIELDS),
        )
    )
    grouped = ParticipantGroups()
    for participant_id, user_id, roles, blocked_at, *names in rows:
        grouped.total += 1
        powers = Powers(session_roles(roles))
        group = getattr(grouped, powers.group)
        if group is grouped.participants and len(group) >= PARTICIPANTS_SHOWN:
            grouped.hidden += 1
            continue
        person = _person(names)
        group.append(
            {
                "id": participant_id,
                "user_id": user_id,
                "name": person.name,
                "initials": person.initials,
                "tone": person.avatar_tone,
                "labels": " · ".join(role.label for role in sorted_roles(powers.roles)),
                "blocked": blocked_at is not None,
                "host": powers.is_host,
            }
        )
    return grouped


MESSAGE_FIELDS = ("id", "body", "created_at", *(f"author__{name}" for name in PERSON_FIELDS))


def _message_rows(messages: Iterable[tuple]) -> list[dict[str, object]]:
    """Return chat messages flattened for the template."""
    rows = []
    for message_id, body, created_at, *names in messages:
        when = localtime(created_at)
        rows.append(
            {
                "id": message_id,
                "body": body,
                "author": _person(names).name,
                "iso": when.isoformat(),
                "time": f"{when:%H:%M}",
            }
        )
    return rows


def _visible_messages(session_id: int):
    return ChatMessage.objects.filter(session_id=session_id, deleted_at=None, cleared_at=None)


def chat_recent(session_id: int) -> tuple[list[dict[str, object]], bool]:
    """Return the latest visible messages, oldest first, and whether older ones exist."""
    latest = list(
        _visible_messages(session_id).order_by("-id").values_list(*MESSAGE_FIELDS)[: CHAT_SHOWN + 1]
    )
    return _message_rows(latest[:CHAT_SHOWN][::-1]), len(latest) > CHAT_SHOWN


def chat_pinned(session_id: int) -> list[dict[str, object]]:
    """Return the session's pinned, visible messages, earliest pin first."""
    pinned = _visible_messages(session_id).filter(pinned_at__isnull=False)
    return _message_rows(pinned.order_by("pinned_at", "id").values_list(*MESSAGE_FIELDS))


def messages_by_id(session_id: int, message_ids: Iterable[int]) -> list[dict[str, object]]:
    """Return these visible messages of the session, oldest first."""
    chosen = _visible_messages(session_id).filter(pk__in=list(message_ids))
    return _message_rows(chosen.order_by("id").values_list(*MESSAGE_FIELDS))


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
