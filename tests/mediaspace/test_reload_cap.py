"""A reloaded list renders at most RELOAD_PAGES pages, with a note; Load more goes on."""

from __future__ import annotations

import re

from django.urls import reverse

from mediaspace import services
from mediaspace.models import MediaEntry, Role
from mediaspace.views import RELOAD_PAGES
from tests.conftest import HTMX
from tests.factories import UserFactory

CAP_ROWS = RELOAD_PAGES * 20
NOTE = 'id="reload-cap"'


def media_rows(html: str) -> list[str]:
    return re.findall(r'<tr id="media-row-(\d+)"', html)


def access_rows(html: str) -> list[str]:
    return re.findall(r'<tr id="access-row-([a-z]+-[0-9]+)"', html)


def test_my_media_reloaded_far_past_the_cap_shows_the_cap_with_a_note(as_olivia, olivia):
    for number in range(CAP_ROWS + 30):
        services.media_create(owner=olivia, name=f"Entry {number:03}", media_type="video")

    far = as_olivia.get(reverse("my_media"), {"page": 1000})
    within = as_olivia.get(reverse("my_media"), {"page": 3})

    html = far.content.decode()
    assert far.status_code == 200
    assert len(media_rows(html)) == CAP_ROWS
    assert NOTE in html
    assert "A reloaded list shows its first 200 entries" in html
    assert f"page={RELOAD_PAGES + 1}" in html  # Load more goes on from the cap
    assert len(media_rows(within.content.decode())) == 60
    assert NOTE not in within.content.decode()


def test_my_media_load_more_goes_on_past_the_cap(as_olivia, olivia):
    for number in range(CAP_ROWS + 30):
        services.media_create(owner=olivia, name=f"Entry {number:03}", media_type="video")
    shown = media_rows(as_olivia.get(reverse("my_media"), {"page": 1000}).content.decode())

    more = as_olivia.get(
        reverse("my_media"), {"page": RELOAD_PAGES + 1}, HTTP_HX_TARGET="media-table", **HTMX
    )

    rows = media_rows(more.content.decode())
    assert len(rows) == 20
    assert set(rows).isdisjoint(shown)
    assert NOTE not in more.content.decode()


def test_the_roles_tab_reloaded_far_past_the_cap_shows_the_cap_with_a_note(as_olivia, olivia):
    entry = services.media_create(owner=olivia, name="Popular lecture", media_type="video")
    services.access_add_many(
        actor=olivia,
        entry=entry,
        principals=UserFactory.create_batch(CAP_ROWS + 30),
        roles=[Role.CO_VIEWER],
    )
    url = reverse("media_roles", args=[entry.pk])

    html = as_olivia.get(url, {"page": 1000}).content.decode()

    assert len(access_rows(html)) == CAP_ROWS
    assert NOTE in html
    assert "A reloaded list shows its first 200 rows" in html
    assert f'name="pages" value="{RELOAD_PAGES}"' in html
    assert NOTE not in as_olivia.get(url, {"page": 2}).content.decode()
    assert entry.media_type == MediaEntry.Type.VIDEO
