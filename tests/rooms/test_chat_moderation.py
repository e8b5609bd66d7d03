"""Chat moderation: delete, pin, block, clear; each refused when not allowed, each recorded."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from mediaspace import services as media_services
from mediaspace.models import MediaEntry
from rooms import services
from rooms.models import ChatMessage, ModerationAction, RoomEvent
from tests.conftest import HTMX


def url(entry, name: str, *args) -> str:
    return reverse(name, args=[entry.pk, *args])


@pytest.fixture
def question(live, paula, open_room) -> ChatMessage:
    return services.message_post(author=paula, entry=open_room, body="Can I submit late?")


def test_a_chat_moderator_deletes_a_message_which_stays_in_the_record(
    as_chad, chad, question, open_room
):
    response = as_chad.post(url(open_room, "message_delete", question.pk), **HTMX)

    assert response.status_code == 200
    assert "Message deleted." in response.content.decode()
    assert "ms:poll" in response["HX-Trigger"]
    question.refresh_from_db()
    assert question.deleted_by == chad and question.deleted_at is not None
    assert question.body == "Can I submit late?"
    record = ModerationAction.objects.get(kind="message-delete")
    assert (record.actor, record.target_user.username, record.target_message) == (
        chad,
        "paula",
        question,
    )
    assert record.detail == "Can I submit late?"


def test_a_deleted_message_disappears_from_the_page(as_paula, chad, question, open_room):
    services.message_delete(actor=chad, message=question)

    assert "Can I submit late?" not in as_paula.get(url(open_room, "room_detail")).content.decode()


def test_deleting_twice_changes_nothing_the_second_time(chad, question):
    services.message_delete(actor=chad, message=question)
    services.message_delete(actor=chad, message=question)

    assert ModerationAction.objects.filter(kind="message-delete").count() == 1
    assert RoomEvent.objects.filter(kind="hidden").count() == 1


def test_pinning_shows_the_message_above_the_chat_and_unpinning_removes_it(
    as_paula, chad, question, open_room
):
    services.message_pin(actor=chad, message=question, pinned=True)
    pinned = as_paula.get(url(open_room, "room_detail")).content.decode()
    services.message_pin(actor=chad, message=question, pinned=False)
    unpinned = as_paula.get(url(open_room, "room_detail")).content.decode()

    assert "Can I submit late?" in pinned.split('id="chat-pinned"')[1].split('id="chat-log"')[0]
    assert (
        "Can I submit late?" not in unpinned.split('id="chat-pinned"')[1].split('id="chat-log"')[0]
    )
    kinds = list(ModerationAction.objects.values_list("kind", flat=True))
    assert "message-pin" in kinds and "message-unpin" in kinds


def test_a_pin_reaches_other_pages_through_the_poll(as_paula, chad, question, open_room):
    html = as_paula.get(url(open_room, "room_detail")).content.decode()
    cursor = html.split("poll/?after=")[1].split('"')[0]
    services.message_pin(actor=chad, message=question, pinned=True)

    update = as_paula.get(url(open_room, "room_poll"), {"after": cursor}).content.decode()

    assert '<div id="chat-pinned" class="chat-pinned" hx-swap-oob="true">' in update
    assert "Can I submit late?" in update


def test_deleting_a_pinned_message_takes_it_off_the_pinned_area_too(
    as_paula, chad, question, open_room
):
    services.message_pin(actor=chad, message=question, pinned=True)
    html = as_paula.get(url(open_room, "room_detail")).content.decode()
    cursor = html.split("poll/?after=")[1].split('"')[0]
    services.message_delete(actor=chad, message=question)

    update = as_paula.get(url(open_room, "room_poll"), {"after": cursor}).content.decode()

    pinned = update.split('<div id="chat-pinned" class="chat-pinned" hx-swap-oob="true">')[1]
    assert "Can I submit late?" not in pinned.split("</div>")[0]


def test_clearing_empties_the_chat_for_everyone_but_keeps_the_record(
    as_chad, chad, paula, live, question, open_room
):
    services.message_post(author=chad, entry=open_room, body="Second")
    dialog = as_chad.get(url(open_room, "chat_clear"), **HTMX).content.decode()
    assert "Clear the chat for everyone?" in dialog

    as_chad.post(url(open_room, "chat_clear"), **HTMX)

    assert ChatMessage.objects.filter(cleared_by=chad).count() == 2
    assert ModerationAction.objects.get(kind="chat-clear").detail == "2 messages"
    html = as_chad.get(url(open_room, "room_detail")).content.decode()
    assert "Can I submit late?" not in html and "Second" not in html
    services.message_post(author=paula, entry=open_room, body="After the clear")
    assert "After the clear" in as_chad.get(url(open_room, "room_detail")).content.decode()


def test_blocking_and_unblocking_from_chat(as_chad, chad, paula, live, open_room):
    row = live.participants.get(user=paula)
    dialog = as_chad.get(url(open_room, "participant_manage", row.pk), **HTMX).content.decode()
    assert "Block from chat" in dialog and "Remove from session" not in dialog

    as_chad.post(url(open_room, "participant_block", row.pk), **HTMX)
    row.refresh_from_db()
    assert row.is_chat_blocked and row.chat_blocked_by == chad
    with pytest.raises(PermissionDenied):
        services.message_post(author=paula, entry=open_room, body="Let me talk")

    as_chad.post(url(open_room, "participant_unblock", row.pk), **HTMX)
    services.message_post(author=paula, entry=open_room, body="Thanks")
    kinds = list(ModerationAction.objects.values_list("kind", flat=True))
    assert "chat-block" in kinds and "chat-unblock" in kinds


CHAT_ACTIONS = ["message_delete", "message_pin", "message_unpin"]


@pytest.mark.parametrize("name", CHAT_ACTIONS)
def test_a_participant_gets_403_from_chat_moderation(as_paula, rita, live, open_room, name):
    remark = services.message_post(author=rita, entry=open_room, body="Read chapter 4")

    response = as_paula.post(url(open_room, name, remark.pk))

    assert response.status_code == 403
    assert "Only hosts and chat moderators can moderate the chat." in response.content.decode()
    remark.refresh_from_db()
    assert remark.is_visible and remark.pinned_at is None


@pytest.mark.parametrize("name", CHAT_ACTIONS)
def test_a_room_moderator_gets_403_from_chat_moderation(as_rita, question, open_room, name):
    response = as_rita.post(url(open_room, name, question.pk), **HTMX)

    assert response.status_code == 403
    assert '"ms:toast"' in response["HX-Trigger"]
    question.refresh_from_db()
    assert question.is_visible and question.pinned_at is None


def test_a_room_moderator_can_neither_clear_nor_block(as_rita, paula, live, question, open_room):
    row = live.participants.get(user=paula)

    assert as_rita.post(url(open_room, "chat_clear")).status_code == 403
    assert as_rita.post(url(open_room, "participant_block", row.pk)).status_code == 403
    assert ChatMessage.objects.filter(cleared_at=None).count() == 1
    row.refresh_from_db()
    assert not row.is_chat_blocked
    assert not ModerationAction.objects.filter(kind__startswith="chat").exists()


def test_hosts_moderate_the_chat_too(evan, live, question, open_room):
    services.participant_join(user=evan, entry=open_room)

    services.message_delete(actor=evan, message=question)

    assert ModerationAction.objects.get(kind="message-delete").actor_roles == ["co-editor"]


def test_a_chat_moderator_cannot_delete_a_hosts_message(chad, olivia, live, open_room):
    announcement = services.message_post(author=olivia, entry=open_room, body="Welcome, all")

    with pytest.raises(PermissionDenied, match="Only hosts can delete a host's message"):
        services.message_delete(actor=chad, message=announcement)
    announcement.refresh_from_db()
    assert announcement.is_visible


def test_moderating_a_message_from_another_room_is_404(as_chad, chad, olivia, live, open_room):
    other = media_services.media_create(
        owner=olivia, name="Other room", media_type=MediaEntry.Type.ROOM, status="unlisted"
    )
    services.session_start(actor=olivia, entry=other)
    elsewhere = services.message_post(author=olivia, entry=other, body="Elsewhere")

    for name in CHAT_ACTIONS:
        assert as_chad.post(url(open_room, name, elsewhere.pk)).status_code == 404, name
    elsewhere.refresh_from_db()
    assert elsewhere.is_visible and elsewhere.pinned_at is None


def test_with_the_module_off_chat_moderation_is_refused_with_the_reason(
    as_olivia, live, question, open_room, moderation_on
):
    moderation_on.enabled = False
    moderation_on.save()

    response = as_olivia.post(url(open_room, "message_delete", question.pk))

    assert response.status_code == 403
    assert "ChatandCollaboration module is switched off" in response.content.decode()
    question.refresh_from_db()
    assert question.is_visible


# Pin and Unpin in the chat ----------------------------------------------------------------


def message_row(html: str, message: ChatMessage) -> str:
    """Return the chat log's row of one message."""
    return html.split(f'<div id="message-{message.pk}"')[1].split("</div>")[0]


