"""Access rules for every URL of an entry: the media page, Edit tabs, status and delete."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mediaspace import services
from mediaspace.models import MediaEntry, MediaEntryUserObjectPermission
from tests.conftest import HTMX, client_for

# view name, method, who may use it (among the lecture's personas)
VIEWS = [
    ("media_detail", "get", {"olivia", "evan", "piper", "victor"}),
    ("media_edit", "get", {"olivia", "evan"}),
    ("media_roles", "get", {"olivia", "evan"}),
    ("media_delete", "get", {"olivia"}),
]


@pytest.fixture
def clients(as_olivia, as_evan, as_piper, as_victor, as_oscar):
    return {
        "olivia": as_olivia,
        "evan": as_evan,
        "piper": as_piper,
        "victor": as_victor,
        "oscar": as_oscar,
    }


@pytest.mark.parametrize(("name", "method", "allowed"), VIEWS)
def test_each_persona_gets_the_page_403_or_404(clients, lecture, name, method, allowed):
    url = reverse(name, args=[lecture.pk])

    for persona, client in clients.items():
        status = getattr(client, method)(url).status_code
        if persona in allowed:
            assert status == 200, persona
        elif persona == "oscar":
            assert status == 404, persona
        else:
            assert status == 403, persona


@pytest.mark.parametrize(
    "name", ["media_detail", "media_edit", "media_roles", "media_status", "media_delete"]
)
def test_anonymous_visitors_are_sent_to_sign_in(client, lecture, name):
    response = client.get(reverse(name, args=[lecture.pk]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    "name", ["media_detail", "media_edit", "media_roles", "media_status", "media_delete"]
)
def test_unknown_entries_are_404(as_olivia, db, name):
    method = as_olivia.post if name == "media_status" else as_olivia.get

    assert method(reverse(name, args=[999999])).status_code == 404


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("media_detail", "post"),
        ("media_edit", "put"),
        ("media_roles", "post"),
        ("media_status", "get"),
        ("media_delete", "put"),
    ],
)
def test_wrong_methods_are_405(as_olivia, lecture, name, method):
    assert getattr(as_olivia, method)(reverse(name, args=[lecture.pk])).status_code == 405


def test_published_entries_are_visible_to_every_signed_in_user(as_oscar, lecture, olivia):
    services.media_status_set(actor=olivia, entry=lecture, status=MediaEntry.Status.PUBLISHED)

    assert as_oscar.get(lecture.get_absolute_url()).status_code == 200
    assert as_oscar.get(reverse("media_edit", args=[lecture.pk])).status_code == 403


def test_a_room_moderator_never_gets_the_edit_page(as_rita, room):
    assert as_rita.get(room.get_absolute_url()).status_code == 200
    assert as_rita.get(reverse("media_edit", args=[room.pk])).status_code == 403
    assert as_rita.get(reverse("media_roles", args=[room.pk])).status_code == 403


def test_staff_status_alone_grants_nothing(oscar, lecture, client):
    oscar.is_staff = True
    oscar.is_superuser = True
    oscar.save()
    client.force_login(oscar)

    assert client.get(lecture.get_absolute_url()).status_code == 404


def test_the_media_page_shows_the_entry_and_its_menu(as_olivia, as_victor, lecture):
    html = as_olivia.get(lecture.get_absolute_url()).content.decode()
    assert lecture.name in html
    assert "Membranes and organelles." in html
    assert reverse("media_edit", args=[lecture.pk]) in html

    html = as_victor.get(lecture.get_absolute_url()).content.decode()
    assert reverse("media_edit", args=[lecture.pk]) not in html


def test_the_edit_page_opens_on_details(as_evan, lecture):
    response = as_evan.get(reverse("media_edit", args=[lecture.pk]))

    html = response.content.decode()
    assert 'aria-current="page">Details<' in html
    assert 'value="Cell structure lecture"' in html
    assert reverse("media_roles", args=[lecture.pk]) in html


def test_details_saves_and_says_so(as_evan, lecture):
    response = as_evan.post(
        reverse("media_edit", args=[lecture.pk]),
        {"name": "  Cells, revised ", "description": "New text", "tags": "bio, Bio, cells,"},
        follow=True,
    )

    lecture.refresh_from_db()
    assert (lecture.name, lecture.description, lecture.tags) == (
        "Cells, revised",
        "New text",
        "bio, cells",
    )
    assert b"Media successfully updated." in response.content


def test_details_refuses_an_empty_name_next_to_the_field(as_olivia, lecture):
    response = as_olivia.post(
        reverse("media_edit", args=[lecture.pk]),
        {"name": "   ", "description": "Changed", "tags": ""},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_name_error">Give the media a name.<' in html
    assert "Changed" in html  # what the user typed is kept
    lecture.refresh_from_db()
    assert lecture.name == "Cell structure lecture"
    assert lecture.description == "Membranes and organelles."


def test_details_refuses_an_overlong_name(as_olivia, lecture):
    response = as_olivia.post(
        reverse("media_edit", args=[lecture.pk]), {"name": "x" * 201, "description": ""}
    )

    assert b"at most 200 characters" in response.content
    lecture.refresh_from_db()
    assert lecture.name == "Cell structure lecture"


def test_details_by_htmx_renders_the_panel_and_a_toast(as_olivia, lecture):
    response = as_olivia.post(
        reverse("media_edit", args=[lecture.pk]),
        {"name": "Renamed", "description": "", "tags": ""},
        **HTMX,
    )

    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="edit-panel"')
    assert "Media successfully updated." in html
    assert 'hx-swap-oob="beforeend"' in html
    assert '<span id="edit-entry-name" hx-swap-oob="true">Renamed</span>' in html


def test_tabs_render_only_the_panel_for_htmx(as_olivia, lecture):
    for name, marker in (("media_edit", "Details"), ("media_roles", "Roles &amp; permissions")):
        response = as_olivia.get(reverse(name, args=[lecture.pk]), **HTMX)
        html = response.content.decode()
        assert "<html" not in html
        assert html.lstrip().startswith('<div id="edit-panel"')
        assert f'aria-current="page">{marker}<' in html
        assert "HX-Request" in response["Vary"]


def test_the_roles_tab_shows_the_owner_row(as_olivia, lecture):
    html = as_olivia.get(reverse("media_roles", args=[lecture.pk])).content.decode()

    assert "Olivia Owens" in html
    assert ">Owner<" in html
    assert ">You<" in html


def test_a_co_publisher_sets_the_publishing_status(as_piper, lecture):
    response = as_piper.post(
        reverse("media_status", args=[lecture.pk]), {"status": "published"}, follow=True
    )

    lecture.refresh_from_db()
    assert lecture.status == MediaEntry.Status.PUBLISHED
    assert "“Cell structure lecture” is now Published." in response.content.decode()


def test_the_status_change_by_htmx_returns_the_row(as_olivia, lecture):
    response = as_olivia.post(
        reverse("media_status", args=[lecture.pk]), {"status": "unlisted"}, **HTMX
    )

    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr id="media-row-{lecture.pk}">')
    assert 'data-status="unlisted"' in html
    assert '<span class="badge status-unlisted">Unlisted</span>' in html
    assert "is now Unlisted" in html


@pytest.mark.parametrize(("persona", "status"), [("as_evan", 403), ("as_oscar", 404)])
def test_others_cannot_set_the_status(request, lecture, persona, status):
    client = request.getfixturevalue(persona)

    response = client.post(reverse("media_status", args=[lecture.pk]), {"status": "published"})

    assert response.status_code == status
    lecture.refresh_from_db()
    assert lecture.status == MediaEntry.Status.PRIVATE


def test_an_unknown_status_changes_nothing(as_olivia, lecture):
    response = as_olivia.post(
        reverse("media_status", args=[lecture.pk]), {"status": "famous"}, follow=True
    )

    assert b"Choose Private, Unlisted or Published." in response.content
    lecture.refresh_from_db()
    assert lecture.status == MediaEntry.Status.PRIVATE


def test_delete_asks_first(as_olivia, lecture):
    response = as_olivia.get(reverse("media_delete", args=[lecture.pk]))

    assert "Delete “Cell structure lecture”?" in response.content.decode()
    assert MediaEntry.objects.filter(pk=lecture.pk).exists()


def test_the_delete_dialog_is_a_partial_for_htmx(as_olivia, lecture):
    response = as_olivia.get(reverse("media_delete", args=[lecture.pk]), **HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith("<dialog")
    assert "<html" not in html


def test_the_owner_deletes_an_entry_with_its_permissions(as_olivia, lecture):
    response = as_olivia.post(reverse("media_delete", args=[lecture.pk]), follow=True)

    assert not MediaEntry.objects.filter(pk=lecture.pk).exists()
    assert not MediaEntryUserObjectPermission.objects.filter(content_object_id=lecture.pk).exists()
    assert "“Cell structure lecture” was deleted." in response.content.decode()


def test_deleting_from_my_media_by_htmx_removes_the_row(as_olivia, lecture):
    response = as_olivia.post(
        reverse("media_delete", args=[lecture.pk]),
        HTTP_HX_CURRENT_URL="http://testserver/my-media/?q=cell",
        **HTMX,
    )

    html = response.content.decode()
    assert f'<tr id="media-row-{lecture.pk}" hx-swap-oob="delete"></tr>' in html
    assert "was deleted" in html
    assert response["HX-Trigger"] == '{"ms:close-dialog": {}}'


def test_deleting_from_the_media_page_by_htmx_goes_to_my_media(as_olivia, lecture):
    response = as_olivia.post(
        reverse("media_delete", args=[lecture.pk]),
        HTTP_HX_CURRENT_URL=f"http://testserver{lecture.get_absolute_url()}",
        **HTMX,
    )

    assert response["HX-Redirect"] == reverse("my_media")


def test_a_co_editor_cannot_delete(as_evan, lecture):
    assert as_evan.post(reverse("media_delete", args=[lecture.pk])).status_code == 403
    assert MediaEntry.objects.filter(pk=lecture.pk).exists()


def test_html_in_names_is_shown_as_text(as_olivia, olivia):
    entry = services.media_create(
        owner=olivia, name="<script>alert(1)</script>", media_type="video"
    )

    for url in (reverse("my_media"), entry.get_absolute_url()):
        html = as_olivia.get(url).content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_status_change_returns_only_to_pages_of_this_site(as_olivia, lecture):
    url = reverse("media_status", args=[lecture.pk])

    outside = as_olivia.post(url, {"status": "unlisted", "next": "https://example.com/"})
    inside = as_olivia.post(url, {"status": "published", "next": lecture.get_absolute_url()})

    assert outside["Location"] == reverse("my_media")
    assert inside["Location"] == lecture.get_absolute_url()


# The 403 page says what was refused --------------------------------------------------------


def test_a_room_moderator_refused_the_edit_page_is_shown_the_way_to_the_room(room, rita):
    response = client_for(rita).get(reverse("media_edit", args=[room.pk]))

    html = response.content.decode()
    assert response.status_code == 403
    assert f"Only the owner and co-editors can edit “{room.name}”." in html
    assert "You moderate this room" in html
    assert f'href="{reverse("room_detail", args=[room.pk])}"' in html
    assert "Ask the owner" not in html


def test_a_co_viewer_refused_the_edit_page_is_told_why_and_offered_the_media_page(lecture, victor):
    response = client_for(victor).get(reverse("media_edit", args=[lecture.pk]))

    html = response.content.decode()
    assert response.status_code == 403
    assert f"Only the owner and co-editors can edit “{lecture.name}”." in html
    assert "Ask the owner if you need more access." in html
    assert f'href="{lecture.get_absolute_url()}"' in html
    assert "You moderate" not in html


def test_a_co_editor_refused_the_delete_is_told_only_the_owner_may(lecture, evan):
    response = client_for(evan).post(reverse("media_delete", args=[lecture.pk]))

    assert response.status_code == 403
    assert f"Only the owner can delete “{lecture.name}”." in response.content.decode()
