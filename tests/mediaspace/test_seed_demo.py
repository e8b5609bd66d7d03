from __future__ import annotations

from django.contrib.auth.models import Group
from django.core.management import call_command

from accounts.models import User
from mediaspace.management.commands.seed_demo import DEMO_PASSWORD


def test_it_creates_the_personas_with_the_documented_password(db):
    call_command("seed_demo", verbosity=0)

    for username in ["olivia", "evan", "rita", "chad", "paula", "oscar"]:
        assert User.objects.get(username=username).check_password(DEMO_PASSWORD)
    operator = User.objects.get(username="opal")
    assert operator.is_staff


def test_it_creates_the_teaching_assistants_group_with_members(db):
    call_command("seed_demo", verbosity=0)

    group = Group.objects.get(name="Teaching Assistants")
    assert group.user_set.count() >= 3


def test_it_is_idempotent(db):
    call_command("seed_demo", verbosity=0)
    counts = (User.objects.count(), Group.objects.count())

    call_command("seed_demo", verbosity=0)

    assert (User.objects.count(), Group.objects.count()) == counts
