"""factory-boy factories for bulk test data."""

from __future__ import annotations

import factory
import factory.random
from django.contrib.auth.models import Group
from factory.django import DjangoModelFactory

from accounts.models import User

factory.random.reseed_random("mediaspace")

# One precomputed hash: hashing a password per user would dominate bulk set-ups.
TEST_PASSWORD = "correct horse battery staple"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Faker("name")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password(TEST_PASSWORD)


class GroupFactory(DjangoModelFactory):
    class Meta:
        model = Group
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Group {n}")
