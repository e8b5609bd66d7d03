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


def test_the_demo_shows_the_product(db):
    """Olivia's My Media starts with the tour's room and has more than a page: Load more
    shows; durations look like real recordings."""
    from mediaspace import selectors
    from mediaspace.models import MediaEntry

    call_command("seed_demo", verbosity=0)
    olivia = User.objects.get(username="olivia")

    page = selectors.my_media_page(
        olivia, search="", media_type="", role="", sort="-updated", start=0, stop=20
    )

    assert page.rows[0].entry.name == "Biology 101 — Live office hours"
    assert page.has_more
    durations = MediaEntry.objects.exclude(duration_seconds=None).values_list(
        "duration_seconds", flat=True
    )
    assert len({seconds % 60 for seconds in durations}) > 10


def test_running_it_twice_adds_nothing(db):
    from mediaspace.models import AccessChange, MediaEntry

    call_command("seed_demo", verbosity=0)
    counts = (MediaEntry.objects.count(), AccessChange.objects.count(), User.objects.count())
    call_command("seed_demo", verbosity=0)

    assert (MediaEntry.objects.count(), AccessChange.objects.count(), User.objects.count()) == (
        counts
    )
