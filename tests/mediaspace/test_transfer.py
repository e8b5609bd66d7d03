"""Transfer ownership: the owner gives an entry to another person, keeping Co-editor by
default; the new owner's own grants fold into ownership; both changes are audited; bad
choices are refused next to the field with nothing changed."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from mediaspace import access, services
from mediaspace.models import AccessChange, MediaEntry, MediaEntryUserObjectPermission, Role
from tests.conftest import HTMX
from tests.factories import GroupFactory, UserFactory


def url(entry) -> str:
    return reverse("ownership_transfer", args=[entry.pk])


def test_the_owner_transfers_and_keeps_co_editor(as_olivia, olivia, room, rita, paula):
    response = as_olivia.post(url(room), {"principals": [f"user:{rita.pk}"], "keep": "on"}, **HTMX)

    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("media_roles", args=[room.pk])
    room.refresh_from_db()
    assert room.owner == rita
    assert access.entry_for_user(rita, room.pk).roles == {Role.OWNER}
    assert access.entry_for_user(olivia, room.pk).roles == {Role.CO_EDITOR}
    # Rita's Room moderator grant folded into ownership: no guardian row is left for her.
    assert not MediaEntryUserObjectPermission.objects.filter(content_object=room, user=rita)
    assert access.differences() == 0
    records = AccessChange.objects.filter(reason=AccessChange.Reason.TRANSFER).order_by("pk")
    assert [(c.user, c.before, c.after, c.actor) for c in records] == [
        (rita, ["room-moderator"], ["owner"], olivia),
        (olivia, ["owner"], ["co-editor"], olivia),
    ]
    # My Media and the Roles tab show the new owner at once.
    mine = access.my_media(rita, wanted=[Role.OWNER], sort="-updated", stop=20)
    assert [row.entry.pk for row in mine.rows] == [room.pk]
    tab = as_olivia.get(reverse("media_roles", args=[room.pk])).content.decode()
    owner_row = tab.split('<tr class="owner-row">')[1].split("</tr>")[0]
    assert "Rita Reyes" in owner_row
    assert "Transfer ownership" not in tab  # Olivia is a co-editor now
    assert (
        "<strong>Olivia Owens</strong> transferred ownership to <strong>Rita Reyes</strong>" in tab
    )
    assert "<strong>Olivia Owens</strong> gave up ownership, keeping Co-editor" in tab


def test_without_keeping_the_old_owner_loses_access(as_olivia, olivia, lecture, paula):
    response = as_olivia.post(url(lecture), {"principals": [f"user:{paula.pk}"]}, **HTMX)

    assert response["HX-Redirect"] == reverse("my_media")
    assert access.entry_for_user(olivia, lecture.pk).roles == frozenset()
    assert as_olivia.get(reverse("media_edit", args=[lecture.pk])).status_code == 404


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("self", "You own it already: choose someone else."),
        ("group", "Ownership goes to a person, not a group."),
        ("inactive", "is inactive and cannot own media."),
        ("two", "Choose one person: media has a single owner."),
        ("none", "Choose the person who will own it."),
        ("missing", "That user no longer exists."),
    ],
)
def test_bad_choices_are_refused_next_to_the_field(
    as_olivia, olivia, room, rita, paula, who, message
):
    principals = {
        "self": [f"user:{olivia.pk}"],
        "group": [f"group:{GroupFactory(name='Staff').pk}"],
        "inactive": [f"user:{UserFactory(username='gone', is_active=False).pk}"],
        "two": [f"user:{rita.pk}", f"user:{paula.pk}"],
        "none": [],
        "missing": ["user:999999"],
    }[who]
    changes = AccessChange.objects.count()

    response = as_olivia.post(url(room), {"principals": principals, "keep": "on"}, **HTMX)

    html = response.content.decode()
    assert 'id="principals-error"' in html
    assert message in html.split('id="principals-error"')[1].split("</div>")[0]
    assert MediaEntry.objects.get(pk=room.pk).owner == olivia
    assert AccessChange.objects.count() == changes
    assert access.differences() == 0


def test_only_the_owner_may_transfer_and_a_second_submit_changes_nothing(
    as_olivia, as_evan, olivia, evan, room, rita
):
    assert as_evan.get(url(room)).status_code == 403  # a co-editor
    as_olivia.post(url(room), {"principals": [f"user:{rita.pk}"], "keep": "on"}, **HTMX)

    again = as_olivia.post(url(room), {"principals": [f"user:{evan.pk}"], "keep": "on"}, **HTMX)

    assert again.status_code == 403
    assert MediaEntry.objects.get(pk=room.pk).owner == rita


def test_the_service_refuses_someone_no_longer_the_owner(olivia, evan, room, rita):
    with pytest.raises(ValidationError) as refused, transaction.atomic():
        services.ownership_transfer(actor=evan, entry=room, new_owner=rita)
    assert refused.value.code == "not_owner"
    assert MediaEntry.objects.get(pk=room.pk).owner == olivia


def test_the_dialog_opens_from_the_owners_row(as_olivia, room):
    tab = as_olivia.get(reverse("media_roles", args=[room.pk])).content.decode()
    assert f'hx-get="{url(room)}" hx-target="#dialog-host">Transfer ownership</a>' in tab
    dialog = as_olivia.get(url(room), **HTMX).content.decode()
    assert dialog.lstrip().startswith("<dialog")
    assert '<label id="principals-label" for="principals-input">New owner</label>' in dialog
    keep = re.search(r'<input type="checkbox" name="keep"[^>]*>', dialog)
    assert keep and "checked" in keep.group(0)
