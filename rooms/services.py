"""Every change to rooms: creating them, their moderators, sessions, chat and moderation."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.template.defaultfilters import pluralize
from django.utils import timezone

from mediaspace import access
from mediaspace import services as media_services
from mediaspace.models import MediaEntry
from mediaspace.permissions import Role, sorted_roles
from rooms import permissions, selectors
from rooms.models import ChatMessage, ModerationAction, Participant, Room, RoomEvent, Session
from rooms.permissions import Powers, session_roles
from rooms.selectors import AWAY_AFTER, PRESENCE_REFRESH, Standing

if TYPE_CHECKING:
    from accounts.models import User


@transaction.atomic
def room_create(
    *,
    owner: User,
    name: str,
    description: str = "",
    tags: str = "",
    status: str = MediaEntry.Status.PRIVATE,
) -> MediaEntry:
    """Create a room: a media entry of type room with its room record."""
    entry = media_services.media_create(
        owner=owner,
        name=name,
        media_type=MediaEntry.Type.ROOM,
        description=description,
        tags=tags,
        status=status,
    )
    Room.objects.create(media=entry)
    return entry


# Sessions, joining, chat and moderation (issue 5) ---------------------------------------
# Every change locks the session row, checks the state under that lock, writes, and
# appends a numbered RoomEvent (see selectors.changes_since) in the same transaction.

NOT_JOINED = "You are not in this session. Join the room first."
NOT_STARTED = "The session hasn't started yet. You can join when a host starts it."
LOCKED = "The room is locked: new participants wait until a moderator unlocks it."
REMOVED = "A moderator removed you from this session. You can join the room's next session."
ENDED = "The session has ended."
CHAT_CLOSED = "The chat opens when the session starts."
CHAT_ENDED = "The session has ended, so the chat is closed."
BLOCKED = "A moderator blocked you from the chat for this session."
HOST_PROTECTED = "Hosts can't be removed or blocked: they have the highest level of control."
HOST_MESSAGE = "Only hosts can delete a host's message."
NOT_YOURSELF = "You can't do that to yourself."
NEEDS = {
    "can_run_room": "Only hosts and room moderators can do that.",
    "can_moderate_chat": "Only hosts and chat moderators can moderate the chat.",
}
REJOIN_TO_APPLY = "You have this permission now, but it applies when you rejoin the room."
NO_LONGER = "You no longer have permission to do that."


NO_SESSION = "The room has no session in progress."


class TooFast(Exception):
    """A chat post over the person's rate (settings.CHAT_RATE_*): nothing was posted."""

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds
        rate = f"{settings.CHAT_RATE_MESSAGES} messages every {settings.CHAT_RATE_SECONDS} seconds"
        wait = f"{seconds} second{pluralize(seconds)}"
        super().__init__(
            f"You're sending messages too quickly (at most {rate}). "
            f"Wait {wait}, then send it again."
        )


def _current_roles(user: User, entry: MediaEntry) -> tuple[frozenset[Role], bool]:
    """Return the user's roles on the entry now and whether the module is on (one query)."""
    view = access.entry_for_user(user, entry.pk)
    if view is None:
        return frozenset(), False
    return view.roles, view.module_on


def _lock_room(entry_id: int) -> None:
    """Serialise the changes to one room until the transaction ends.

    On PostgreSQL this locks the room's entry row, as changes of access to it do. SQLite
    needs nothing more: its transactions here are IMMEDIATE (see settings), so the writer
    holds the database's lock from BEGIN.
    """
    access.lock_entry(entry_id)


def session_seq(session_id: int) -> int:
    """Return the number of the session's latest event (0 for none)."""
    return RoomEvent.objects.filter(session_id=session_id).aggregate(seq=Max("seq"))["seq"] or 0


