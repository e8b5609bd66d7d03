from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mediaspace import access, selectors, services
from mediaspace.forms import ROLE_CHOICES, SORT_CHOICES, TYPE_CHOICES
from mediaspace.models import MediaEntry
from mediaspace.permissions import Role
from mediaspace.selectors import PAGE_SIZE
from tests.conftest import HTMX, client_for
from tests.factories import GroupFactory, UserFactory

URL = reverse("my_media")


def names(response) -> list[str]:
    found = re.findall(r'class="media-name" href="[^"]+">([^<]+)</a>', response.content.decode())
    return [html.unescape(name) for name in found]


def make_entries(owner, count: int, **fields) -> list[MediaEntry]:
    return [
        services.media_create(
            owner=owner,
            name=fields.get("name", f"Entry {n:03}"),
            media_type=fields.get("media_type", MediaEntry.Type.VIDEO),
        )
        for n in range(count)
    ]


def test_it_sends_anonymous_visitors_to_sign_in(client, db):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_refuses_post(as_olivia):
    assert as_olivia.post(URL).status_code == 405


def test_it_lists_owned_and_shared_entries_but_not_others(as_evan, lecture, room, oscar):
    services.media_create(
        owner=oscar,
        name="Oscar's published talk",
        media_type=MediaEntry.Type.VIDEO,
        status=MediaEntry.Status.PUBLISHED,
    )
    services.media_create(owner=oscar, name="Oscar's secret", media_type=MediaEntry.Type.AUDIO)

    response = as_evan.get(URL)

    assert response.status_code == 200
    assert sorted(names(response)) == sorted([lecture.name, room.name])


def test_shared_rows_show_the_owner_and_my_role(as_piper, lecture):
    html = as_piper.get(URL).content.decode()

    assert "Shared by Olivia Owens" in html
    assert ">Co-publisher<" in html


def test_moderators_see_the_room_with_their_role(as_rita, room):
    response = as_rita.get(URL)

    assert names(response) == [room.name]
    assert ">Room moderator<" in response.content.decode()


def test_it_says_what_to_do_when_the_library_is_empty(as_oscar):
    response = as_oscar.get(URL)

    assert b"Your library is empty" in response.content


def test_it_searches_name_description_and_tags(as_olivia, olivia):
    services.media_create(owner=olivia, name="Mitosis", media_type="video", tags="cells")
    services.media_create(
        owner=olivia, name="Meiosis", media_type="video", description="Cell division, part 2"
    )
    services.media_create(owner=olivia, name="Campus tour", media_type="video")

    assert sorted(names(as_olivia.get(URL, {"q": "cell"}))) == ["Meiosis", "Mitosis"]
    assert names(as_olivia.get(URL, {"q": "mitosis"})) == ["Mitosis"]
    assert names(as_olivia.get(URL, {"q": "campus tour"})) == ["Campus tour"]
    response = as_olivia.get(URL, {"q": "nothing-like-this"})
    assert b"Nothing matches" in response.content


@pytest.mark.parametrize(
    "word", ["%", "_", "50%", "a_b", "\\", "cole", "école", "ÉCOLE", "É", "naïve", "BIO", "o-l"]
)
def test_a_search_finds_what_icontains_finds(olivia, evan, word):
    """My Media's own matching (access.ENTRY_FILTERS) agrees with Django's icontains.

    UPPER(...) LIKE UPPER(...) with escaped wildcards: wildcards must be plain letters, and
    case folds as each database's icontains folds it (ASCII letters alone on SQLite).
    """
    texts = ["50% off", "a_b c", "axb", "back\\slash", "École", "ÉCOLE", "école", "Naïve"]
    texts += ["NAÏVE", "BIOLOGY", "bio-logy", "Biology"]
    for index, text in enumerate(texts):
        owner = olivia if index % 2 else evan
        fields = {"name": f"Entry {index}", ("name", "description", "tags")[index % 3]: text}
        entry = services.media_create(owner=owner, media_type="video", **fields)
        if owner == evan:
            services.access_set(actor=evan, entry=entry, principal=olivia, roles=[Role.CO_VIEWER])
    found = Q(name__icontains=word) | Q(description__icontains=word) | Q(tags__icontains=word)
    expected = set(MediaEntry.objects.filter(found).values_list("id", flat=True))

    for sort in ("-updated", "name"):  # the shared part merged, and sorted
        page = selectors.my_media_page(olivia, search=word, sort=sort)
        assert {row.entry.pk for row in page.rows} == expected


