"""The chat's rate limit: each person, across rooms, sessions and tabs; 429 with the wait."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from mediaspace import services as media_services
from mediaspace.models import MediaEntry
from rooms import services
from rooms.models import ChatMessage
from tests.conftest import HTMX, client_for


def post(client: Client, entry: MediaEntry, body: str, **extra):
    return client.post(reverse("message_post", args=[entry.pk]), {"body": body}, **extra)


@pytest.fixture
def rate(settings):
    """Five messages per ten seconds, as the operator set it."""
    settings.CHAT_RATE_MESSAGES = 5
    settings.CHAT_RATE_SECONDS = 10
    return settings


def test_the_message_over_the_rate_is_refused_with_429_and_the_wait(
    rate, as_paula, live, open_room
):
    for number in range(5):
        assert post(as_paula, open_room, f"message {number}", **HTMX).status_code == 204

    response = post(as_paula, open_room, "one too many", **HTMX)

    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 10
    toast = json.loads(response["HX-Trigger"])["ms:toast"]
    assert toast["level"] == "error"
    assert (
        "You're sending messages too quickly (at most 5 messages every 10 seconds)"
        in (toast["message"])
    )
    assert f"Wait {response['Retry-After']} second" in toast["message"]
    assert b"one too many" not in response.content
    assert ChatMessage.objects.count() == 5


def test_the_wait_is_until_the_oldest_counted_message_leaves_the_window(
    rate, paula, live, open_room
):
    for number in range(5):
        services.message_post(author=paula, entry=open_room, body=f"m{number}")
    oldest = ChatMessage.objects.order_by("id").first()
    ChatMessage.objects.filter(pk=oldest.pk).update(
        created_at=oldest.created_at - timedelta(seconds=7)
    )

    with pytest.raises(services.TooFast) as refused:
        services.message_post(author=paula, entry=open_room, body="again")

    assert refused.value.seconds == 3


def test_posting_works_again_once_the_window_has_passed(rate, as_paula, paula, live, open_room):
    for number in range(5):
        services.message_post(author=paula, entry=open_room, body=f"m{number}")
    assert post(as_paula, open_room, "too soon", **HTMX).status_code == 429

    ChatMessage.objects.update(
        created_at=ChatMessage.objects.first().created_at - timedelta(seconds=11)
    )

    assert post(as_paula, open_room, "later", **HTMX).status_code == 204


def test_the_limit_counts_every_session_and_tab_of_the_person(rate, paula, live, open_room):
    tabs = [client_for(paula) for _ in range(4)]  # four sign-ins, as from four browsers

    answers = [post(tabs[n % 4], open_room, f"m{n}", **HTMX).status_code for n in range(8)]

    assert answers == [204] * 5 + [429] * 3
    assert ChatMessage.objects.filter(author=paula).count() == 5


def test_the_limit_counts_every_room_of_the_person(rate, olivia, paula, live, open_room):
    other = services.room_create(owner=olivia, name="Another room")
    media_services.media_status_set(actor=olivia, entry=other, status=MediaEntry.Status.UNLISTED)
    services.session_start(actor=olivia, entry=other)
    services.participant_join(user=paula, entry=other)
    for number in range(5):
        services.message_post(
            author=paula, entry=open_room if number % 2 else other, body=f"m{number}"
        )

    with pytest.raises(services.TooFast):
        services.message_post(author=paula, entry=other, body="one more")


def test_one_persons_rate_does_not_stop_anyone_else(rate, paula, as_chad, live, open_room):
    for number in range(5):
        services.message_post(author=paula, entry=open_room, body=f"m{number}")

    assert post(as_chad, open_room, "I can still talk", **HTMX).status_code == 204


def test_the_operator_sets_the_rate(settings, paula, live, open_room):
    settings.CHAT_RATE_MESSAGES = 2
    settings.CHAT_RATE_SECONDS = 60
    services.message_post(author=paula, entry=open_room, body="one")
    services.message_post(author=paula, entry=open_room, body="two")

    with pytest.raises(services.TooFast, match=r"at most 2 messages every 60 seconds"):
        services.message_post(author=paula, entry=open_room, body="three")


def test_without_htmx_the_refusal_is_next_to_the_field_and_keeps_the_text(
    rate, as_paula, paula, live, open_room
):
    for number in range(5):
        services.message_post(author=paula, entry=open_room, body=f"m{number}")

    response = post(as_paula, open_room, "Is the quiz on Friday?")

    html = response.content.decode()
    assert response.status_code == 429
    assert response["Retry-After"]
    assert 'id="composer-error"' in html
    assert "sending messages too quickly" in html
    assert "Is the quiz on Friday?</textarea>" in html
    assert ChatMessage.objects.count() == 5


def test_the_rate_costs_no_query_of_its_own(
    rate, paula, live, open_room, django_assert_num_queries
):
    # The test's savepoint and its release; the lock (PostgreSQL), the room read with the
    # author's latest posts, the message (two statements on SQLite, one on PostgreSQL).
    with django_assert_num_queries(5):
        services.message_post(author=paula, entry=open_room, body="Hello")


# SQLite's IMMEDIATE transactions take the database's write lock for every post, so posts
# never overlap there; the in-memory test database cannot serve threads anyway.
@pytest.mark.skipif(connection.vendor != "postgresql", reason="threads need a server database")
@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_from_eight_sessions_stop_at_the_limit(rate, olivia, paula, moderation_on):
    room = services.room_create(owner=olivia, name="Busy room", status=MediaEntry.Status.UNLISTED)
    services.session_start(actor=olivia, entry=room)
    services.participant_join(user=paula, entry=room)
    tabs = [client_for(paula) for _ in range(8)]
    answers: list[int] = []
    start = threading.Barrier(len(tabs))

    def send(client: Client, number: int) -> None:
        try:
            start.wait()
            for repeat in range(3):
                answers.append(post(client, room, f"tab {number} #{repeat}", **HTMX).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(tab, n)) for n, tab in enumerate(tabs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answers) == [204] * 5 + [429] * 19
    assert ChatMessage.objects.filter(author=paula).count() == 5