def _session(sessions: QuerySet[Session]) -> Session | None:
    """Return the first of these sessions, with its room and entry, and its `seq` read with
    it (call with the room locked)."""
    latest = RoomEvent.objects.filter(session=OuterRef("pk")).order_by("-seq").values("seq")[:1]
    found = (
        sessions.select_related("room__media")
        .annotate(latest_seq=Coalesce(Subquery(latest), 0))
        .first()
    )
    if found is not None:
        found.seq = found.latest_seq
    return found


def _session_in_progress(entry_id: int) -> Session:
    """Return the room's open or live session (call with the room locked), or refuse."""
    session = _session(Session.objects.filter(room_id=entry_id).exclude(state=Session.State.ENDED))
    if session is None:
        raise ValidationError(NO_SESSION, code="no_session")
    return session


def _event(
    session_id: int,
    seq: int,
    kind: str,
    *,
    message_id: int | None = None,
    participant_id: int | None = None,
) -> int:
    """Append the session's event after number `seq` (the room is locked); return its number."""
    seq += 1
    RoomEvent.objects.create(
        session_id=session_id,
        seq=seq,
        kind=kind,
        message_id=message_id,
        participant_id=participant_id,
    )
    return seq


def _record(
    session: Session,
    actor: User,
    powers: Powers,
    kind: str,
    *,
    target_user: User | None = None,
    target_message: ChatMessage | None = None,
    detail: str = "",
) -> ModerationAction:
    """Write one line of the session's moderation record."""
    return ModerationAction.objects.create(
        session=session,
        actor=actor,
        actor_roles=[role.value for role in sorted_roles(powers.roles)],
        kind=kind,
        target_user=target_user,
        target_message=target_message,
        detail=detail[:300],
    )


def _acting(*, actor: User, session: Session, need: str) -> tuple[Participant, Powers]:
    """Return the actor's place and powers in the session, or refuse.

    Rule 1: the actor acts with the roles resolved when they joined. Rule 2: each of those
    must still be held now, so a revocation (direct or through a group) bites at once.
    """
    me = Participant.objects.filter(session=session, user=actor).first()
    if me is None or not me.is_present:
        raise PermissionDenied(NOT_JOINED)
    current, moderation_on = _current_roles(actor, session.room.media)
    if need == "can_moderate_chat" and not moderation_on:
        raise PermissionDenied(permissions.CHAT_OFF_MESSAGE)
    powers = Powers.held(joined=me.roles, current=current)
    if not getattr(powers, need):
        if getattr(Powers(session_roles(current)), need):
            raise PermissionDenied(REJOIN_TO_APPLY)
        if getattr(Powers(session_roles(me.roles)), need):
            raise PermissionDenied(NO_LONGER)
        raise PermissionDenied(NEEDS[need])
    return me, powers


def _held_in_session(session: Session, participant: Participant) -> Powers:
    """Return what a participant acts with now: join-time roles still held."""
    current, _ = _current_roles(participant.user, session.room.media)
    return Powers.held(joined=participant.roles, current=current)


def _check_target(session: Session, me: Participant, target: Participant) -> None:
    """Refuse to act on yourself or on a host."""
    if target.pk == me.pk:
        raise ValidationError(NOT_YOURSELF, code="yourself")
    if _held_in_session(session, target).is_host:
        raise PermissionDenied(HOST_PROTECTED)


def _enter(
    session_id: int, seq: int, user: User, roles: frozenset[Role], here: Standing | None
) -> Participant:
    """Record the user in the session with these roles; a rejoin records them afresh.

    Returns the participant row as written.
    """
    now = timezone.now()
    values = [role.value for role in sorted_roles(session_roles(roles))]
    if here is None or here.participant_id is None:
        me = Participant.objects.create(
            session_id=session_id, user=user, roles=values, joined_at=now, last_seen_at=now
        )
        _event(session_id, seq, RoomEvent.Kind.PEOPLE, participant_id=me.pk)
        return me
    Participant.objects.filter(pk=here.participant_id).update(
        roles=values, joined_at=now, last_seen_at=now, left_at=None
    )
    if not here.present or session_roles(values) != here.joined_roles:
        # A present participant rejoining with the same roles changes nothing others see.
        _event(session_id, seq, RoomEvent.Kind.PEOPLE, participant_id=here.participant_id)
    me = Participant(
        pk=here.participant_id, session_id=session_id, user=user, roles=values, joined_at=now
    )
    me.rejoined = here.joined
    return me


