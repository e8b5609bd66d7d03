"""Rules 1 and 2: roles are resolved at join time; a revocation is immediate.

Rule 1: a grant made during a live session applies when the user rejoins, and the page
says so within seconds. Rule 2: every moderation action needs the role both at join
time and now, so a removed moderator loses the power at once.
"""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from mediaspace import services as media_services
from mediaspace.permissions import Role
from rooms import services
from rooms.models import ChatMessage, ModerationAction
from tests.conftest import HTMX
from tests.factories import GroupFactory


def url(entry, name: str, *args) -> str:
    return reverse(name, args=[entry.pk, *args])


def cursor_of(client, entry) -> str:
    html = client.get(url(entry, "room_detail")).content.decode()
    return html.split("poll/?after=")[1].split('"')[0]


def poll(client, entry, cursor) -> str:
    return client.get(url(entry, "room_poll"), {"after": cursor}).content.decode()


@pytest.fixture
def question(live, rita, open_room) -> ChatMessage:
    return services.message_post(author=rita, entry=open_room, body="Question from Rita")


def test_joining_records_the_roles_held_at_that_moment(live, olivia, rita, chad, paula):
    roles = dict(live.participants.values_list("user__username", "roles"))

    assert roles == {
        "olivia": ["owner"],
        "rita": ["room-moderator"],
        "chad": ["chat-moderator"],
        "paula": [],
    }


def test_group_grants_count_when_joining(olivia, live, open_room):
    group = GroupFactory(name="Teaching Assistants")
    member = group.user_set.create(username="tara", display_name="Tara Thompson")
    media_services.access_add(
        actor=olivia, entry=open_room, principal=group, roles=[Role.CHAT_MODERATOR]
    )

    participant = services.participant_join(user=member, entry=open_room)

    assert participant.roles == ["chat-moderator"]


# Rule 1 ---------------------------------------------------------------------------------


def test_a_grant_during_the_session_waits_for_a_rejoin(olivia, paula, live, question, open_room):
    media_services.access_add(
        actor=olivia, entry=open_room, principal=paula, roles=[Role.CHAT_MODERATOR]
    )

    with pytest.raises(PermissionDenied, match="applies when you rejoin"):
        services.message_delete(actor=paula, message=question)
    question.refresh_from_db()
    assert question.is_visible

    services.participant_join(user=paula, entry=open_room)
    services.message_delete(actor=paula, message=question)

    question.refresh_from_db()
    assert not question.is_visible


def test_the_page_says_permissions_changed_within_one_poll(
    as_paula, olivia, paula, live, open_room
):
    cursor = cursor_of(as_paula, open_room)
    media_services.access_add(
        actor=olivia, entry=open_room, principal=paula, roles=[Role.CHAT_MODERATOR]
    )

    html = poll(as_paula, open_room, cursor)

    assert "Your permissions changed — rejoin to apply." in html
    assert 'role="alert"' in html
    assert ">Rejoin</button>" in html
    assert "Delete" not in html  # the new power does not apply yet
    new_cursor = html.split("poll/?after=")[1].split('"')[0]
    assert new_cursor.split(".")[2] == "1"
    assert as_paula.get(url(open_room, "room_poll"), {"after": new_cursor}).status_code == 204


def test_rejoin_applies_the_new_roles_without_leaving(as_paula, olivia, paula, live, open_room):
    cursor = cursor_of(as_paula, open_room)
    media_services.access_add(
        actor=olivia, entry=open_room, principal=paula, roles=[Role.CHAT_MODERATOR]
    )
    notice_cursor = poll(as_paula, open_room, cursor).split("poll/?after=")[1].split('"')[0]

    response = as_paula.post(url(open_room, "participant_join"), **HTMX)
    html = poll(as_paula, open_room, notice_cursor)

    assert "You rejoined the room as Chat moderator." in response.content.decode()
    assert live.participants.get(user=paula).roles == ["chat-moderator"]
    assert live.participants.get(user=paula).is_present
    assert "rejoin to apply" not in html
    assert "Clear chat" in html
    assert "You are in the room as Chat moderator." in html


def test_a_group_grant_during_the_session_is_announced_and_applies_on_rejoin(
    as_paula, olivia, paula, live, question, open_room
):
    group = GroupFactory(name="Teaching Assistants")
    group.user_set.add(paula)
    cursor = cursor_of(as_paula, open_room)

    media_services.access_add(
        actor=olivia, entry=open_room, principal=group, roles=[Role.CHAT_MODERATOR]
    )

    assert "Your permissions changed — rejoin to apply." in poll(as_paula, open_room, cursor)
    assert as_paula.post(url(open_room, "message_delete", question.pk)).status_code == 403
    services.participant_join(user=paula, entry=open_room)
    assert as_paula.post(url(open_room, "message_delete", question.pk)).status_code == 302
    question.refresh_from_db()
    assert question.deleted_by == paula


