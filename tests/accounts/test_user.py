from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts.models import User


@pytest.mark.parametrize(
    ("display_name", "first", "last", "expected"),
    [
        ("Olivia Owens", "", "", "OO"),
        ("Mary Ann van Dyke", "", "", "MD"),
        ("", "Evan", "Edwards", "EE"),
        ("", "", "", "R"),
        ("Cher", "", "", "C"),
    ],
)
def test_it_derives_initials_from_the_shown_name(display_name, first, last, expected):
    user = User(username="rita", display_name=display_name, first_name=first, last_name=last)

    assert user.initials == expected


def test_it_shows_display_name_then_full_name_then_username():
    assert User(username="u", display_name="Shown").name == "Shown"
    assert User(username="u", first_name="Ada", last_name="Lovelace").name == "Ada Lovelace"
    assert User(username="u").name == "u"


def test_the_avatar_colour_is_stable_per_user():
    assert User(username="olivia").avatar_colour == User(username="olivia").avatar_colour
    tones = {User(username=f"user{n}").avatar_tone for n in range(50)}
    assert len(tones) > 3


def test_emails_are_unique_regardless_of_case(olivia):
    twin = User(username="olivia2", email="OLIVIA@example.com")

    with pytest.raises(ValidationError, match="email address already exists"):
        twin.full_clean()


def test_several_users_may_leave_email_empty(db):
    User.objects.create(username="a")
    User.objects.create(username="b")

    User(username="c", password="!").full_clean()