def _open(entry: MediaEntry, actor: User, powers: Powers) -> Session:
    """Create the room's next session, open for its hosts and moderators to prepare.

    The room's record comes with it if the room has none yet (an entry made a room
    outside room_create).
    """
    Room.objects.get_or_create(media_id=entry.pk)
    session = Session.objects.create(
        room_id=entry.pk, opened_by=actor, presence_checked_at=timezone.now()
    )
    session.seq = _event(session.pk, 0, RoomEvent.Kind.STATE)
    _record(session, actor, powers, ModerationAction.Kind.SESSION_OPEN)
    return session


@transaction.atomic
def participant_join(*, user: User, entry: MediaEntry) -> Participant:
    """Join (or rejoin) the room's session with the roles resolved now (rule 1).

    Hosts and room moderators can always join ("Join now"): with no session in progress,
    that opens one. Others join a live session, unless it is locked and they are new to it.
    The room is read, and the user's right to see it checked (404), under its lock.
    """
    here = selectors.standing_for_user(user, entry.pk, lock=True)
    current = here.roles
    powers = Powers(session_roles(current))
    if not here.has_session:
        if not powers.can_run_room:
            raise ValidationError(NOT_STARTED, code="not_started")
        session = _open(entry, user, powers)
        return _enter(session.pk, session.seq, user, current, None)
    if here.removed:
        raise PermissionDenied(REMOVED)
    if not powers.can_run_room and here.is_open:
        raise ValidationError(NOT_STARTED, code="not_started")
    if not powers.can_run_room and here.session_locked and here.participant_id is None:
        raise ValidationError(LOCKED, code="locked")
    return _enter(here.session_pk, here.seq, user, current, here)


def presence_note(*, here: Standing) -> None:
    """Note that the user's room page is still open (its poll calls this): presence.

    Costs nothing most of the time, and one UPDATE every PRESENCE_REFRESH per participant.
    Someone unseen for longer than AWAY_AFTER shows as away (selectors.participants_grouped);
    closing the tab is enough. So that the other pages redraw their participants lists,
    coming back is a people event, and so is going away: every PRESENCE_REFRESH, the first
    poll of the session to notice looks for anyone who went away since the last look.
    No background job is needed while anyone has the room open.
    """
    if not here.joined:
        return
    now = timezone.now()
    seen = here.last_seen_at
    if seen is not None and now - seen > AWAY_AFTER:
        _presence_return(here, now)
    elif seen is None or now - seen >= PRESENCE_REFRESH:
        Participant.objects.filter(pk=here.participant_pk).update(last_seen_at=now)
    checked = here.presence_checked_at
    if checked is None or now - checked >= PRESENCE_REFRESH:
        _presence_check(here, now)


@transaction.atomic
def _presence_return(here: Standing, now: datetime) -> None:
    """Mark someone who was away as here again, for everyone to see."""
    _lock_room(here.entry.pk)
    Participant.objects.filter(pk=here.participant_pk).update(last_seen_at=now)
    seq = session_seq(here.session_pk)
    # Their own page does not change: no participant, so it is not redrawn whole.
    _event(here.session_pk, seq, RoomEvent.Kind.PEOPLE)


