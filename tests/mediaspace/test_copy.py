"""Copy permissions from another entry: find it among the entries one manages, preview
what would be added (never removed), confirm; bad sources refused with nothing changed."""

from __future__ import annotations

from django.urls import reverse

from mediaspace import access, services, terms
from mediaspace.models import AccessChange, Role
from rooms import services as room_services
from tests.conftest import HTMX
from tests.factories import GroupFactory, UserFactory


def url(entry) -> str:
    return reverse("access_copy", args=[entry.pk])


def make_room(owner, name):
    return room_services.room_create(owner=owner, name=name, description="", tags="")


def test_the_dialog_finds_entries_the_user_manages(as_olivia, olivia, room, lecture, evan):
    other = make_room(evan, "Evan's seminar")  # not Olivia's: not offered

    html = as_olivia.get(url(room), {"q": ""}, **HTMX).content.decode()

    assert f'value="{lecture.pk}"' in html
    assert f'value="{room.pk}"' not in html  # not the entry itself
    assert f'value="{other.pk}"' not in html


def test_preview_then_copy_adds_what_is_missing_with_the_ends(
    as_olivia, olivia, evan, room, rita, chad, paula
):
    source = make_room(olivia, "Office hours, last term")
    group = GroupFactory(name="Teaching Assistants")
    end = terms.end_after(20)
    services.access_add(actor=olivia, entry=source, principal=group, roles=[Role.CHAT_MODERATOR])
    services.access_add(
        actor=olivia, entry=source, principal=paula, roles=[Role.CO_VIEWER], ends=end
    )
    # Rita is Room moderator here already; there she is Room and Chat moderator.
    services.access_add(
        actor=olivia,
        entry=source,
        principal=rita,
        roles=[Role.ROOM_MODERATOR, Role.CHAT_MODERATOR],
    )
    services.access_add(
        actor=olivia,
        entry=source,
        principal=evan,
        roles=[Role.CO_EDITOR],
    )
    before = AccessChange.objects.filter(entry=room).count()

    preview = " ".join(
        as_olivia.get(url(room), {"source": source.pk}, **HTMX).content.decode().split()
    )
    assert "3 users or groups would gain:" in preview
    assert f'<form method="post" action="{url(room)}" hx-post="{url(room)}"' in preview
    assert (
        '<strong>Teaching Assistants</strong> <span class="muted small">(group)</span>:'
        " Chat moderator" in preview
    )
    assert f"<strong>Paula Park</strong>: Co-viewer ({terms.until_label(end)})" in preview
    assert "<strong>Rita Reyes</strong>: Chat moderator" in preview
    assert "Evan Edwards" not in preview  # co-editor here already
    assert AccessChange.objects.filter(entry=room).count() == before  # a preview changes nothing

    response = as_olivia.post(url(room), {"source": source.pk}, **HTMX)

    assert response.status_code == 200
    assert "Copied from “Office hours, last term”: 3 users and groups gained access." in (
        response.content.decode()
    )
    assert access.principal_roles(room, group) == {Role.CHAT_MODERATOR}
    assert access.principal_roles(room, rita) == {Role.ROOM_MODERATOR, Role.CHAT_MODERATOR}
    assert access.terms_of(room, [("user", paula.pk)]) == {
        ("user", paula.pk): {Role.CO_VIEWER: end}
    }
    assert AccessChange.objects.filter(entry=room).count() == before + 3
    copied = AccessChange.objects.filter(entry=room, reason=AccessChange.Reason.COPY)
    assert copied.count() == 3
    tab = as_olivia.get(reverse("media_roles", args=[room.pk])).content.decode()
    assert "Chat moderator (copied from another entry)" in tab


def test_a_co_editor_copies_moderators_only(as_evan, olivia, evan, room, paula, chad):
    source = make_room(olivia, "Evan co-edits this too")
    services.access_add(actor=olivia, entry=source, principal=evan, roles=[Role.CO_EDITOR])
    services.access_add(
        actor=olivia, entry=source, principal=paula, roles=[Role.CO_VIEWER, Role.CHAT_MODERATOR]
    )

    as_evan.post(url(room), {"source": source.pk}, **HTMX)

    assert access.principal_roles(room, paula) == {Role.CHAT_MODERATOR}


def test_moderators_are_not_copied_to_media_that_is_not_a_room(
    as_olivia, olivia, room, lecture, rita
):
    as_olivia.post(url(lecture), {"source": room.pk}, **HTMX)
    assert access.principal_roles(lecture, rita) == frozenset()


def test_bad_sources_are_refused_and_change_nothing(
    as_olivia, as_evan, olivia, evan, room, lecture
):
    foreign = make_room(UserFactory(username="zed"), "Someone else's room")
    viewer_only = make_room(evan, "Evan's own room")
    services.access_add(actor=evan, entry=viewer_only, principal=olivia, roles=[Role.CO_VIEWER])
    before = AccessChange.objects.count()
    cases = {
        str(room.pk): "Pick another entry: this is the one you are copying to.",
        str(foreign.pk): "You can only copy from media you own or co-edit.",
        str(viewer_only.pk): "You can only copy from media you own or co-edit.",
        "999999": "You can only copy from media you own or co-edit.",
        "abc": "You can only copy from media you own or co-edit.",
        "": "Choose the entry to copy from.",
    }
    for source, message in cases.items():
        html = as_olivia.post(url(room), {"source": source}, **HTMX).content.decode()
        assert message in html, source
    assert AccessChange.objects.count() == before
