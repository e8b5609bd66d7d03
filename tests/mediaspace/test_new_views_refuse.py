"""The views added for access over time refuse as every view does: 404 for an entry the
user cannot see (or that does not exist), 403 for one they see but may not manage, 405
for a method they do not take."""

from __future__ import annotations

import pytest
from django.urls import reverse

VIEWS = {
    "access_why": ("GET", lambda entry, person: [entry.pk, person.pk]),
    "access_check": ("GET", lambda entry, person: [entry.pk]),
    "access_copy": ("GET", lambda entry, person: [entry.pk]),
    "ownership_transfer": ("GET", lambda entry, person: [entry.pk]),
    "access_activity": ("GET", lambda entry, person: [entry.pk]),
}


@pytest.mark.parametrize("view", VIEWS)
def test_someone_who_cannot_see_the_entry_gets_404(as_oscar, room, paula, view):
    _, args = VIEWS[view]
    assert as_oscar.get(reverse(view, args=args(room, paula))).status_code == 404


@pytest.mark.parametrize("view", VIEWS)
def test_an_entry_that_does_not_exist_is_404(as_olivia, room, paula, view):
    _, args = VIEWS[view]
    missing = [999_999, *args(room, paula)[1:]]
    assert as_olivia.get(reverse(view, args=missing)).status_code == 404


@pytest.mark.parametrize("view", VIEWS)
def test_a_moderator_who_sees_the_room_gets_403(as_rita, room, paula, view):
    _, args = VIEWS[view]
    assert as_rita.get(reverse(view, args=args(room, paula))).status_code == 403


@pytest.mark.parametrize(
    ("view", "method"),
    [
        ("access_why", "post"),
        ("access_check", "post"),
        ("access_activity", "post"),
        ("access_copy", "delete"),
        ("ownership_transfer", "put"),
    ],
)
def test_other_methods_are_405(as_olivia, room, paula, view, method):
    _, args = VIEWS[view]
    response = getattr(as_olivia, method)(reverse(view, args=args(room, paula)))
    assert response.status_code == 405


def test_a_co_editor_may_copy_and_check_but_not_transfer(as_evan, room):
    assert as_evan.get(reverse("access_copy", args=[room.pk])).status_code == 200
    assert as_evan.get(reverse("access_check", args=[room.pk]), {"who": "ri"}).status_code == 200
    assert as_evan.get(reverse("ownership_transfer", args=[room.pk])).status_code == 403
