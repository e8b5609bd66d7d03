"""Chat: posting, refusals that change nothing, and the poll that brings changes."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rooms import services
from rooms.models import ChatMessage, ModerationAction, RoomEvent
from rooms.selectors import CHAT_SHOWN, Cursor
from tests.conftest import HTMX


def post_url(entry) -> str:
    return reverse("message_post", args=[entry.pk])


def poll(client, entry, cursor, **extra):
    return client.get(reverse("room_poll", args=[entry.pk]), {"after": str(cursor)}, **extra)


def page_cursor(client, entry) -> str:
    html = client.get(reverse("room_detail", args=[entry.pk])).content.decode()
    return html.split("poll/?after=")[1].split('"')[0]


# Posting --------------------------------------------------------------------------------


def test_a_participant_posts_and_the_page_is_asked_to_poll(as_paula, live, open_room):
    response = as_paula.post(post_url(open_room), {"body": "  When is the quiz?  "}, **HTMX)

    assert response.status_code == 204  # the page empties the composer itself
    assert "ms:poll" in response["HX-Trigger"]
    message = ChatMessage.objects.get()
    assert (message.author.username, message.body) == ("paula", "When is the quiz?")
    assert RoomEvent.objects.filter(kind="message", message=message).exists()


def test_without_htmx_posting_goes_back_to_the_room(as_paula, live, open_room):
    response = as_paula.post(post_url(open_room), {"body": "Hi"})

    assert response.status_code == 302
    assert response["Location"] == reverse("room_detail", args=[open_room.pk])


def test_an_empty_message_is_refused_next_to_the_field(as_paula, live, open_room):
    response = as_paula.post(post_url(open_room), {"body": "   "}, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Write a message before sending." in html
    assert 'aria-invalid="true"' in html
    assert not ChatMessage.objects.exists()
    assert "HX-Trigger" not in response


def test_an_overlong_message_is_refused_and_says_why(as_paula, live, open_room):
    response = as_paula.post(post_url(open_room), {"body": "a" * 2001}, **HTMX)

    html = response.content.decode()
    assert "Messages can be at most 2,000 characters (this one has 2001)" in html
    assert "so that everyone can follow the chat" in html
    assert "aaaa" not in html  # not echoed: the page keeps what was typed (app.js)
    assert not ChatMessage.objects.exists()


def test_a_refused_megabyte_is_not_echoed_back(as_paula, live, open_room):
    body = "b" * 200_000  # under the request cap, a hundred times the message limit

    for extra in (HTMX, {}):
        response = as_paula.post(post_url(open_room), {"body": body}, **extra)

        assert "Messages can be at most 2,000 characters" in response.content.decode()
        assert b"bbbb" not in response.content
        assert len(response.content) < 60_000
    assert not ChatMessage.objects.exists()


def test_a_message_of_exactly_the_limit_is_fine(as_paula, live, open_room):
    as_paula.post(post_url(open_room), {"body": "a" * 2000}, **HTMX)

    assert len(ChatMessage.objects.get().body) == 2000


def test_html_in_a_message_is_shown_as_text(as_paula, as_chad, live, open_room):
    as_paula.post(post_url(open_room), {"body": '<img src=x onerror="alert(1)">'}, **HTMX)

    html = as_chad.get(reverse("room_detail", args=[open_room.pk])).content.decode()

    assert '<img src=x onerror="alert(1)">' not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html


def test_posting_to_an_ended_session_is_refused(as_paula, olivia, live, open_room):
    services.session_end(actor=olivia, entry=open_room)

    response = as_paula.post(post_url(open_room), {"body": "Hello?"}, **HTMX)

    assert response.status_code == 200  # htmx swaps the composer with the reason in it
    assert "The session has ended, so the chat is closed." in response.content.decode()
    assert not ChatMessage.objects.exists()
    assert not RoomEvent.objects.filter(session=live, kind="message").exists()


def test_posting_to_an_open_session_before_it_starts_is_refused(as_rita, rita, open_room):
    services.session_open(actor=rita, entry=open_room)

    response = as_rita.post(post_url(open_room), {"body": "Testing"}, **HTMX)

    assert "The chat opens when the session starts." in response.content.decode()
    assert not ChatMessage.objects.exists()


def test_a_participant_who_has_not_joined_cannot_post(as_oscar, live, open_room):
    response = as_oscar.post(post_url(open_room), {"body": "Let me in"}, **HTMX)

    assert response.status_code == 403
    assert "Join the room first" in response["HX-Trigger"]
    assert not ChatMessage.objects.exists()


def test_a_blocked_participant_cannot_post_but_still_reads(as_paula, chad, paula, live, open_room):
    services.message_post(author=chad, entry=open_room, body="Welcome")
    services.participant_block(
        actor=chad, participant=live.participants.get(user=paula), blocked=True
    )

    response = as_paula.post(post_url(open_room), {"body": "Spam"}, **HTMX)
    page = as_paula.get(reverse("room_detail", args=[open_room.pk])).content.decode()

    assert response.status_code == 403
    assert "blocked you from the chat" in response["HX-Trigger"]
    assert ChatMessage.objects.count() == 1
    assert "Welcome" in page
    assert 'name="body"' not in page
    assert "A moderator blocked you from the chat for this session." in page


def test_in_a_locked_room_those_inside_may_still_post(as_paula, rita, live, open_room):
    services.session_lock(actor=rita, entry=open_room, locked=True)

    as_paula.post(post_url(open_room), {"body": "Still allowed"}, **HTMX)

    assert ChatMessage.objects.get().body == "Still allowed"


def test_with_the_module_off_posting_is_refused_with_the_reason(
    as_paula, live, open_room, moderation_on
):
    moderation_on.enabled = False
    moderation_on.save()

    response = as_paula.post(post_url(open_room), {"body": "Hi"})

    assert response.status_code == 403
    assert "ChatandCollaboration module is switched off" in response.content.decode()
    assert not ChatMessage.objects.exists()


# The poll -------------------------------------------------------------------------------


def test_nothing_new_is_204(as_paula, live, open_room):
    cursor = page_cursor(as_paula, open_room)

    response = poll(as_paula, open_room, cursor, **HTMX)

    assert response.status_code == 204
    assert response.content == b""


def test_a_new_message_arrives_for_everyone_with_a_new_cursor(as_chad, paula, live, open_room):
    cursor = page_cursor(as_chad, open_room)
    services.message_post(author=paula, entry=open_room, body="Is the lab open?")

    html = poll(as_chad, open_room, cursor, **HTMX).content.decode()

    assert 'hx-swap-oob="beforeend:#chat-messages"' in html
    assert "Is the lab open?" in html
    assert "Delete" in html  # Chad moderates the chat
    new_cursor = html.split("poll/?after=")[1].split('"')[0]
    assert poll(as_chad, open_room, new_cursor).status_code == 204


def test_participants_get_the_message_without_moderation_buttons(as_paula, chad, live, open_room):
    cursor = page_cursor(as_paula, open_room)
    services.message_post(author=chad, entry=open_room, body="Quiz on Friday")

    html = poll(as_paula, open_room, cursor).content.decode()

    assert "Quiz on Friday" in html
    assert "Delete" not in html and "Pin" not in html


def test_a_deletion_reaches_everyone_as_an_update_to_apply_if_shown(
    as_paula, chad, paula, live, open_room
):
    message = services.message_post(author=paula, entry=open_room, body="Oops")
    cursor = page_cursor(as_paula, open_room)
    services.message_delete(actor=chad, message=message)

    html = poll(as_paula, open_room, cursor).content.decode()

    updates = html.split('<template id="chat-updates" hx-swap-oob="true">')[1].split("</template>")[
        0
    ]
    assert updates == f'<div id="message-{message.pk}" data-gone></div>'
    assert "Oops" not in html


# Out-of-band swaps may only target what every page in the room has: a message may not be
# on a page (too old to be shown, or not loaded), and htmx reports a missing target as an
# error (oobErrorNoTarget). Changes to messages travel in #chat-updates instead (app.js).
ALWAYS_THERE = {"room-body", "participants", "chat-pinned", "chat-messages", "chat-updates"}


def oob_targets(html: str) -> set[str]:
    """Return the ids that the out-of-band swaps in a poll's answer target."""
    targets = set()
    for tag in re.findall(r"<[^>]*\bhx-swap-oob=[^>]*>", html):
        swap = re.search(r'hx-swap-oob="([^"]*)"', tag).group(1)
        if ":" in swap:
            targets.add(swap.split(":", 1)[1].removeprefix("#"))
        else:
            targets.add(re.search(r'\bid="([^"]*)"', tag).group(1))
    return targets


