"""Room fixtures: a room everyone signed in can see, and a live session in it."""

from __future__ import annotations

import pytest
from django.test import Client

from mediaspace import services as media_services
from mediaspace.models import MediaEntry
from rooms import services
from rooms.models import Session
from tests.conftest import client_for


@pytest.fixture
def as_chad(chad) -> Client:
    return client_for(chad)


@pytest.fixture
def as_paula(paula) -> Client:
    return client_for(paula)


@pytest.fixture
def open_room(room, olivia) -> MediaEntry:
    """The room, Unlisted so that every signed-in user (Paula too) can see it."""
    return media_services.media_status_set(
        actor=olivia, entry=room, status=MediaEntry.Status.UNLISTED
    )


@pytest.fixture
def live(open_room, olivia, paula, chad, rita) -> Session:
    """A live session: Olivia started it; Rita, Chad and Paula joined."""
    session = services.session_start(actor=olivia, entry=open_room)
    for user in (rita, chad, paula):
        services.participant_join(user=user, entry=open_room)
    return session
