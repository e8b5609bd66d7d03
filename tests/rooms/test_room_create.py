from __future__ import annotations

from django.urls import reverse

from mediaspace.models import MediaEntry
from rooms.models import Room
from tests.conftest import HTMX

URL = reverse("room_create")


def test_it_creates_a_room_owned_by_the_user(as_olivia, olivia):
    response = as_olivia.post(URL, {"name": " Lab Q&A ", "description": "Drop in", "tags": "lab"})

    entry = MediaEntry.objects.get(owner=olivia, name="Lab Q&A")
    assert entry.media_type == MediaEntry.Type.ROOM
    assert Room.objects.filter(media=entry).exists()
    assert response["Location"] == entry.get_absolute_url()
    page = as_olivia.get(response["Location"]).content.decode()
    assert "Room “Lab Q&amp;A” created." in page


def test_by_htmx_it_redirects_the_browser(as_olivia, olivia):
    response = as_olivia.post(URL, {"name": "Lab Q&A"}, **HTMX)

    entry = MediaEntry.objects.get(owner=olivia)
    assert response["HX-Redirect"] == entry.get_absolute_url()


def test_a_name_is_required(as_olivia, olivia):
    response = as_olivia.post(URL, {"name": "  ", "description": "Keep me"}, **HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith("<form")
    assert "Give the room a name." in html
    assert "Keep me" in html
    assert not MediaEntry.objects.exists()


def test_the_dialog_and_the_page(as_olivia):
    assert as_olivia.get(URL, **HTMX).content.decode().lstrip().startswith("<dialog")
    assert b"<html" in as_olivia.get(URL).content


def test_anonymous_and_wrong_method(client, as_olivia, db):
    assert client.get(URL)["Location"].startswith(reverse("login"))
    assert as_olivia.put(URL).status_code == 405