def test_polls_swap_only_into_what_every_page_has(as_paula, as_chad, chad, paula, live, open_room):
    old = services.message_post(author=paula, entry=open_room, body="An old question")
    for number in range(CHAT_SHOWN):
        services.message_post(author=chad, entry=open_room, body=f"Answer {number}")
    cursors = [page_cursor(client, open_room) for client in (as_paula, as_chad)]
    assert (
        "An old question"
        not in as_paula.get(reverse("room_detail", args=[open_room.pk])).content.decode()
    )
    services.message_pin(actor=chad, message=old, pinned=True)
    services.message_pin(actor=chad, message=old, pinned=False)
    services.message_delete(actor=chad, message=old)
    services.message_post(author=paula, entry=open_room, body="A new one")

    for client, cursor in zip((as_paula, as_chad), cursors, strict=True):
        html = poll(client, open_room, cursor, **HTMX).content.decode()
        assert "A new one" in html
        assert oob_targets(html) <= ALWAYS_THERE, oob_targets(html)


def test_a_message_posted_and_deleted_between_polls_never_shows(
    as_paula, chad, paula, live, open_room
):
    cursor = page_cursor(as_paula, open_room)
    message = services.message_post(author=paula, entry=open_room, body="Gone quickly")
    services.message_delete(actor=chad, message=message)

    html = poll(as_paula, open_room, cursor).content.decode()

    assert "Gone quickly" not in html
    assert f"message-{message.pk}" not in html


