"""Operators: a superuser, a staff member who holds no permissions, and a room session."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from mediaspace import services as media_services
from mediaspace.models import MediaEntry
from rooms import services
from rooms.models import Participant, Session
from tests.conftest import client_for, make_person


@pytest.fixture
def opal(db) -> User:
    """The operator: staff and superuser, as in the demo data."""
    user = make_person("opal", "Opal Operator")
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    return user


@pytest.fixture
def as_opal(opal) -> Client:
    return client_for(opal)


@pytest.fixture
def as_staff(db) -> Client:
    """A staff member without any permission."""
    user = make_person("stan", "Stan Staff")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return client_for(user)


def hold_a_session(entry: MediaEntry) -> Session:
    """Hold a live session in the room through the services: people, chat and moderation.

    The room is made Unlisted, so that Paula may see it; Olivia (the owner) starts it; Rita,
    Chad and Paula join. Chad (chat moderator) clears Olivia's welcome, pins Paula's
    question, deletes her spam and blocks her from the chat.
    """
    olivia, rita, chad, paula = (
        User.objects.get(username=username) for username in ("olivia", "rita", "chad", "paula")
    )
    media_services.media_status_set(actor=olivia, entry=entry, status=MediaEntry.Status.UNLISTED)
    session = services.session_start(actor=olivia, entry=entry)
    for user in (rita, chad, paula):
        services.participant_join(user=user, entry=entry)
    services.message_post(author=olivia, entry=entry, body="Welcome! We start in five minutes.")
    services.chat_clear(actor=chad, entry=entry)
    question = services.message_post(
        author=paula, entry=entry, body="Can I submit the lab report late?"
    )
    spam = services.message_post(author=paula, entry=entry, body="Cheap essays at spam.example")
    services.message_pin(actor=chad, message=question, pinned=True)
    services.message_delete(actor=chad, message=spam)
    services.participant_block(
        actor=chad, participant=Participant.objects.get(session=session, user=paula), blocked=True
    )
    session.refresh_from_db()
    return session


@pytest.fixture
def held(room, paula) -> Session:
    """A live session of the Biology room, held as `hold_a_session` says."""
    return hold_a_session(room)