@transaction.atomic
def _presence_check(here: Standing, now: datetime) -> None:
    """Tell everyone if someone went away since the session's last check; note this one."""
    _lock_room(here.entry.pk)
    due = Q(presence_checked_at=None) | Q(presence_checked_at__lt=now - PRESENCE_REFRESH)
    if not Session.objects.filter(due, pk=here.session_pk).update(presence_checked_at=now):
        return  # another poll just checked
    gone = Participant.objects.filter(
        session_id=here.session_pk,
        left_at=None,
        removed_at=None,
        last_seen_at__lt=now - AWAY_AFTER,
    )
    if here.presence_checked_at is not None:
        # Away at the last check already, and told then.
        gone = gone.filter(last_seen_at__gte=here.presence_checked_at - AWAY_AFTER)
    if gone.exists():
        _event(here.session_pk, session_seq(here.session_pk), RoomEvent.Kind.PEOPLE)


@transaction.atomic
def participant_leave(*, user: User, entry: MediaEntry) -> None:
    """Leave the room's session; joining again resolves the roles afresh."""
    here = selectors.standing(user, entry.pk, lock=True)
    if here is None or not here.joined:
        return
    Participant.objects.filter(pk=here.participant_pk).update(left_at=timezone.now())
    _event(here.session_pk, here.seq, RoomEvent.Kind.PEOPLE, participant_id=here.participant_pk)


@transaction.atomic
def session_open(*, actor: User, entry: MediaEntry) -> Session:
    """Open the room for hosts and moderators to prepare (participants wait), and join."""
    current, _ = _current_roles(actor, entry)
    if not Powers(session_roles(current)).can_run_room:
        raise PermissionDenied(NEEDS["can_run_room"])
    return participant_join(user=actor, entry=entry).session


@transaction.atomic
def session_start(*, actor: User, entry: MediaEntry) -> Session:
    """Start the session for everyone (opening the room and joining first if need be)."""
    current, _ = _current_roles(actor, entry)
    if not Powers(session_roles(current)).can_run_room:
        raise PermissionDenied(NEEDS["can_run_room"])
    here = selectors.standing(actor, entry.pk, lock=True)
    if here is None or not here.joined:
        participant_join(user=actor, entry=entry)
    session = _session_in_progress(entry.pk)
    _, powers = _acting(actor=actor, session=session, need="can_run_room")
    if session.is_live:
        return session
    session.state, session.started_at = Session.State.LIVE, timezone.now()
    session.save(update_fields=["state", "started_at"])
    session.seq = _event(session.pk, session.seq, RoomEvent.Kind.STATE)
    _record(session, actor, powers, ModerationAction.Kind.SESSION_START)
    return session


@transaction.atomic
def session_end(*, actor: User, entry: MediaEntry) -> Session:
    """End the session for everyone; the room can be opened again for a new one."""
    _lock_room(entry.pk)
    session = _session_in_progress(entry.pk)
    _, powers = _acting(actor=actor, session=session, need="can_run_room")
    session.state, session.ended_at, session.ended_by = Session.State.ENDED, timezone.now(), actor
    session.save(update_fields=["state", "ended_at", "ended_by"])
    session.seq = _event(session.pk, session.seq, RoomEvent.Kind.STATE)
    _record(session, actor, powers, ModerationAction.Kind.SESSION_END)
    media_services.session_grants_end(entry)
    return session


@transaction.atomic
def session_lock(*, actor: User, entry: MediaEntry, locked: bool) -> Session:
    """Lock the room (new participants wait) or unlock it; those already in stay."""
    _lock_room(entry.pk)
    session = _session_in_progress(entry.pk)
    _, powers = _acting(actor=actor, session=session, need="can_run_room")
    if session.locked == locked:
        return session
    session.locked = locked
    session.save(update_fields=["locked"])
    session.seq = _event(session.pk, session.seq, RoomEvent.Kind.STATE)
    kind = ModerationAction.Kind.ROOM_LOCK if locked else ModerationAction.Kind.ROOM_UNLOCK
    _record(session, actor, powers, kind)
    return session


