"""Concurrent changes on PostgreSQL: requests that wait for the entry's or room's lock see
what the holder wrote, so nothing is counted twice and no write is lost.

SQLite runs one writer at a time (IMMEDIATE transactions), and the in-memory test database
cannot serve threads, so these run on PostgreSQL (CI runs the suite on both).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from mediaspace import access, services
from mediaspace.models import AccessChange, MediaEntry
from mediaspace.permissions import Role
from rooms import services as room_services
from rooms.models import RoomEvent

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="threads need a server database"),
    pytest.mark.django_db(transaction=True),
]


def at_once(*calls: Callable[[], object]) -> list[object]:
    """Run the calls in threads released together; return their results or exceptions."""
    start = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            start.wait()
            results[index] = call()
        except Exception as error:  # reported to the test
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.parametrize("repeat", range(3))
def test_two_moderator_grants_to_one_person_at_once_both_hold(repeat, room, olivia, evan, paula):
    results = at_once(
        lambda: services.moderators_add(
            actor=olivia, entry=room, principals=[paula], roles=[Role.ROOM_MODERATOR]
        ),
        lambda: services.moderators_add(
            actor=evan, entry=room, principals=[paula], roles=[Role.CHAT_MODERATOR]
        ),
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    both = {Role.ROOM_MODERATOR, Role.CHAT_MODERATOR}
    assert access.principal_roles(room, paula) == both
    assert access.expected_rows() == access.current_rows()  # guardian's rows agree
    first, second = AccessChange.objects.filter(entry=room, user=paula).order_by("id")
    assert first.before == []  # the second change saw the first one's result
    assert set(second.before) == set(first.after)
    assert set(second.after) == {role.value for role in both}


@pytest.mark.parametrize("repeat", range(3))
def test_posts_at_once_in_one_room_get_numbers_without_gaps(repeat, room, olivia, paula, chad):
    services.media_status_set(actor=olivia, entry=room, status=MediaEntry.Status.UNLISTED)
    room_services.session_start(actor=olivia, entry=room)
    for user in (paula, chad):
        room_services.participant_join(user=user, entry=room)

    results = at_once(
        *[
            (
                lambda user=user, n=n: room_services.message_post(
                    author=user, entry=room, body=f"{n}"
                )
            )
            for n in range(3)
            for user in (olivia, paula, chad)
        ]
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    seqs = sorted(RoomEvent.objects.values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