def test_a_state_change_re_renders_the_whole_room(as_paula, olivia, live, open_room):
    cursor = page_cursor(as_paula, open_room)
    services.session_end(actor=olivia, entry=open_room)

    html = poll(as_paula, open_room, cursor).content.decode()

    assert '<div id="room-body" class="room" hx-swap-oob="true">' in html
    assert "The session has ended" in html


def test_someone_joining_refreshes_the_participants_list(as_paula, evan, live, open_room):
    cursor = page_cursor(as_paula, open_room)
    services.participant_join(user=evan, entry=open_room)

    html = poll(as_paula, open_room, cursor).content.decode()

    assert '<section id="participants"' in html and 'hx-swap-oob="true"' in html
    assert "Evan Edwards" in html
    assert 'id="room-body"' not in html


def test_a_malformed_cursor_is_refused(as_paula, live, open_room):
    for cursor in ["", "abc", "1.2.3", "1.2.3.4", "-1.2.0.1"]:
        assert poll(as_paula, open_room, cursor).status_code == 400, cursor


def test_a_stale_session_in_the_cursor_re_renders_the_room(as_paula, live, open_room):
    stale = Cursor(session_id=live.pk + 1, seq=0, notice=False, chat=True)

    html = poll(as_paula, open_room, stale).content.decode()

    assert 'id="room-body"' in html


def poll_queries(client, entry) -> int:
    cursor = page_cursor(client, entry)
    with CaptureQueriesContext(connection) as queries:
        assert poll(client, entry, cursor, **HTMX).status_code == 204
    return len(queries)


@pytest.mark.parametrize("count", [1, 500])
def test_nothing_new_costs_three_queries_however_long_the_chat(
    as_paula, paula, live, open_room, count
):
    ChatMessage.objects.bulk_create(
        [ChatMessage(session=live, author=paula, body=f"Message {n}") for n in range(count)]
    )

    # The session and the user; then, in one, where Paula stands in the room (the room,
    # the module switch, her roles, the latest session and her row in it).
    assert poll_queries(as_paula, open_room) == 3


def test_the_poll_query_count_is_the_same_for_1_and_500_messages(as_paula, paula, live, open_room):
    counts = []
    for count in (1, 499):
        ChatMessage.objects.bulk_create(
            [ChatMessage(session=live, author=paula, body=f"Message {n}") for n in range(count)]
        )
        counts.append(poll_queries(as_paula, open_room))

    assert counts[0] == counts[1]


# Taking back one's own message ------------------------------------------------------------


def delete_url(entry, message) -> str:
    return reverse("message_delete", args=[entry.pk, message.pk])


def test_a_participant_deletes_their_own_message_for_everyone(
    as_paula, as_chad, paula, live, open_room
):
    message = services.message_post(author=paula, entry=open_room, body="Wrong room, sorry")
    cursor = page_cursor(as_chad, open_room)

    response = as_paula.post(delete_url(open_room, message), **HTMX)

    assert response.status_code == 200
    assert "Message deleted." in response.content.decode()
    message.refresh_from_db()
    assert message.deleted_by == paula and message.body == "Wrong room, sorry"
    record = ModerationAction.objects.get(kind="message-delete")
    assert (record.actor, record.actor_roles, record.target_user) == (paula, [], paula)
    update = poll(as_chad, open_room, cursor).content.decode()
    assert f'<div id="message-{message.pk}" data-gone></div>' in update


def test_the_page_offers_delete_on_ones_own_messages_only(as_paula, chad, paula, live, open_room):
    mine = services.message_post(author=paula, entry=open_room, body="Mine")
    theirs = services.message_post(author=chad, entry=open_room, body="Theirs")

    html = as_paula.get(reverse("room_detail", args=[open_room.pk])).content.decode()

    own_row = html.split(f'id="message-{mine.pk}"')[1].split("</form>")[0]
    assert f'hx-post="{delete_url(open_room, mine)}"' in own_row
    assert 'Delete<span class="visually-hidden"> your message</span>' in own_row
    assert delete_url(open_room, theirs) not in html
    assert ">Pin<" not in html