def _participant_locked(participant: Participant) -> tuple[Session, Participant]:
    """Lock the participant's room; return their session and their row, both fresh."""
    room_id = Session.objects.values_list("room_id", flat=True).get(pk=participant.session_id)
    _lock_room(room_id)
    session = _session(Session.objects.filter(pk=participant.session_id))
    if session is None or session.is_ended:
        raise ValidationError(ENDED, code="ended")
    return session, Participant.objects.select_related("user").get(pk=participant.pk)


@transaction.atomic
def participant_remove(*, actor: User, participant: Participant) -> Participant:
    """Remove a participant from the session; they cannot rejoin it."""
    session, participant = _participant_locked(participant)
    me, powers = _acting(actor=actor, session=session, need="can_run_room")
    _check_target(session, me, participant)
    if participant.is_removed:
        return participant
    now = timezone.now()
    participant.removed_at, participant.removed_by = now, actor
    participant.left_at = participant.left_at or now
    participant.save(update_fields=["removed_at", "removed_by", "left_at"])
    _event(session.pk, session.seq, RoomEvent.Kind.PEOPLE, participant_id=participant.pk)
    _record(
        session,
        actor,
        powers,
        ModerationAction.Kind.PARTICIPANT_REMOVE,
        target_user=participant.user,
        detail=participant.user.name,
    )
    return participant


@transaction.atomic
def participant_block(*, actor: User, participant: Participant, blocked: bool) -> Participant:
    """Block a participant from the chat for this session, or unblock them."""
    session, participant = _participant_locked(participant)
    me, powers = _acting(actor=actor, session=session, need="can_moderate_chat")
    _check_target(session, me, participant)
    if participant.is_chat_blocked == blocked:
        return participant
    participant.chat_blocked_at = timezone.now() if blocked else None
    participant.chat_blocked_by = actor if blocked else None
    participant.save(update_fields=["chat_blocked_at", "chat_blocked_by"])
    _event(session.pk, session.seq, RoomEvent.Kind.PEOPLE, participant_id=participant.pk)
    kind = ModerationAction.Kind.CHAT_BLOCK if blocked else ModerationAction.Kind.CHAT_UNBLOCK
    _record(
        session, actor, powers, kind, target_user=participant.user, detail=participant.user.name
    )
    return participant


@transaction.atomic
def message_post(*, author: User, entry: MediaEntry, body: str) -> ChatMessage:
    """Post a chat message to the room's live session.

    The room is read, the author's right to see it checked (404) and their latest posts
    counted against the chat's rate (TooFast), under its lock.
    """
    now = timezone.now()
    here = selectors.standing_for_user(author, entry.pk, lock=True, posting=now)
    if not here.module_on:
        raise PermissionDenied(permissions.CHAT_OFF_MESSAGE)
    if not here.is_live:
        code = "ended" if here.is_ended else "not_started"
        raise ValidationError(CHAT_ENDED if here.is_ended else CHAT_CLOSED, code=code)
    if not here.present:
        raise PermissionDenied(REMOVED if here.removed else NOT_JOINED)
    if here.chat_blocked:
        raise PermissionDenied(BLOCKED)
    if wait := selectors.posting_wait(here, now):
        raise TooFast(wait)
    message = ChatMessage(session_id=here.session_pk, author=author, body=body.strip())
    # Only the body needs checking: the session and the author were just read.
    message.clean_fields(exclude=[f.name for f in ChatMessage._meta.fields if f.name != "body"])
    access.message_write(message, seq=here.seq + 1, kind=RoomEvent.Kind.MESSAGE)
    return message


def _message_locked(message: ChatMessage) -> tuple[Session, ChatMessage]:
    """Lock the message's room; return its session and the message, both fresh."""
    room_id = Session.objects.values_list("room_id", flat=True).get(pk=message.session_id)
    _lock_room(room_id)
    session = _session(Session.objects.filter(pk=message.session_id))
    if session is None:
        raise Session.DoesNotExist
    return session, ChatMessage.objects.select_related("author").get(pk=message.pk)


