"""Shared fixtures: the personas of the style guide, made through the real services."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from accounts.models import User
from accounts.services import user_ensure
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
