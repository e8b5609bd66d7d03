"""Presence: the poll notes who still has the room open; someone unseen is shown away."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rooms.models import Participant, RoomEvent, Session
from rooms.selectors import AWAY_AFTER, PRESENCE_REFRESH
from tests.conftest import HTMX


def room_url(entry, name: str = "room_detail") -> str:
    return reverse(name, args=[entry.pk])


def page_cursor(client, entry) -> str:
    html = client.get(room_url(entry)).content.decode()
    return html.split("poll/?after=")[1].split('"')[0]


def poll(client, entry, cursor):
    return client.get(room_url(entry, "room_poll"), {"after": cursor}, **HTMX)


def seen(live: Session, user, ago: timedelta | None) -> None:
    """Pretend the user's page was last seen `ago` ago (None: before presence was kept)."""
    when = None if ago is None else timezone.now() - ago
    Participant.objects.filter(session=live, user=user).update(last_seen_at=when)


def last_checked(live: Session, ago: timedelta) -> None:
    """Pretend the session last looked for people who went away `ago` ago."""
    Session.objects.filter(pk=live.pk).update(presence_checked_at=timezone.now() - ago)


def participant_row(html: str, name: str) -> str:
    return html.split(name)[0].rsplit("<li", 1)[1] + name


def people_events(live: Session) -> int:
    return RoomEvent.objects.filter(session=live, kind="people").count()


LONG_AGO = AWAY_AFTER + timedelta(seconds=10)
A_WHILE_AGO = PRESENCE_REFRESH + timedelta(seconds=1)


def test_joining_counts_as_being_seen(live, paula):
    row = live.participants.get(user=paula)

    assert row.last_seen_at is not None
    assert timezone.now() - row.last_seen_at < PRESENCE_REFRESH


def test_the_poll_notes_presence_at_most_every_refresh(as_paula, live, paula, open_room):
    cursor = page_cursor(as_paula, open_room)
    seen(live, paula, A_WHILE_AGO)

    with CaptureQueriesContext(connection) as noting:
        assert poll(as_paula, open_room, cursor).status_code == 204
    first = live.participants.get(user=paula).last_seen_at
    with CaptureQueriesContext(connection) as quiet:
        assert poll(as_paula, open_room, cursor).status_code == 204

    assert timezone.now() - first < timedelta(seconds=5)
    assert live.participants.get(user=paula).last_seen_at == first
    # Nothing new costs four queries; every PRESENCE_REFRESH, one UPDATE more.
    assert (len(quiet), len(noting)) == (3, 4)
    assert noting[-1]["sql"].startswith("UPDATE")
    assert people_events(live) == 4  # the joins only: noting presence tells nobody


def test_someone_unseen_for_long_shows_as_away(as_chad, live, paula, open_room):
    seen(live, paula, LONG_AGO)

    html = as_chad.get(room_url(open_room)).content.decode()

    assert 'Participants <span class="muted">(4, 1 away)</span>' in html
    row = participant_row(html, "Paula Park")
    assert "participant-away" in row
    assert "Away" in html.split("Paula Park")[1].split("</li>")[0]
    assert "participant-away" not in participant_row(html, "Chad Chen")


def test_someone_seen_before_presence_was_kept_counts_as_here(as_chad, live, paula, open_room):
    seen(live, paula, None)

    html = as_chad.get(room_url(open_room)).content.decode()

    assert "away" not in html.split('id="participants"')[1].split("</section>")[0]


def test_going_away_reaches_the_other_pages_once(as_chad, live, paula, open_room):
    cursor = page_cursor(as_chad, open_room)
    seen(live, paula, LONG_AGO)  # she closed her tab
    last_checked(live, A_WHILE_AGO)

    poll(as_chad, open_room, cursor)  # notices, and tells everyone with an event
    update = poll(as_chad, open_room, cursor).content.decode()

    assert people_events(live) == 5
    assert '<section id="participants"' in update and 'hx-swap-oob="true"' in update
    assert "participant-away" in participant_row(update, "Paula Park")
    # Time passes: the next look finds nobody new, as she was told about already.
    seen(live, paula, LONG_AGO + A_WHILE_AGO)
    last_checked(live, A_WHILE_AGO)
    poll(as_chad, open_room, page_cursor(as_chad, open_room))
    assert people_events(live) == 5


def test_the_session_is_checked_once_per_refresh_whoever_polls(
    as_chad, as_paula, live, rita, open_room
):
    seen(live, rita, LONG_AGO)
    last_checked(live, A_WHILE_AGO)

    poll(as_chad, open_room, page_cursor(as_chad, open_room))
    poll(as_paula, open_room, page_cursor(as_paula, open_room))

    assert people_events(live) == 5
    live.refresh_from_db()
    assert timezone.now() - live.presence_checked_at < timedelta(seconds=5)


def test_coming_back_is_announced_without_redrawing_ones_own_page(
    as_paula, as_chad, live, paula, open_room
):
    chad_cursor = page_cursor(as_chad, open_room)
    paula_cursor = page_cursor(as_paula, open_room)
    seen(live, paula, LONG_AGO)  # her laptop slept

    poll(as_paula, open_room, paula_cursor)

    assert people_events(live) == 5
    back = RoomEvent.objects.filter(session=live).latest("seq")
    assert back.participant_id is None
    mine = poll(as_paula, open_room, paula_cursor).content.decode()
    assert 'id="room-body"' not in mine
    theirs = poll(as_chad, open_room, chad_cursor).content.decode()
    assert "participant-away" not in participant_row(theirs, "Paula Park")


@pytest.mark.parametrize("ago", [None, LONG_AGO])
def test_those_not_in_the_session_note_nothing(as_oscar, live, oscar, open_room, ago):
    last_checked(live, A_WHILE_AGO)
    before = people_events(live)

    poll(as_oscar, open_room, "0.0.0.1")

    assert people_events(live) == before
    assert not Participant.objects.filter(user=oscar).exists()