def test_it_filters_by_type_and_by_my_role(as_evan, evan, lecture, room):
    own = services.media_create(owner=evan, name="Evan's podcast", media_type="audio")

    assert names(as_evan.get(URL, {"type": "room"})) == [room.name]
    assert names(as_evan.get(URL, {"type": "audio"})) == [own.name]
    assert names(as_evan.get(URL, {"role": "owner"})) == [own.name]
    assert sorted(names(as_evan.get(URL, {"role": "co-editor"}))) == sorted(
        [lecture.name, room.name]
    )
    assert names(as_evan.get(URL, {"role": "co-viewer"})) == []


def test_the_moderator_filter_finds_rooms_moderated(as_rita, rita, room):
    services.media_create(owner=rita, name="Rita's video", media_type="video")

    assert names(as_rita.get(URL, {"role": "moderator"})) == [room.name]


def test_it_sorts_by_name(as_olivia, olivia):
    for name in ["Banana", "apple", "Cherry"]:
        services.media_create(owner=olivia, name=name, media_type="image")

    assert names(as_olivia.get(URL, {"sort": "name"})) == ["apple", "Banana", "Cherry"]
    assert names(as_olivia.get(URL, {"sort": "-name"})) == ["Cherry", "Banana", "apple"]


def test_it_shows_newest_updates_first(as_olivia, olivia):
    first, second = make_entries(olivia, 2)
    services.media_update(actor=olivia, entry=first, name="Touched", description="", tags="")

    assert names(as_olivia.get(URL)) == ["Touched", second.name]


def test_it_ignores_malformed_filters(as_olivia, lecture):
    response = as_olivia.get(URL, {"type": "bogus", "role": "king", "sort": "x", "page": "abc"})

    assert response.status_code == 200
    assert names(response) == [lecture.name]


def selected(response, name: str) -> list[str]:
    """Return the values chosen in the select box `name`."""
    box = re.search(rf'<select name="{name}".*?</select>', response.content.decode(), re.S)
    return re.findall(r'<option value="([^"]*)" selected>', box[0])


def test_the_toolbar_shows_the_filters_in_use(as_olivia, lecture):
    response = as_olivia.get(
        URL, {"q": 'cell "walls"', "type": "video", "role": "owner", "sort": "-created"}
    )

    assert 'value="cell &quot;walls&quot;"' in response.content.decode()
    assert selected(response, "type") == ["video"]
    assert selected(response, "role") == ["owner"]
    assert selected(response, "sort") == ["-created"]


def test_malformed_filters_show_the_defaults(as_olivia, lecture):
    response = as_olivia.get(URL, {"type": "bogus", "role": "king", "sort": "x"})

    assert selected(response, "type") == [""]
    assert selected(response, "role") == [""]
    assert selected(response, "sort") == ["-updated"]


def test_it_loads_more_and_keeps_the_page_in_the_url(as_olivia, olivia):
    make_entries(olivia, PAGE_SIZE * 2 + 3)

    first = as_olivia.get(URL)
    assert len(names(first)) == PAGE_SIZE
    assert f"Showing {PAGE_SIZE} of {PAGE_SIZE * 2 + 3} entries" in first.content.decode()
    assert 'href="/my-media/?page=2"' in first.content.decode()

    more = as_olivia.get(URL, {"page": 2}, HTTP_HX_TARGET="media-table", **HTMX)
    assert len(names(more)) == PAGE_SIZE
    assert not set(names(more)) & set(names(first))
    assert b"<html" not in more.content
    assert b'hx-swap-oob="outerHTML:#load-more"' in more.content

    reloaded = as_olivia.get(URL, {"page": 2})
    assert len(names(reloaded)) == PAGE_SIZE * 2

    last = as_olivia.get(URL, {"page": 3}, HTTP_HX_TARGET="media-table", **HTMX)
    assert len(names(last)) == 3
    assert b"Load more" not in last.content


def test_the_htmx_filter_request_renders_only_the_list(as_olivia, lecture):
    response = as_olivia.get(URL, {"q": "cell"}, HTTP_HX_TARGET="media-list", **HTMX)

    html = response.content.decode()
    assert "<html" not in html
    assert html.strip().startswith('<div id="media-list">')
    assert names(response) == [lecture.name]
    assert response["Vary"].count("HX-Request") == 1


def menu_of(response, entry) -> set[str] | None:
    """Return what the entry's row ⋮ menu offers besides View (None: no such row)."""
    found = re.search(
        rf'<tr id="media-row-{entry.pk}">.*?data-row-menu="([^"]*)"',
        response.content.decode(),
        re.S,
    )
    return set(found[1].split()) if found else None


def test_the_menu_offers_owner_everything(as_olivia, lecture):
    assert menu_of(as_olivia.get(URL), lecture) == {"edit", "publish", "delete"}


def test_the_menu_offers_a_co_publisher_status_but_no_edit_or_delete(as_piper, lecture):
    assert menu_of(as_piper.get(URL), lecture) == {"publish"}


