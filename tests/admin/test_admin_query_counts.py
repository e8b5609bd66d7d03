"""The admin's lists cost the same number of queries for 1 row as for 100."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mediaspace import services
from mediaspace.models import AccessChange, MediaEntry
from rooms.models import Room
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
    ],
    ids=["users", "media", "audit log", "groups", "rooms"],
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