def test_a_pinned_message_offers_unpin_in_the_chat(as_chad, chad, question, open_room):
    services.message_pin(actor=chad, message=question, pinned=True)

    row = message_row(as_chad.get(url(open_room, "room_detail")).content.decode(), question)

    unpin = url(open_room, "message_unpin", question.pk)
    assert f'formaction="{unpin}" hx-post="{unpin}"' in row
    assert ">Unpin<" in row and ">Pin<" not in row
    assert "Pinned" in row


def test_an_unpinned_message_offers_pin(as_chad, question, open_room):
    row = message_row(as_chad.get(url(open_room, "room_detail")).content.decode(), question)

    pin = url(open_room, "message_pin", question.pk)
    assert f'formaction="{pin}" hx-post="{pin}"' in row
    assert ">Pin<" in row and ">Unpin<" not in row


def test_pressing_unpin_in_the_chat_unpins(as_chad, chad, question, open_room):
    services.message_pin(actor=chad, message=question, pinned=True)
    row = message_row(as_chad.get(url(open_room, "room_detail")).content.decode(), question)
    action = row.split('formaction="')[1].split('"')[0]

    response = as_chad.post(action, **HTMX)

    assert "Message unpinned." in response.content.decode()
    question.refresh_from_db()
    assert question.pinned_at is None
    assert ModerationAction.objects.filter(kind="message-unpin").count() == 1


def test_a_pin_redraws_the_message_for_moderators_who_show_it(
    as_olivia, chad, olivia, question, open_room
):
    services.participant_join(user=olivia, entry=open_room)
    html = as_olivia.get(url(open_room, "room_detail")).content.decode()
    cursor = html.split("poll/?after=")[1].split('"')[0]
    services.message_pin(actor=chad, message=question, pinned=True)

    update = as_olivia.get(url(open_room, "room_poll"), {"after": cursor}).content.decode()

    updates = update.split('<template id="chat-updates" hx-swap-oob="true">')[1]
    assert ">Unpin<" in message_row(updates, question)
