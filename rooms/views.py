from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect, reswap, trigger_client_event

from mediaspace.forms import RoomCreateForm
from mediaspace.models import MediaEntry, Role
from mediaspace.types import AuthenticatedHttpRequest
from mediaspace.views import with_messages
from rooms import permissions, selectors, services
from rooms.forms import MessageForm
from rooms.models import ChatMessage, Participant


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def room_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Create a room owned by the user: + Create → Room on My Media."""
    form = RoomCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        entry = services.room_create(
            owner=request.user,
            name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
            tags=form.cleaned_data["tags"],
        )
        messages.success(request, f"Room “{entry.name}” created.")
        if request.htmx:
            return HttpResponseClientRedirect(entry.get_absolute_url())
        return redirect(entry)
    template = "rooms/room_create.html"
    if request.htmx:
        template += "#create-form" if request.method == "POST" else "#create-dialog"
    return render(request, template, {"form": form})


# The room page: sessions, joining, chat and moderation (issue 5) ------------------------
# Every POST changes state through one service call and answers small: outside htmx a
# redirect back to the room; with htmx its toasts plus an "ms:poll" trigger, so the page's
# poller fetches whatever changed. Only the page itself and the poll render the room.

ROOM_TEMPLATE = "rooms/room_detail.html"
DIALOGS_TEMPLATE = "rooms/room_dialogs.html"


def refusals_answered(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer a service's refusal clearly: 403 when not allowed, 409 when the state forbids.

    htmx does not swap error responses, so for htmx the reason travels as an "ms:toast"
    event; otherwise a page says it. Either way the service changed nothing.
    """

    @wraps(view)
    def answered(request: AuthenticatedHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as error:
            return _refusal(request, str(error) or "You can't do that here.", 403, kwargs)
        except ValidationError as error:
            return _refusal(request, " ".join(error.messages), 409, kwargs)

    return answered


def _refusal(
    request: AuthenticatedHttpRequest, reason: str, status: int, kwargs: dict[str, Any]
) -> HttpResponse:
    if request.htmx:
        response = HttpResponse(reason, status=status, content_type="text/plain")
        return trigger_client_event(response, "ms:toast", {"message": reason, "level": "error"})
    context = {"reason": reason, "entry_id": kwargs.get("entry_id")}
    return render(request, "rooms/room_refused.html", context, status=status)


def _done(
    request: AuthenticatedHttpRequest, entry_id: int, message: str = "", *, dialog: bool = False
) -> HttpResponse:
    """Answer a successful action: back to the room, or toasts and a poll for htmx."""
    if message:
        messages.success(request, message)
    if not request.htmx:
        return redirect("room_detail", entry_id=entry_id)
    response = with_messages(request, reswap(HttpResponse(), "none"))
    if dialog:
        response = trigger_client_event(response, "ms:close-dialog")
    return trigger_client_event(response, "ms:poll")


def _room_context(
    page: selectors.RoomPage, *, before: int | None = None, **extra: Any
) -> dict[str, Any]:
    """Return what the room page shows this viewer (the chat before message `before`)."""
    view = page.view
    context: dict[str, Any] = {
        "view": view,
        "entry": page.entry,
        "room": page.room,
        "session": page.session,
        "powers": view.powers,
        "form": MessageForm(),
        "history": before is not None,
        **extra,
    }
    if view.inside:
        context["people"] = selectors.participants_grouped(view)
        if view.chat_on:
            context["chat_messages"], context["more_messages"] = selectors.chat_recent(
                view, before=before
            )
            context["pinned"] = selectors.chat_pinned(view)
    return context


MESSAGE_ID = re.compile(r"[0-9]{1,18}")


def _before(request: AuthenticatedHttpRequest) -> int | None:
    """Return the message id in `?before=`, None without one; 400 when it is malformed."""
    before = request.GET.get("before")
    if before is None:
        return None
    if not MESSAGE_ID.fullmatch(before):
        raise BadRequest("The message id is malformed.")
    return int(before)


@require_GET
@vary_on_headers("HX-Request")
def room_detail(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponse:
    """Show the room: its state, and once inside, the participants, chat and controls.

    `?before=<message id>` shows the chat's previous page: for htmx, just those messages
    (Load earlier messages); otherwise the room with them in its chat.
    """
    before = _before(request)
    if before is not None and request.htmx:
        view = selectors.standing_for_user(request.user, entry_id)
        if not (view.inside and view.chat_on):
            raise PermissionDenied(services.NOT_JOINED)
        messages, more = selectors.chat_recent(view, before=before)
        context = {"entry": view.entry, "chat_messages": messages, "more_messages": more}
        return render(request, ROOM_TEMPLATE + "#chat-earlier", context)
    page = selectors.room_for_user(request.user, entry_id)
    template = ROOM_TEMPLATE + ("#room-body" if request.htmx else "")
    return render(request, template, _room_context(page, before=before))


@require_GET
def room_poll(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponse:
    """Return what changed in the room since the page's cursor; 204 when nothing did.

    Nothing new costs two queries after the user's session: `standing_for_user` (and, every
    PRESENCE_REFRESH, one more to note that the user is still here).
    """
    view = selectors.standing_for_user(request.user, entry_id)
    cursor = selectors.Cursor.parse(request.GET.get("after", ""))
    if cursor is None:
        return HttpResponseBadRequest("The cursor is malformed.", content_type="text/plain")
    services.presence_note(here=view)
    if view.cursor == cursor:
        return HttpResponse(status=204)
    whole = view.session_id != (cursor.session_id or None) or (
        (cursor.notice, cursor.chat) != (view.roles_changed, view.chat_on)
    )
    changes = selectors.Changes()
    if not whole:
        changes = selectors.changes_since(view.session_pk, cursor.seq, view.participant_id)
        whole = changes.state or changes.me
        # Someone's roles may have changed: their label in the participants list with them.
        changes.people = changes.people or cursor.access != view.access_version
    if whole:
        page = selectors.room_for_user(request.user, entry_id)
        context = _room_context(page, poll=True, whole=True)
        return render(request, ROOM_TEMPLATE + "#poll", context)
    context = {"view": view, "entry": view.entry, "poll": True, "changes": changes}
    if view.inside:
        if changes.people:
            context["people"] = selectors.participants_grouped(view)
        if view.chat_on and changes.cleared:
            context["chat_messages"], context["more_messages"] = selectors.chat_recent(view)
        elif view.chat_on:
            if changes.posted:
                context["posted"] = selectors.messages_by_id(view, changes.posted)
            if changes.hidden or changes.pinned:
                context["updates"] = selectors.message_updates(view, changes)
        if view.chat_on and changes.pins:
            context["pinned"] = selectors.chat_pinned(view)
    return render(request, ROOM_TEMPLATE + "#poll", context)


def _room(entry_id: int) -> MediaEntry:
    """Return a reference to the room, for a service that reads it (and refuses 404) under
    its lock: the request then reads it once."""
    return MediaEntry(pk=entry_id, media_type=MediaEntry.Type.ROOM)


def _standing(request: AuthenticatedHttpRequest, entry_id: int) -> selectors.Standing:
    """Return where the user stands in a room they may see, or 404 (for actions)."""
    return selectors.standing_for_user(request.user, entry_id)


@require_POST
@refusals_answered
def participant_join(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponse:
    """Join the room's session; joining again re-resolves the roles (rule 1)."""
    participant = services.participant_join(user=request.user, entry=_room(entry_id))
    if not participant.rejoined:
        return _done(request, entry_id)
    labels = " and ".join(Role(role).label for role in participant.roles)
    return _done(request, entry_id, f"You rejoined the room as {labels or 'a participant'}.")


@require_POST
@refusals_answered
def participant_leave(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponse:
    """Leave the room's session."""
    view = _standing(request, entry_id)
    services.participant_leave(user=request.user, entry=view.entry)
    return _done(request, entry_id, "You left the room.")


@require_POST
@refusals_answered
def session_open(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponse:
    """Open the room for hosts and moderators to prepare; participants wait."""
    view = _standing(request, entry_id)
    services.session_open(actor=request.user, entry=view.entry)
    return _done(request, entry_id, "The room is open. Participants wait until you start.")


@require_POST
@refusals_answered
def session_start(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponse:
    """Start the session for everyone."""
    view = _standing(request, entry_id)
    services.session_start(actor=request.user, entry=view.entry)
    return _done(request, entry_id, "The session is live.")


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@refusals_answered
def session_end(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponse:
    """Confirm, then end the session for everyone."""
    view = _standing(request, entry_id)
    if request.method == "GET":
        if not view.has_session:
            raise ValidationError(services.NO_SESSION, code="no_session")
        if not view.powers.can_run_room:
            raise PermissionDenied(services.NEEDS["can_run_room"])
        return _dialog(request, view, "end-dialog")
    services.session_end(actor=request.user, entry=view.entry)
    return _done(request, entry_id, "The session has ended for everyone.", dialog=True)


@require_POST
@refusals_answered
def session_lock(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponse:
    """Lock the room: new participants wait; those already in stay."""
    view = _standing(request, entry_id)
    services.session_lock(actor=request.user, entry=view.entry, locked=True)
    return _done(request, entry_id, "The room is locked: new participants wait.")


@require_POST
@refusals_answered
def session_unlock(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponse:
    """Unlock the room: new participants can join again."""
    view = _standing(request, entry_id)
    services.session_lock(actor=request.user, entry=view.entry, locked=False)
    return _done(request, entry_id, "The room is unlocked.")


def _dialog(
    request: AuthenticatedHttpRequest, view: selectors.Standing, name: str, **extra: Any
) -> HttpResponse:
    """Render one of the room's confirmation dialogs (a page of its own without htmx)."""
    context = {"view": view, "entry": view.entry, "powers": view.powers, "dialog": name, **extra}
    template = DIALOGS_TEMPLATE + (f"#{name}" if request.htmx else "")
    return render(request, template, context)


def _participant(view: selectors.Standing, participant_id: int) -> Participant:
    """Return a participant of the room's session in progress, or 404."""
    if not view.has_session:
        raise Http404("No session in progress.")
    return get_object_or_404(
        Participant.objects.select_related("user"), pk=participant_id, session=view.session_id
    )


@require_GET
@vary_on_headers("HX-Request")
def participant_manage(
    request: AuthenticatedHttpRequest, entry_id: int, participant_id: int
) -> HttpResponse:
    """Show what a moderator may do to one participant: remove, block or unblock."""
    view = selectors.standing_for_user(request.user, entry_id)
    participant = _participant(view, participant_id)
    if not view.powers.can_manage_people:
        raise PermissionDenied
    return _dialog(request, view, "manage-dialog", participant=participant)


@require_POST
@refusals_answered
def participant_remove(
    request: AuthenticatedHttpRequest, entry_id: int, participant_id: int
) -> HttpResponse:
    """Remove a participant from the session; they cannot rejoin it."""
    participant = _participant(_standing(request, entry_id), participant_id)
    services.participant_remove(actor=request.user, participant=participant)
    return _done(
        request, entry_id, f"{participant.user} was removed from the session.", dialog=True
    )


@require_POST
@refusals_answered
def participant_block(
    request: AuthenticatedHttpRequest, entry_id: int, participant_id: int
) -> HttpResponse:
    """Block a participant from the chat for this session."""
    participant = _participant(_standing(request, entry_id), participant_id)
    services.participant_block(actor=request.user, participant=participant, blocked=True)
    return _done(request, entry_id, f"{participant.user} is blocked from the chat.", dialog=True)


@require_POST
@refusals_answered
def participant_unblock(
    request: AuthenticatedHttpRequest, entry_id: int, participant_id: int
) -> HttpResponse:
    """Let a blocked participant chat again."""
    participant = _participant(_standing(request, entry_id), participant_id)
    services.participant_block(actor=request.user, participant=participant, blocked=False)
    return _done(request, entry_id, f"{participant.user} can chat again.", dialog=True)


@require_POST
@refusals_answered
def message_post(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponse:
    """Post a chat message; a refused one comes back with the reason next to the field.

    With htmx, success answers 204: the page empties the composer (app.js) and polls. A
    refused message is not sent back: with htmx the page keeps what was typed (app.js),
    and without it the page gets back only a message it could have sent (within the
    length limit), so that an oversized body is never echoed.
    """
    form = MessageForm(request.POST)
    retry_after = 0
    if form.is_valid():
        try:
            services.message_post(
                author=request.user, entry=_room(entry_id), body=form.cleaned_data["body"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        except services.TooFast as error:
            if request.htmx:
                response = _refusal(request, str(error), 429, {"entry_id": entry_id})
                response["Retry-After"] = str(error.seconds)
                return response
            form.add_error("body", str(error))
            retry_after = error.seconds
        else:
            if not request.htmx:
                return redirect("room_detail", entry_id=entry_id)
            # The page empties the composer itself; the poll brings the message.
            return trigger_client_event(HttpResponse(status=204), "ms:poll")
    view = _standing(request, entry_id)
    echo = not request.htmx and len(request.POST.get("body", "")) <= ChatMessage.MAX_LENGTH
    if request.htmx:
        context = {"view": view, "entry": view.entry, "form": form, "focus": True, "echo": echo}
        return render(request, ROOM_TEMPLATE + "#composer", context)
    page = selectors.room_for_user(request.user, entry_id)
    context = _room_context(page, form=form, echo=echo)
    if not retry_after:
        return render(request, ROOM_TEMPLATE, context)
    response = render(request, ROOM_TEMPLATE, context, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def _message(view: selectors.Standing, message_id: int) -> ChatMessage:
    """Return a message of this room, or 404 (a message of another room is not found)."""
    return get_object_or_404(ChatMessage, pk=message_id, session__room_id=view.entry.pk)


@require_POST
@refusals_answered
def message_delete(
    request: AuthenticatedHttpRequest, entry_id: int, message_id: int
) -> HttpResponse:
    """Delete a message for everyone (it stays in the record)."""
    message = _message(_standing(request, entry_id), message_id)
    services.message_delete(actor=request.user, message=message)
    return _done(request, entry_id, "Message deleted.")


@require_POST
@refusals_answered
def message_pin(request: AuthenticatedHttpRequest, entry_id: int, message_id: int) -> HttpResponse:
    """Pin a message above the chat for everyone."""
    message = _message(_standing(request, entry_id), message_id)
    services.message_pin(actor=request.user, message=message, pinned=True)
    return _done(request, entry_id, "Message pinned.")


@require_POST
@refusals_answered
def message_unpin(
    request: AuthenticatedHttpRequest, entry_id: int, message_id: int
) -> HttpResponse:
    """Unpin a message."""
    message = _message(_standing(request, entry_id), message_id)
    services.message_pin(actor=request.user, message=message, pinned=False)
    return _done(request, entry_id, "Message unpinned.")


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@refusals_answered
def chat_clear(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponse:
    """Confirm, then clear the chat for everyone (the messages stay in the record)."""
    view = _standing(request, entry_id)
    if request.method == "GET":
        if not view.chat_on:
            raise PermissionDenied(permissions.CHAT_OFF_MESSAGE)
        if not view.has_session:
            raise ValidationError(services.NO_SESSION, code="no_session")
        if not view.powers.can_moderate_chat:
            raise PermissionDenied(services.NEEDS["can_moderate_chat"])
        return _dialog(request, view, "clear-dialog")
    cleared = services.chat_clear(actor=request.user, entry=view.entry)
    return _done(
        request, entry_id, f"Chat cleared ({cleared} message{pluralize(cleared)}).", dialog=True
    )