def test_a_participant_cannot_delete_someone_elses_message(as_paula, chad, live, open_room):
    theirs = services.message_post(author=chad, entry=open_room, body="Theirs")

    response = as_paula.post(delete_url(open_room, theirs), **HTMX)

    assert response.status_code == 403
    theirs.refresh_from_db()
    assert theirs.is_visible
    assert not ModerationAction.objects.filter(kind="message-delete").exists()


def test_a_blocked_participant_may_still_take_back_a_message(chad, paula, live, open_room):
    message = services.message_post(author=paula, entry=open_room, body="Regrettable")
    services.participant_block(
        actor=chad, participant=live.participants.get(user=paula), blocked=True
    )

    services.message_delete(actor=paula, message=message)

    message.refresh_from_db()
    assert message.deleted_by == paula


def test_after_the_session_ends_ones_messages_stay(as_paula, olivia, paula, live, open_room):
    message = services.message_post(author=paula, entry=open_room, body="For the record")
    services.session_end(actor=olivia, entry=open_room)

    response = as_paula.post(delete_url(open_room, message), **HTMX)

    assert response.status_code == 409
    assert "The session has ended, so the chat is closed." in response["HX-Trigger"]
    message.refresh_from_db()
    assert message.is_visible


def test_a_removed_participant_cannot_delete_their_messages(paula, rita, live, open_room):
    message = services.message_post(author=paula, entry=open_room, body="Before removal")
    services.participant_remove(actor=rita, participant=live.participants.get(user=paula))

    with pytest.raises(PermissionDenied, match="removed you"):
        services.message_delete(actor=paula, message=message)
    message.refresh_from_db()
    assert message.is_visible


def test_with_the_module_off_nobody_deletes_their_own_message(
    paula, live, open_room, moderation_on
):
    message = services.message_post(author=paula, entry=open_room, body="Kept")
    moderation_on.enabled = False
    moderation_on.save()

    with pytest.raises(PermissionDenied, match="ChatandCollaboration"):
        services.message_delete(actor=paula, message=message)


# Earlier messages ---------------------------------------------------------------------------


def room_url(entry) -> str:
    return reverse("room_detail", args=[entry.pk])


@pytest.fixture
def long_chat(live, olivia, open_room) -> list[ChatMessage]:
    """Seventy messages: more than two pages of the chat."""
    return [
        services.message_post(author=olivia, entry=open_room, body=f"Point {number}")
        for number in range(70)
    ]


def earlier_link(html: str) -> str | None:
    """Return where the chat's "Load earlier messages" link points, if it has one."""
    if "Load earlier messages" not in html:
        return None
    return html.split('class="button-link chat-earlier" href="')[1].split('"')[0]


def test_the_room_shows_the_latest_messages_and_loads_earlier_ones(as_paula, long_chat, open_room):
    html = as_paula.get(room_url(open_room)).content.decode()

    assert html.count('<div id="message-') == CHAT_SHOWN
    assert "Point 69" in html and "Point 39" not in html
    link = earlier_link(html)
    assert link == f"{room_url(open_room)}?before={long_chat[70 - CHAT_SHOWN].pk}"

    second = as_paula.get(link, **HTMX).content.decode()
    assert second.count('<div id="message-') == CHAT_SHOWN
    assert "Point 39" in second and "Point 40" not in second and "<html" not in second
    third = as_paula.get(earlier_link(second), **HTMX).content.decode()
    assert third.count('<div id="message-') == 70 - 2 * CHAT_SHOWN
    assert "Point 0" in third
    assert earlier_link(third) is None


def test_without_htmx_earlier_messages_show_in_the_room(as_paula, long_chat, open_room):
    html = as_paula.get(room_url(open_room), {"before": long_chat[40].pk}).content.decode()

    assert "Point 39" in html and "Point 40" not in html
    assert "Show the latest messages" in html
    assert 'id="participants"' in html


def test_earlier_messages_cost_the_same_however_long_the_chat(as_paula, long_chat, open_room):
    def queries(before: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            as_paula.get(room_url(open_room), {"before": before}, **HTMX)
        return len(captured)

    assert queries(long_chat[5].pk) == queries(long_chat[69].pk)


def test_a_malformed_before_is_refused(as_paula, live, open_room):
    for before in ["x", "-1", "1.5", "9" * 30]:
        response = as_paula.get(room_url(open_room), {"before": before}, **HTMX)
        assert response.status_code == 400, before


def test_earlier_messages_are_for_those_in_the_room(as_oscar, long_chat, open_room):
    response = as_oscar.get(room_url(open_room), {"before": long_chat[-1].pk}, **HTMX)

    assert response.status_code == 403
    assert "Point" not in response.content.decode()