def test_the_menu_offers_a_co_editor_edit_but_no_status_or_delete(as_evan, lecture):
    assert menu_of(as_evan.get(URL), lecture) == {"edit"}


def test_the_menu_offers_a_co_viewer_only_view(as_victor, lecture):
    response = as_victor.get(URL)

    assert menu_of(response, lecture) == set()
    assert f'<a class="menu-item" href="{lecture.get_absolute_url()}">View</a>' in (
        response.content.decode()
    )


def test_a_room_moderator_gets_no_edit_in_the_menu(as_rita, room):
    assert menu_of(as_rita.get(URL), room) == set()


def test_the_page_holds_the_menu_items_once_with_the_csrf_token(as_olivia, lecture):
    page = as_olivia.get(URL).content.decode()
    template = re.search(r'<template id="media-row-menu">(.*?)</template>', page, re.S)[1]

    assert page.count('<template id="media-row-menu">') == 1
    for action in ("edit", "publish", "delete"):
        assert f'data-action="{action}"' in template
    assert 'name="csrfmiddlewaretoken" value="' in template
    assert [label for label in re.findall(r'name="status" value="(\w+)"', template)] == [
        "private",
        "unlisted",
        "published",
    ]


def test_a_group_grant_reaches_current_and_later_members(olivia, lecture):
    group = GroupFactory(name="Teaching Assistants")
    current, later = UserFactory(username="tara"), UserFactory(username="tom")
    group.user_set.add(current)
    services.access_set(actor=olivia, entry=lecture, principal=group, roles=[Role.CO_VIEWER])

    group.user_set.add(later)

    for member in (current, later):
        response = client_for(member).get(URL)
        assert names(response) == [lecture.name]
        assert ">Co-viewer<" in response.content.decode()


def test_leaving_the_group_removes_what_came_through_it(olivia, lecture):
    group = GroupFactory(name="Teaching Assistants")
    member = UserFactory(username="tara")
    group.user_set.add(member)
    services.access_set(actor=olivia, entry=lecture, principal=group, roles=[Role.CO_EDITOR])
    client = client_for(member)
    assert names(client.get(URL)) == [lecture.name]

    group.user_set.remove(member)

    assert names(client.get(URL)) == []
    assert client.get(reverse("media_edit", args=[lecture.pk])).status_code == 404


@pytest.mark.parametrize("rows", [1, 50])
def test_the_query_count_does_not_grow_with_rows(rows, olivia, evan, django_assert_max_num_queries):
    group = GroupFactory()
    group.user_set.add(evan)
    for index, entry in enumerate(make_entries(olivia, rows)):
        principal = group if index % 2 else evan
        services.access_set(
            actor=olivia, entry=entry, principal=principal, roles=[Role.CO_PUBLISHER]
        )
    client = client_for(evan)

    with django_assert_max_num_queries(7):
        response = client.get(URL, {"page": 3})

    assert len(names(response)) == rows


def test_the_query_count_is_the_same_for_1_and_50_rows(olivia, evan):
    def count_queries(rows: int) -> int:
        MediaEntry.objects.all().delete()
        for entry in make_entries(olivia, rows):
            services.access_set(actor=olivia, entry=entry, principal=evan, roles=[Role.CO_EDITOR])
        client = client_for(evan)
        with CaptureQueriesContext(connection) as queries:
            assert len(names(client.get(URL, {"page": 3}))) == rows
        return len(queries)

    assert count_queries(1) == count_queries(50)


def test_menu_permissions_come_from_one_query(olivia, evan):
    group = GroupFactory()
    group.user_set.add(evan)
    for index, entry in enumerate(make_entries(olivia, 30)):
        principal = group if index % 2 else evan
        services.access_set(actor=olivia, entry=entry, principal=principal, roles=[Role.CO_EDITOR])
    client = client_for(evan)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL)

    # The roles behind every row's menu come with the rows: one query reads who holds
    # what; nothing reads guardian's tables or asks per row.
    assert len([q for q in queries if "entryaccess" in q["sql"]]) == 1
    assert not [q for q in queries if "objectpermission" in q["sql"]]
    menus = [menu_of(response, entry) for entry in MediaEntry.objects.all()]
    assert [menu for menu in menus if menu is not None] == [{"edit"}] * PAGE_SIZE


def test_rows_escape_what_people_typed(olivia, evan):
    evan.display_name = 'Evan "<b>" & co'
    evan.save()
    entry = services.media_create(
        owner=evan, name='<script>alert("x")</script> & notes', media_type=MediaEntry.Type.AUDIO
    )
    services.access_set(actor=evan, entry=entry, principal=olivia, roles=[Role.CO_VIEWER])

    page = client_for(olivia).get(URL).content.decode()

    assert "<script>alert" not in page
    # The rows come from Jinja2, which writes a double quote as &#34; (Django: &quot;).
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; notes</a>" in page
    assert 'aria-label="Actions for &lt;script&gt;alert(&#34;x&#34;)' in page
    assert "Shared by Evan &#34;&lt;b&gt;&#34; &amp; co</div>" in page


