"""Sessions: opening, starting, ending, locking, joining, leaving and removing people."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from rooms import services
from rooms.models import ModerationAction, Participant, RoomEvent, Session
from tests.conftest import HTMX
from tests.factories import UserFactory


def url(entry, name: str, *args) -> str:
    return reverse(name, args=[entry.pk, *args])


def test_opening_lets_hosts_and_room_moderators_prepare_while_others_wait(
    olivia, rita, paula, open_room
):
    session = services.session_open(actor=rita, entry=open_room)

    assert session.is_open
    assert session.participants.get(user=rita).roles == ["room-moderator"]
    services.participant_join(user=olivia, entry=open_room)
    with pytest.raises(ValidationError, match="hasn't started yet"):
        services.participant_join(user=paula, entry=open_room)
    assert not session.participants.filter(user=paula).exists()


def test_starting_makes_it_live_and_records_who_did_it(as_rita, rita, open_room):
    response = as_rita.post(url(open_room, "session_start"), **HTMX)

    assert response.status_code == 200
    assert "ms:poll" in response["HX-Trigger"]
    session = Session.objects.get(room_id=open_room.pk)
    assert session.is_live and session.started_at is not None
    assert session.participants.get(user=rita).is_present
    kinds = list(session.moderation_actions.values_list("kind", "actor__username"))
    assert ("session-start", "rita") in kinds and ("session-open", "rita") in kinds


def test_double_submits_never_make_a_second_session(olivia, evan, open_room):
    first = services.session_start(actor=olivia, entry=open_room)
    again = services.session_start(actor=evan, entry=open_room)
    services.session_open(actor=olivia, entry=open_room)

    assert again.pk == first.pk
    assert Session.objects.filter(room_id=open_room.pk).count() == 1


def test_ending_asks_first_then_ends_it_for_everyone(as_olivia, live, open_room):
    dialog = as_olivia.get(url(open_room, "session_end"), **HTMX).content.decode()
    assert dialog.lstrip().startswith("<dialog")
    assert "End the session for everyone?" in dialog

    response = as_olivia.post(url(open_room, "session_end"), **HTMX)

    live.refresh_from_db()
    assert live.is_ended and live.ended_by.username == "olivia"
    assert '"ms:close-dialog"' in response["HX-Trigger"]
    assert live.moderation_actions.filter(kind="session-end").exists()


def test_after_it_ends_a_new_session_can_be_opened(olivia, paula, live, open_room):
    services.session_end(actor=olivia, entry=open_room)

    again = services.session_start(actor=olivia, entry=open_room)
    services.participant_join(user=paula, entry=open_room)

    assert again.pk != live.pk
    assert again.participants.filter(user=paula).exists()


def test_a_participant_cannot_end_lock_or_remove(paula, chad, live, open_room):
    before = RoomEvent.objects.count()
    with pytest.raises(PermissionDenied):
        services.session_end(actor=paula, entry=open_room)
    with pytest.raises(PermissionDenied):
        services.session_lock(actor=paula, entry=open_room, locked=True)
    with pytest.raises(PermissionDenied):
        services.participant_remove(actor=paula, participant=live.participants.get(user=chad))
    live.refresh_from_db()
    assert live.is_live and not live.locked
    assert RoomEvent.objects.count() == before


def test_a_chat_moderator_cannot_use_room_moderation(as_chad, live, open_room, paula):
    paula_row = live.participants.get(user=paula)

    for name, args in [("session_lock", []), ("participant_remove", [paula_row.pk])]:
        response = as_chad.post(url(open_room, name, *args), **HTMX)
        assert response.status_code == 403, name
        assert '"ms:toast"' in response["HX-Trigger"]
        assert "Only hosts and room moderators can do that." in response["HX-Trigger"]
    assert paula_row.__class__.objects.get(pk=paula_row.pk).is_present


def test_locking_keeps_those_inside_and_makes_newcomers_wait(rita, paula, live, open_room):
    newcomer = UserFactory()
    services.participant_leave(user=paula, entry=open_room)

    services.session_lock(actor=rita, entry=open_room, locked=True)

    with pytest.raises(ValidationError, match="locked"):
        services.participant_join(user=newcomer, entry=open_room)
    services.participant_join(user=paula, entry=open_room)  # was in before: may come back
    services.message_post(author=paula, entry=open_room, body="Still here")
    services.session_lock(actor=rita, entry=open_room, locked=False)
    services.participant_join(user=newcomer, entry=open_room)
    kinds = list(live.moderation_actions.values_list("kind", flat=True))
    assert "room-lock" in kinds and "room-unlock" in kinds


def test_a_locked_room_shows_newcomers_the_waiting_state(as_oscar, rita, live, open_room):
    services.session_lock(actor=rita, entry=open_room, locked=True)

    html = as_oscar.get(url(open_room, "room_detail")).content.decode()
    refused = as_oscar.post(url(open_room, "participant_join"))

    assert "The room is locked" in html
    assert "Join room" not in html
    assert refused.status_code == 409
    assert "new participants wait until a moderator unlocks it" in refused.content.decode()


def test_a_room_moderator_removes_a_participant_who_cannot_rejoin(as_rita, paula, live, open_room):
    paula_row = live.participants.get(user=paula)
    dialog = as_rita.get(url(open_room, "participant_manage", paula_row.pk), **HTMX)
    assert "Remove from session" in dialog.content.decode()
    assert "Block from chat" not in dialog.content.decode()  # Rita moderates the room only

    response = as_rita.post(url(open_room, "participant_remove", paula_row.pk), **HTMX)

    assert response.status_code == 200
    paula_row.refresh_from_db()
    assert paula_row.is_removed and not paula_row.is_present
    with pytest.raises(PermissionDenied, match="removed you"):
        services.participant_join(user=paula, entry=open_room)
    record = live.moderation_actions.get(kind="participant-remove")
    assert (record.actor.username, record.target_user.username) == ("rita", "paula")
    assert record.actor_roles == ["room-moderator"]


def test_a_removed_participant_rejoining_is_refused_and_nothing_changes(
    as_paula, rita, paula, live, open_room
):
    services.participant_remove(actor=rita, participant=live.participants.get(user=paula))
    seq = services.session_seq(live.pk)

    response = as_paula.post(url(open_room, "participant_join"))

    assert response.status_code == 403
    assert "A moderator removed you from this session." in response.content.decode()
    assert services.session_seq(live.pk) == seq
    assert (
        "You were removed from this session"
        in as_paula.get(url(open_room, "room_detail")).content.decode()
    )


def test_a_moderator_cannot_act_against_a_host(rita, chad, evan, live, open_room):
    services.participant_join(user=evan, entry=open_room)
    host = live.participants.get(user=evan)

    with pytest.raises(PermissionDenied, match="Hosts can't be removed or blocked"):
        services.participant_remove(actor=rita, participant=host)
    with pytest.raises(PermissionDenied, match="Hosts can't be removed or blocked"):
        services.participant_block(actor=chad, participant=host, blocked=True)
    host.refresh_from_db()
    assert host.is_present and not host.is_chat_blocked
    assert not ModerationAction.objects.filter(target_user=evan).exists()


def test_nobody_can_remove_themselves(rita, live):
    with pytest.raises(ValidationError, match="yourself"):
        services.participant_remove(actor=rita, participant=live.participants.get(user=rita))


def test_the_manage_dialog_is_for_moderators_only(as_paula, live, open_room, chad):
    chad_row = live.participants.get(user=chad)

    assert as_paula.get(url(open_room, "participant_manage", chad_row.pk)).status_code == 403


def test_a_participant_of_another_session_is_not_found(as_olivia, olivia, live, open_room, room):
    services.session_end(actor=olivia, entry=open_room)
    services.session_start(actor=olivia, entry=open_room)
    old_row = Participant.objects.get(session=live, user__username="paula")

    response = as_olivia.post(url(open_room, "participant_remove", old_row.pk))

    assert response.status_code == 404


def test_leaving_then_joining_again_resolves_the_roles_afresh(paula, live, open_room):
    services.participant_leave(user=paula, entry=open_room)
    row = live.participants.get(user=paula)
    assert not row.is_present

    services.participant_join(user=paula, entry=open_room)

    row.refresh_from_db()
    assert row.is_present and row.roles == []
    assert live.participants.filter(user=paula).count() == 1
