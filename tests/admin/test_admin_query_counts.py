"""The admin's lists cost the same number of queries for 1 row as for 100."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mediaspace import services
from mediaspace.models import AccessChange, MediaEntry
from rooms.models import ChatMessage, ModerationAction, Participant, Room, Session
from tests.conftest import client_for
from tests.factories import GroupFactory, UserFactory


def make_users(count: int) -> None:
    UserFactory.create_batch(count)


def make_media(count: int) -> None:
    """Entries of as many owners as entries, so that owners cannot come from a cache."""
    MediaEntry.objects.bulk_create(
        MediaEntry(owner=owner, name=f"Entry {index}", media_type=MediaEntry.Type.VIDEO)
        for index, owner in enumerate(UserFactory.create_batch(count))
    )


def make_rooms(count: int) -> None:
    for owner in UserFactory.create_batch(count):
        services.media_create(owner=owner, name=f"Room of {owner}", media_type="room")


def make_access_changes(count: int) -> None:
    """Records of different entries, actors, users and groups."""
    owners = UserFactory.create_batch(count)
    entries = MediaEntry.objects.bulk_create(
        MediaEntry(owner=owner, name=f"Entry {index}", media_type=MediaEntry.Type.VIDEO)
        for index, owner in enumerate(owners)
    )
    groups = GroupFactory.create_batch(count)
    AccessChange.objects.bulk_create(
        AccessChange(
            entry=entry,
            actor=owner,
            user=None if index % 2 else owners[-1 - index],
            group=groups[index] if index % 2 else None,
            principal_name=f"Principal {index}",
            after=["co-viewer"],
        )
        for index, (entry, owner) in enumerate(zip(entries, owners, strict=True))
    )


def make_groups(count: int) -> None:
    members = UserFactory.create_batch(3)
    for group in GroupFactory.create_batch(count):
        group.user_set.add(*members)


def make_sessions(count: int) -> list[Session]:
    """Live sessions of as many rooms, each with its host as participant and a message."""
    hosts = UserFactory.create_batch(count)
    entries = MediaEntry.objects.bulk_create(
        MediaEntry(owner=host, name=f"Room {host.username}", media_type=MediaEntry.Type.ROOM)
        for host in hosts
    )
    rooms = Room.objects.bulk_create(Room(media=entry) for entry in entries)
    now = timezone.now()
    sessions = Session.objects.bulk_create(
        Session(room=room, opened_by=host, state=Session.State.LIVE, started_at=now)
        for room, host in zip(rooms, hosts, strict=True)
    )
    Participant.objects.bulk_create(
        Participant(session=session, user=host, roles=["owner"], joined_at=now)
        for session, host in zip(sessions, hosts, strict=True)
    )
    ChatMessage.objects.bulk_create(
        ChatMessage(session=session, author=host, body=f"Hello from {host.username}")
        for session, host in zip(sessions, hosts, strict=True)
    )
    return sessions


def make_chat(count: int) -> None:
    """Messages of different sessions and authors, each deleted, cleared and pinned by others."""
    now = timezone.now()
    messages = list(ChatMessage.objects.filter(session__in=make_sessions(count)))
    for message in messages:
        message.deleted_by, message.cleared_by, message.pinned_by = UserFactory.create_batch(3)
        message.deleted_at = message.cleared_at = message.pinned_at = now
    ChatMessage.objects.bulk_update(
        messages,
        ["deleted_by", "deleted_at", "cleared_by", "cleared_at", "pinned_by", "pinned_at"],
    )


def make_participants(count: int) -> None:
    """Participants of different sessions, each removed and blocked by someone else."""
    now = timezone.now()
    participants = list(Participant.objects.filter(session__in=make_sessions(count)))
    for participant in participants:
        participant.removed_by, participant.chat_blocked_by = UserFactory.create_batch(2)
        participant.removed_at = participant.chat_blocked_at = participant.left_at = now
    Participant.objects.bulk_update(
        participants,
        ["removed_by", "removed_at", "chat_blocked_by", "chat_blocked_at", "left_at"],
    )


def make_moderation_actions(count: int) -> None:
    """Actions of different sessions and actors, on different people and messages."""
    sessions = make_sessions(count)
    messages = ChatMessage.objects.filter(session__in=sessions).select_related("author")
    ModerationAction.objects.bulk_create(
        ModerationAction(
            session_id=message.session_id,
            actor=actor,
            kind=ModerationAction.Kind.MESSAGE_DELETE,
            target_user=message.author,
            target_message=message,
            detail=message.body,
        )
        for message, actor in zip(messages, UserFactory.create_batch(count), strict=True)
    )


def queries_for(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    ("changelist", "make_rows"),
    [
        ("admin:accounts_user_changelist", make_users),
        ("admin:mediaspace_mediaentry_changelist", make_media),
        ("admin:mediaspace_accesschange_changelist", make_access_changes),
        ("admin:auth_group_changelist", make_groups),
        ("admin:rooms_room_changelist", make_rooms),
        ("admin:rooms_session_changelist", make_sessions),
        ("admin:rooms_chatmessage_changelist", make_chat),
        ("admin:rooms_participant_changelist", make_participants),
        ("admin:rooms_moderationaction_changelist", make_moderation_actions),
    ],
    ids=[
        "users",
        "media",
        "audit log",
        "groups",
        "rooms",
        "sessions",
        "chat",
        "participants",
        "moderation actions",
    ],
)
def test_the_query_count_is_the_same_for_1_and_100_rows(
    opal, changelist: str, make_rows: Callable[[int], None]
):
    url = reverse(changelist)
    client = client_for(opal)

    make_rows(1)
    one_row = queries_for(client, url)
    make_rows(99)
    hundred_rows = queries_for(client, url)

    assert one_row == hundred_rows
    assert hundred_rows <= 12


def test_the_rooms_list_names_each_room_and_owner(opal, room):
    html = client_for(opal).get(reverse("admin:rooms_room_changelist")).content.decode()
    assert Room.objects.count() == 1
    assert "Biology 101 office hours" in html and "Olivia Owens" in html