@pytest.mark.parametrize("groups", [0, 3, access.GROUP_ARMS + 2])
@pytest.mark.parametrize("sort", list(selectors.SORTS))
@pytest.mark.parametrize(("search", "role"), [("", ""), ("odd", ""), ("", "co-viewer")])
def test_the_entries_come_in_order_from_the_merged_grants(
    moderation_on, olivia, evan, chad, groups, sort, search, role
):
    """Merging each holder's rows in order (access.MY_MEDIA) finds what sorting would.

    Evan owns some entries and holds others himself and through his groups, some of them
    several ways and some rooms as a moderator. With up to GROUP_ARMS groups each has an
    arm of its own; past them, the last arm takes the rest and sorts them. Dates and names
    change after the grants, as the services change them. Ties in the sort key (names
    differing only in case, too) are broken by id, across the pages.
    """
    teams = GroupFactory.create_batch(groups)
    for group in teams:
        group.user_set.add(evan)
    owned = make_entries(evan, 20)
    entries = make_entries(olivia, 150) + make_entries(chad, 30, media_type=MediaEntry.Type.ROOM)
    picked = entries[::2]
    holders_cycle = [evan, *teams]
    for index, entry in enumerate(picked):
        start = index % len(holders_cycle)
        holders = holders_cycle[start:][: 2 if index % 5 == 0 else 1]
        roles = [Role.ROOM_MODERATOR] if entry.is_room else [Role.CO_VIEWER]
        if index % 7 == 0 and not entry.is_room:
            roles.append(Role.CO_EDITOR)
        for holder in holders:
            services.access_set(actor=entry.owner, entry=entry, principal=holder, roles=roles)
    now = timezone.now()
    for index, entry in enumerate(MediaEntry.objects.order_by("id")):
        # Keys in scrambled order, ten entries sharing each: ties to break by id, across
        # the pages.
        entry.updated_at = now - timedelta(minutes=index * 37 % 200 // 10)
        entry.created_at = now - timedelta(minutes=index * 53 % 200 // 10)
        entry.name = (
            f"{'Entry' if index % 3 else 'ENTRY'} {'odd' if index // 2 % 2 else 'even'}"
            f" {index * 31 % 200 // 10:02}"
        )
        MediaEntry.objects.filter(pk=entry.pk).update(
            updated_at=entry.updated_at, created_at=entry.created_at, name=entry.name
        )
        access.entry_keys_write(entry)
    descending = sort.startswith("-")
    column = sort.removeprefix("-")
    key = Lower("name") if column == "name" else F(f"{column}_at")
    shown_ids = [entry.pk for entry in picked] + ([] if role else [entry.pk for entry in owned])
    expected = list(
        MediaEntry.objects.filter(pk__in=shown_ids, name__contains=search)
        .exclude(media_type=MediaEntry.Type.ROOM if role else "")
        .order_by(key.desc() if descending else key.asc(), "-id" if descending else "id")
        .values_list("id", flat=True)
    )

    shown = []
    for start in range(0, len(expected) + 1, PAGE_SIZE):
        page = selectors.my_media_page(
            evan, search=search, role=role, sort=sort, start=start, stop=start + PAGE_SIZE
        )
        shown += [row.entry.pk for row in page.rows]
        assert page.has_more == (start + PAGE_SIZE < len(expected))

    assert len(expected) > 2 * PAGE_SIZE
    assert shown == expected


def test_a_long_list_says_more_than_the_count_s_cap(olivia, evan, monkeypatch):
    monkeypatch.setattr(access, "MY_MEDIA_COUNT_CAP", 30)
    for entry in make_entries(olivia, 31):
        services.access_set(actor=olivia, entry=entry, principal=evan, roles=[Role.CO_VIEWER])

    page = selectors.my_media_page(evan)
    html_page = client_for(evan).get(URL).content.decode()

    assert (page.total, page.at_least) == (None, 30)
    assert f"Showing {PAGE_SIZE} of more than 30 entries" in html_page


def test_the_filter_choices_are_the_ones_the_list_understands():
    assert {value for value, _ in SORT_CHOICES} == set(selectors.SORTS)
    assert {value for value, _ in ROLE_CHOICES} == {"", *selectors.ROLE_FILTERS}
    assert {value for value, _ in TYPE_CHOICES} == {"", *MediaEntry.Type.values}