def _authoring(*, actor: User, session: Session) -> Powers:
    """Refuse unless the actor may take back their own message: in the live session, chat on.

    Taking back one's own words is not moderation: it needs no role, and a participant
    blocked from the chat may still do it. The record says it was done with no role.
    """
    if not access.module_on():
        raise PermissionDenied(permissions.CHAT_OFF_MESSAGE)
    if not session.is_live:
        code = "ended" if session.is_ended else "not_started"
        raise ValidationError(CHAT_ENDED if session.is_ended else CHAT_CLOSED, code=code)
    me = Participant.objects.filter(session=session, user=actor).first()
    if me is None or not me.is_present:
        raise PermissionDenied(REMOVED if me is not None and me.is_removed else NOT_JOINED)
    return Powers()


@transaction.atomic
def message_delete(*, actor: User, message: ChatMessage) -> ChatMessage:
    """Delete a message for everyone; it stays in the record, flagged with who and when.

    Chat moderators and hosts delete any message (only hosts a host's); the author deletes
    their own while the session is live.
    """
    session, message = _message_locked(message)
    if message.author_id == actor.pk:
        powers = _authoring(actor=actor, session=session)
    else:
        _, powers = _acting(actor=actor, session=session, need="can_moderate_chat")
    if not message.is_visible:
        return message
    if message.author_id != actor.pk and not powers.is_host:
        author = (
            Participant.objects.select_related("user")
            .filter(session=session, user=message.author_id)
            .first()
        )
        if author is not None and _held_in_session(session, author).is_host:
            raise PermissionDenied(HOST_MESSAGE)
    message.deleted_at, message.deleted_by = timezone.now(), actor
    message.save(update_fields=["deleted_at", "deleted_by"])
    _event(session.pk, session.seq, RoomEvent.Kind.HIDDEN, message_id=message.pk)
    _record(
        session,
        actor,
        powers,
        ModerationAction.Kind.MESSAGE_DELETE,
        target_user=message.author,
        target_message=message,
        detail=message.body[:200],
    )
    return message


@transaction.atomic
def message_pin(*, actor: User, message: ChatMessage, pinned: bool) -> ChatMessage:
    """Pin a message above the chat for everyone, or unpin it."""
    session, message = _message_locked(message)
    _, powers = _acting(actor=actor, session=session, need="can_moderate_chat")
    if not message.is_visible:
        raise ValidationError("That message was deleted.", code="deleted")
    if (message.pinned_at is not None) == pinned:
        return message
    message.pinned_at = timezone.now() if pinned else None
    message.pinned_by = actor if pinned else None
    message.save(update_fields=["pinned_at", "pinned_by"])
    _event(session.pk, session.seq, RoomEvent.Kind.PIN, message_id=message.pk)
    kind = ModerationAction.Kind.MESSAGE_PIN if pinned else ModerationAction.Kind.MESSAGE_UNPIN
    _record(
        session,
        actor,
        powers,
        kind,
        target_user=message.author,
        target_message=message,
        detail=message.body[:200],
    )
    return message


@transaction.atomic
def chat_clear(*, actor: User, entry: MediaEntry) -> int:
    """Clear the chat for everyone; the messages stay in the record. Return how many."""
    _lock_room(entry.pk)
    session = _session_in_progress(entry.pk)
    _, powers = _acting(actor=actor, session=session, need="can_moderate_chat")
    cleared = ChatMessage.objects.filter(session=session, deleted_at=None, cleared_at=None).update(
        cleared_at=timezone.now(), cleared_by=actor
    )
    _event(session.pk, session.seq, RoomEvent.Kind.CLEAR)
    _record(
        session,
        actor,
        powers,
        ModerationAction.Kind.CHAT_CLEAR,
        detail=f"{cleared} message{'s' if cleared != 1 else ''}",
    )
    return cleared
