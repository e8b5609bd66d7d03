"""The room page and the media page's room summary: states, joining, access rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mediaspace import services as media_services
from mediaspace.models import MediaEntry
from rooms import services
from rooms.models import Room
from tests.conftest import HTMX
from tests.factories import UserFactory


def room_url(entry, name: str = "room_detail") -> str:
    return reverse(name, args=[entry.pk])


# Access rules for every room URL --------------------------------------------------------

ROOM_URLS = [
    ("room_detail", "get"),
    ("room_poll", "get"),
    ("participant_join", "post"),
    ("participant_leave", "post"),
    ("session_open", "post"),
    ("session_start", "post"),
    ("session_end", "post"),
    ("session_lock", "post"),
    ("session_unlock", "post"),
    ("message_post", "post"),
    ("chat_clear", "post"),
]


@pytest.mark.parametrize(("name", "method"), ROOM_URLS)
def test_anonymous_visitors_are_sent_to_sign_in(client, room, name, method):
    response = getattr(client, method)(room_url(room, name))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("name", "method"), ROOM_URLS)
def test_an_outsider_gets_404_for_a_private_room(as_oscar, room, name, method):
    assert getattr(as_oscar, method)(room_url(room, name)).status_code == 404


def test_a_video_has_no_room_page(as_olivia, lecture):
    assert as_olivia.get(room_url(lecture)).status_code == 404


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("room_detail", "post"),
        ("room_poll", "post"),
        ("participant_join", "get"),
        ("session_start", "get"),
        ("message_post", "get"),
        ("session_lock", "put"),
        ("chat_clear", "delete"),
    ],
)
def test_wrong_methods_are_405(as_olivia, room, name, method):
    assert getattr(as_olivia, method)(room_url(room, name)).status_code == 405


def test_a_participant_gets_403_from_the_room_moderators_buttons(as_paula, live, open_room):
    for name in ["session_end", "session_lock", "session_unlock"]:
        response = as_paula.post(room_url(open_room, name))
        assert response.status_code == 403, name
        assert "Only hosts and room moderators can do that." in response.content.decode()


# States ---------------------------------------------------------------------------------


def test_a_participant_waits_until_the_room_starts(as_paula, open_room):
    Room.objects.filter(pk=open_room.pk).update(
        scheduled_at=datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
    )

    html = as_paula.get(room_url(open_room)).content.decode()

    assert "This room hasn’t started yet" in html
    assert "Thursday, Dec 3, 2026, 15:00 UTC" in html
    assert "Start session" not in html
    assert "Join room" not in html
    assert 'id="room-poller"' in html


def test_hosts_and_room_moderators_can_open_or_start_it(as_olivia, as_evan, as_rita, open_room):
    for client in (as_olivia, as_evan, as_rita):
        html = client.get(room_url(open_room)).content.decode()
        assert "Start session" in html
        assert "Open room" in html


def test_a_chat_moderator_alone_cannot_open_the_room(as_chad, open_room):
    html = as_chad.get(room_url(open_room)).content.decode()

    assert "Start session" not in html
    assert as_chad.post(room_url(open_room, "session_open")).status_code == 403


def test_while_open_participants_wait_and_hosts_join_now(as_paula, as_evan, olivia, open_room):
    services.session_open(actor=olivia, entry=open_room)

    waiting = as_paula.get(room_url(open_room)).content.decode()
    host = as_evan.get(room_url(open_room)).content.decode()

    assert "The hosts are getting ready" in waiting
    assert "Join room" not in waiting
    assert "Join now" in host


def test_live_the_participant_sees_join_room(as_paula, olivia, open_room):
    services.session_start(actor=olivia, entry=open_room)

    html = as_paula.get(room_url(open_room)).content.decode()

    assert "The session is live" in html
    assert "Join room" in html


def test_inside_a_live_room_everyone_sees_participants_grouped_and_the_chat(
    as_paula, live, open_room
):
    html = as_paula.get(room_url(open_room)).content.decode()

    participants = html.split('id="participants"')[1].split('id="chat"')[0]
    assert participants.index("Hosts") < participants.index("Olivia Owens")
    assert participants.index("Moderators") < participants.index("Chad Chen")
    others = participants.index('class="participants-group">Participants')
    assert participants.index("Chad Chen") < others < participants.index("Paula Park")
    assert 'role="log"' in html
    assert 'name="body"' in html
    assert "End session" not in html
    assert "Manage" not in participants


def test_an_ended_session_says_so(as_paula, live, olivia, open_room):
    services.session_end(actor=olivia, entry=open_room)

    html = as_paula.get(room_url(open_room)).content.decode()

    assert "The session has ended" in html
    assert "Join room" not in html


def test_the_htmx_request_renders_only_the_room_body(as_paula, live, open_room):
    html = as_paula.get(room_url(open_room), **HTMX).content.decode()

    assert html.lstrip().startswith('<div id="room-body"')
    assert "<html" not in html


def test_with_the_module_off_the_chat_says_why_and_moderators_hold_nothing(
    as_chad, live, open_room, moderation_on
):
    moderation_on.enabled = False
    moderation_on.save()

    html = as_chad.get(room_url(open_room)).content.decode()

    assert "Chat is unavailable because the ChatandCollaboration module is switched off." in html
    assert 'name="body"' not in html
    assert "Clear chat" not in html


# Joining --------------------------------------------------------------------------------


def test_joining_from_the_media_page_goes_to_the_room(as_paula, live, paula, open_room):
    services.participant_leave(user=paula, entry=open_room)
    detail = as_paula.get(reverse("media_detail", args=[open_room.pk])).content.decode()
    assert "Live" in detail and "Join room" in detail

    response = as_paula.post(room_url(open_room, "participant_join"))

    assert response.status_code == 302
    assert response["Location"] == room_url(open_room)
    assert live.participants.get(user=paula).is_present


def test_join_now_on_the_media_page_opens_the_room_for_a_host(as_evan, evan, open_room):
    detail = as_evan.get(reverse("media_detail", args=[open_room.pk])).content.decode()
    assert "Not started" in detail and "Join now" in detail

    as_evan.post(room_url(open_room, "participant_join"))

    session = Room.objects.get(pk=open_room.pk).sessions.get()
    assert session.is_open
    assert session.participants.get(user=evan).roles == ["co-editor"]


def test_the_media_page_tells_a_participant_when_they_can_join(as_paula, open_room):
    html = as_paula.get(reverse("media_detail", args=[open_room.pk])).content.decode()

    assert "Not started" in html
    assert "You can join when a host starts the session." in html
    assert "Join room" not in html


def test_an_htmx_join_answers_small_and_asks_the_page_to_poll(as_paula, olivia, open_room):
    services.session_start(actor=olivia, entry=open_room)

    response = as_paula.post(room_url(open_room, "participant_join"), **HTMX)

    assert response.status_code == 200
    assert response["HX-Reswap"] == "none"
    assert "ms:poll" in response["HX-Trigger"]


def test_a_private_room_stays_hidden_from_outsiders_on_the_media_page(as_oscar, room):
    assert as_oscar.get(reverse("media_detail", args=[room.pk])).status_code == 404


def test_html_in_the_room_name_is_shown_as_text(as_olivia, olivia, moderation_on):
    entry = media_services.media_create(
        owner=olivia, name="<script>alert(1)</script>", media_type=MediaEntry.Type.ROOM
    )

    html = as_olivia.get(room_url(entry)).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def page_queries(client, entry) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(room_url(entry)).status_code == 200
    return len(queries)


def test_the_room_page_query_count_is_the_same_for_1_and_50_people_and_messages(
    as_chad, live, open_room
):
    counts = []
    for count in (1, 49):
        for person in UserFactory.create_batch(count):
            services.participant_join(user=person, entry=open_room)
            services.message_post(author=person, entry=open_room, body=f"Hi from {person}")
        counts.append(page_queries(as_chad, open_room))

    assert counts[0] == counts[1]
    # The session and the user; where Chad stands, with the entry and his roles; the room's
    # record; the participants; the roles now of those who joined with any; the latest
    # messages; the pinned ones.
    assert counts[0] == 8


def test_a_busy_room_shows_its_first_hundred_participants(as_chad, live, open_room):
    for person in UserFactory.create_batch(102):
        services.participant_join(user=person, entry=open_room)

    html = as_chad.get(room_url(open_room)).content.decode()

    assert html.count('class="participant"') == 100 + 3  # Olivia, Rita and Chad besides
    assert "and 3 more participants." in html  # Paula and two others


def test_participants_are_listed_by_the_name_shown_ignoring_case(as_chad, live, open_room):
    people = [
        UserFactory(username="zed", display_name="", first_name="Zed", last_name="Zulu"),
        UserFactory(username="amy", display_name="amy adams"),
        UserFactory(username="bo", display_name="Bo Brown"),
    ]
    for person in people:
        services.participant_join(user=person, entry=open_room)

    html = as_chad.get(room_url(open_room)).content.decode()

    others = html.split('class="participants-group">Participants')[1]
    names = ["amy adams", "Bo Brown", "Paula Park", "Zed Zulu"]
    assert sorted(names, key=others.index) == names


# Controls follow the session's state -----------------------------------------------------


def controls(html: str) -> str:
    return html.split('class="room-controls"')[1].split("</div>")[0]


def test_an_open_room_offers_start_and_close_but_not_end_or_lock(as_olivia, olivia, open_room):
    services.session_open(actor=olivia, entry=open_room)

    html = controls(as_olivia.get(reverse("room_detail", args=[open_room.pk])).content.decode())

    assert ">Start session</button>" in html
    assert ">Close room</a>" in html
    assert "End session" not in html
    assert "Lock room" not in html


def test_a_live_room_offers_lock_and_end_but_not_start(as_olivia, olivia, open_room):
    services.session_start(actor=olivia, entry=open_room)

    html = controls(as_olivia.get(reverse("room_detail", args=[open_room.pk])).content.decode())

    assert "Start session" not in html
    assert "Close room" not in html
    assert ">Lock room</button>" in html
    assert ">End session</a>" in html


def test_closing_an_open_room_says_what_it_does(as_olivia, olivia, open_room):
    services.session_open(actor=olivia, entry=open_room)

    html = as_olivia.get(reverse("session_end", args=[open_room.pk]), **HTMX).content.decode()

    assert "Close the room without starting?" in html
    assert ">Close room</button>" in html


def media_actions(client, entry) -> str:
    html = client.get(entry.get_absolute_url()).content.decode()
    return html.split('class="room-summary')[1].split("</section>")[0]


def test_the_media_page_offers_one_primary_action(as_olivia, as_paula, olivia, open_room):
    before = media_actions(as_paula, open_room)
    assert "Wait for the session to start" in before
    assert "button-primary" not in before
    host = media_actions(as_olivia, open_room)
    assert host.count("button-primary") == 1 and "Join now" in host
    assert "Go to the room" not in host

    services.session_start(actor=olivia, entry=open_room)
    live = media_actions(as_paula, open_room)
    assert live.count("button-primary") == 1 and ">Join room</button>" in live
    assert "Go to the room" not in live and "Wait" not in live
