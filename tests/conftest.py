"""Shared fixtures: the personas of the style guide, made through the real services."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from accounts.models import User
from accounts.services import user_ensure
from mediaspace import services
from mediaspace.models import MediaEntry, Module
from mediaspace.permissions import Role
from rooms import services as room_services
from tests.factories import TEST_PASSWORD


def make_person(username: str, name: str) -> User:
    return user_ensure(
        username=username,
        display_name=name,
        email=f"{username}@example.com",
        password=TEST_PASSWORD,
    )


@pytest.fixture
def olivia(db) -> User:
    """The owner."""
    return make_person("olivia", "Olivia Owens")


@pytest.fixture
def evan(db) -> User:
    """A co-editor."""
    return make_person("evan", "Evan Edwards")


@pytest.fixture
def rita(db) -> User:
    """A room moderator."""
    return make_person("rita", "Rita Reyes")


@pytest.fixture
def chad(db) -> User:
    """A chat moderator."""
    return make_person("chad", "Chad Chen")


@pytest.fixture
def paula(db) -> User:
    """A participant."""
    return make_person("paula", "Paula Park")


@pytest.fixture
def oscar(db) -> User:
    """An outsider."""
    return make_person("oscar", "Oscar Ortiz")


@pytest.fixture
def teaching_assistants(db) -> Group:
    return Group.objects.create(name="Teaching Assistants")


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def as_olivia(olivia) -> Client:
    return client_for(olivia)


@pytest.fixture
def as_oscar(oscar) -> Client:
    return client_for(oscar)


@pytest.fixture
def piper(db) -> User:
    """A co-publisher."""
    return make_person("piper", "Piper Price")


@pytest.fixture
def victor(db) -> User:
    """A co-viewer."""
    return make_person("victor", "Victor Vance")


@pytest.fixture
def moderation_on(db) -> Module:
    """Switch the ChatandCollaboration module on, as operators do in the admin."""
    return Module.objects.update_or_create(
        name=Module.Name.CHAT_AND_COLLABORATION, defaults={"enabled": True}
    )[0]


@pytest.fixture
def room(olivia, evan, rita, chad, moderation_on) -> MediaEntry:
    """Olivia's private room: Evan co-edits, Rita moderates the room, Chad the chat."""
    entry = room_services.room_create(
        owner=olivia,
        name="Biology 101 office hours",
        description="Weekly live Q&A.",
        tags="biology, live",
    )
    services.access_set(actor=olivia, entry=entry, principal=evan, roles=[Role.CO_EDITOR])
    services.access_set(actor=olivia, entry=entry, principal=rita, roles=[Role.ROOM_MODERATOR])
    services.access_set(actor=olivia, entry=entry, principal=chad, roles=[Role.CHAT_MODERATOR])
    return entry


@pytest.fixture
def lecture(olivia, evan, piper, victor) -> MediaEntry:
    """Olivia's private video: Evan co-edits, Piper co-publishes, Victor co-views."""
    entry = services.media_create(
        owner=olivia,
        name="Cell structure lecture",
        media_type=MediaEntry.Type.VIDEO,
        description="Membranes and organelles.",
        tags="biology, lecture",
        duration_seconds=2880,
    )
    services.access_set(actor=olivia, entry=entry, principal=evan, roles=[Role.CO_EDITOR])
    services.access_set(actor=olivia, entry=entry, principal=piper, roles=[Role.CO_PUBLISHER])
    services.access_set(actor=olivia, entry=entry, principal=victor, roles=[Role.CO_VIEWER])
    return entry


@pytest.fixture
def as_evan(evan) -> Client:
    return client_for(evan)


@pytest.fixture
def as_rita(rita) -> Client:
    return client_for(rita)


@pytest.fixture
def as_piper(piper) -> Client:
    return client_for(piper)


@pytest.fixture
def as_victor(victor) -> Client:
    return client_for(victor)


HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _chat_rate_out_of_the_way(settings) -> None:
    """Let set-ups post many messages at once; the rate's own tests (test_chat_rate) set
    the operator's limit."""
    settings.CHAT_RATE_MESSAGES = 10_000


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """Hash test passwords cheaply: the real hasher costs a third of a second each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _expiry_policies_read_afresh() -> None:
    """Each test reads the operators' expiry policies from its own database: the process's
    copy of another test's would outlive its rolled-back rows."""
    from mediaspace import terms

    terms.policies_forget()