def test_joining_a_group_during_the_session_counts_too(olivia, paula, live, open_room, question):
    group = GroupFactory(name="Teaching Assistants")
    media_services.access_add(
        actor=olivia, entry=open_room, principal=group, roles=[Role.ROOM_MODERATOR]
    )

    group.user_set.add(paula)  # a member added later holds what the group holds

    with pytest.raises(PermissionDenied, match="applies when you rejoin"):
        services.session_lock(actor=paula, entry=open_room, locked=True)
    services.participant_join(user=paula, entry=open_room)
    services.session_lock(actor=paula, entry=open_room, locked=True)
    live.refresh_from_db()
    assert live.locked


# Rule 2 ---------------------------------------------------------------------------------


def test_a_revoked_chat_moderator_loses_the_power_at_once(olivia, chad, live, question, open_room):
    media_services.access_set(actor=olivia, entry=open_room, principal=chad, roles=[])

    with pytest.raises(PermissionDenied, match="no longer have permission"):
        services.message_delete(actor=chad, message=question)
    with pytest.raises(PermissionDenied):
        services.chat_clear(actor=chad, entry=open_room)
    question.refresh_from_db()
    assert question.is_visible
    assert not ModerationAction.objects.filter(actor=chad).exists()


def test_a_moderator_removed_from_the_group_loses_the_power_at_once(
    as_chad, olivia, live, question, open_room
):
    group = GroupFactory(name="Teaching Assistants")
    member = group.user_set.create(username="tara", display_name="Tara Thompson")
    media_services.access_add(
        actor=olivia,
        entry=open_room,
        principal=group,
        roles=[Role.ROOM_MODERATOR, Role.CHAT_MODERATOR],
    )
    services.participant_join(user=member, entry=open_room)
    paula_row = live.participants.get(user__username="paula")
    services.participant_block(actor=member, participant=paula_row, blocked=True)  # works now

    group.user_set.remove(member)

    with pytest.raises(PermissionDenied, match="no longer have permission"):
        services.participant_block(actor=member, participant=paula_row, blocked=False)
    with pytest.raises(PermissionDenied, match="no longer have permission"):
        services.participant_remove(actor=member, participant=paula_row)
    with pytest.raises(PermissionDenied, match="no longer have permission"):
        services.message_delete(actor=member, message=question)
    paula_row.refresh_from_db()
    assert paula_row.is_chat_blocked and paula_row.is_present
    assert list(ModerationAction.objects.filter(actor=member).values_list("kind", flat=True)) == [
        "chat-block"
    ]


def test_after_a_revocation_the_page_drops_the_controls_and_says_so(
    as_chad, olivia, chad, live, question, open_room
):
    cursor = cursor_of(as_chad, open_room)
    assert "Clear chat" in as_chad.get(url(open_room, "room_detail")).content.decode()

    media_services.access_set(actor=olivia, entry=open_room, principal=chad, roles=[])
    html = poll(as_chad, open_room, cursor)

    assert "You are no longer a chat moderator in this room." in html
    assert "rejoin" not in html.lower().split("chat-messages")[0]  # nothing to rejoin for
    assert "Clear chat" not in html
    assert "Delete" not in html


def test_a_revocation_changes_the_persons_label_in_everyone_s_list(
    as_paula, olivia, chad, live, open_room
):
    cursor = cursor_of(as_paula, open_room)
    before = as_paula.get(url(open_room, "room_detail")).content.decode()
    assert re.search(r"Chad Chen.*?participant-roles\">Chat moderator<", before, re.S)

    media_services.access_set(actor=olivia, entry=open_room, principal=chad, roles=[])
    html = poll(as_paula, open_room, cursor)

    assert 'id="participants"' in html  # the list comes again, out of band
    chad_row = html.split("Chad Chen")[1].split("</li>")[0]
    assert "Chat moderator" not in chad_row
    assert "You are no longer" not in html  # Paula lost nothing


def test_a_change_that_gains_a_role_still_asks_to_rejoin(as_paula, olivia, paula, live, open_room):
    cursor = cursor_of(as_paula, open_room)

    media_services.access_set(
        actor=olivia, entry=open_room, principal=paula, roles=[Role.CHAT_MODERATOR]
    )
    html = poll(as_paula, open_room, cursor)

    assert "Your permissions changed — rejoin to apply." in html
    assert ">Rejoin</button>" in html


def test_losing_one_role_and_gaining_another_says_both(as_chad, olivia, chad, live, open_room):
    cursor = cursor_of(as_chad, open_room)

    media_services.access_set(
        actor=olivia, entry=open_room, principal=chad, roles=[Role.ROOM_MODERATOR]
    )
    html = poll(as_chad, open_room, cursor)

    assert (
        "You are no longer a chat moderator in this room. "
        "Your new permissions apply when you rejoin." in html
    )
    assert ">Rejoin</button>" in html


def test_switching_the_module_off_disarms_moderators_at_once(rita, live, moderation_on, open_room):
    moderation_on.enabled = False
    moderation_on.save()

    with pytest.raises(PermissionDenied, match="no longer have permission"):
        services.session_lock(actor=rita, entry=open_room, locked=True)
    live.refresh_from_db()
    assert not live.locked
