"""Operators: a superuser, and a staff member who holds no permissions."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
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
