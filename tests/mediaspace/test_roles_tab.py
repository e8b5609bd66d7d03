"""The Roles & permissions tab, its suggestions, and the Edit permissions and Remove dialogs."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.timezone import localtime

from accounts.models import User
from mediaspace import permissions, services, terms
from mediaspace.models import AccessChange, MediaEntry, Module, Role
from tests.conftest import HTMX, client_for
from tests.factories import GroupFactory, UserFactory


def roles_url(entry, **query) -> str:
    url = reverse("media_roles", args=[entry.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def list_state(html: str) -> dict[str, list[str]]:
    """Return the list's state the page holds (#access-more), as Load more and dialogs send it."""
    more = html.split('<div id="access-more"')[-1].split("</div>")[0]
    state: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', more):
        state.setdefault(name, []).append(unescape(value))
    return state


def page_state(client, entry) -> dict[str, list[str]]:
    """Open the tab and return the list's state, which its dialogs send with their forms."""
    return list_state(client.get(roles_url(entry)).content.decode())


def load_more(client, entry, html: str):
    """Press Load more as the page would: the list's state goes with the request."""
    return client.get(roles_url(entry), list_state(html), HTTP_HX_TARGET="access-table", **HTMX)


def row_ids(html: str) -> list[str]:
    return re.findall(r'<tr id="access-row-([a-z]+-[0-9]+)"', html)


def test_the_tab_lists_groups_then_people_with_their_permissions(as_olivia, room):
    group = GroupFactory(name="Teaching Assistants")
    group.user_set.add(UserFactory(), UserFactory(), UserFactory())
    services.access_add(actor=None, entry=room, principal=group, roles=[Role.CHAT_MODERATOR])

    html = as_olivia.get(roles_url(room)).content.decode()

    order = [html.index(name) for name in ("Teaching Assistants", "Chad Chen", "Evan Edwards")]
    assert order == sorted(order)
    assert "Group · 3 members" in html
    assert "4 users and 1 group with access" in html
    assert 'aria-label="Permissions of Rita Reyes"' in html
    assert ">Owner<" in html and ">You<" in html


def test_the_owner_row_cannot_be_edited_or_removed(as_olivia, room, olivia):
    html = as_olivia.get(roles_url(room)).content.decode()

    assert reverse("access_edit", args=[room.pk, "user", olivia.pk]) not in html
    assert reverse("access_remove", args=[room.pk, "user", olivia.pk]) not in html
    response = as_olivia.get(reverse("access_edit", args=[room.pk, "user", olivia.pk]))
    assert response.status_code == 404


def test_the_add_users_menu_shows_what_the_user_may_add(as_olivia, as_evan, room):
    owner_html = as_olivia.get(roles_url(room)).content.decode()
    assert reverse("collaborators_add", args=[room.pk]) in owner_html
    assert reverse("moderators_add", args=[room.pk]) in owner_html

    editor_html = as_evan.get(roles_url(room)).content.decode()
    assert reverse("collaborators_add", args=[room.pk]) not in editor_html
    assert reverse("moderators_add", args=[room.pk]) in editor_html


def test_moderators_are_not_offered_for_videos_or_while_the_module_is_off(as_olivia, room, lecture):
    assert reverse("moderators_add", args=[lecture.pk]) not in (
        as_olivia.get(roles_url(lecture)).content.decode()
    )
    Module.objects.update(enabled=False)
    html = as_olivia.get(roles_url(room)).content.decode()
    assert reverse("moderators_add", args=[room.pk]) not in html
    assert "ChatandCollaboration module is off" in html
    assert "Room moderator (inactive)" in html


def test_it_searches_and_filters_the_list(as_olivia, room):
    group = GroupFactory(name="Night Owls")
    services.access_add(actor=None, entry=room, principal=group, roles=[Role.CHAT_MODERATOR])

    html = as_olivia.get(roles_url(room, q="rita"), HTTP_HX_TARGET="access-list", **HTMX)
    body = html.content.decode()
    assert body.lstrip().startswith('<div id="access-list">')
    assert "Rita Reyes" in body and "Chad Chen" not in body

    body = as_olivia.get(roles_url(room, q="owls")).content.decode()
    assert "Night Owls" in body and "Rita Reyes" not in body.split("Activity")[0]

    body = as_olivia.get(roles_url(room, role="moderator")).content.decode().split("Activity")[0]
    assert "Rita Reyes" in body and "Chad Chen" in body and "Evan Edwards" not in body

    body = as_olivia.get(roles_url(room, role="co-editor")).content.decode().split("Activity")[0]
    assert "Evan Edwards" in body and "Rita Reyes" not in body


def test_the_activity_list_says_who_did_what_newest_first(as_olivia, olivia, room, rita):
    services.access_remove(actor=olivia, entry=room, principal=rita, scope=list(Role)[1:])

    html = as_olivia.get(roles_url(room)).content.decode()
    activity = html.split('id="activity-title"')[1]
    assert activity.index("removed <strong>Rita Reyes</strong>") < activity.index(
        "gave <strong>Chad Chen</strong> Chat moderator"
    )


def test_the_activity_says_when_in_the_time_zone_of_the_day(as_olivia, room, settings):
    change = AccessChange.objects.filter(entry=room).latest("id")

    for zone in ("UTC", "Pacific/Auckland"):
        settings.TIME_ZONE = zone
        html = as_olivia.get(roles_url(room)).content.decode()
        local = localtime(change.created_at)
        title = f"{local:%b} {local.day}, {local.year}, {local:%H:%M}"
        assert f'datetime="{local.isoformat()}" title="{title}">just now</time>' in html


def test_the_tab_loads_more_past_twenty_rows(as_olivia, olivia, room):
    for user in UserFactory.create_batch(30):
        services.access_add(actor=olivia, entry=room, principal=user, roles=[Role.CO_VIEWER])

    first = as_olivia.get(roles_url(room)).content.decode()
    assert first.count('id="access-row-') == 20
    assert "Showing 20 of 33" in first

    more = load_more(as_olivia, room, first)
    body = more.content.decode()
    assert body.count('id="access-row-') == 13
    assert set(row_ids(body)).isdisjoint(row_ids(first))
    assert "<html" not in body
    assert 'hx-swap-oob="outerHTML:#access-more"' in body
    assert "Load more" not in body

    # Load more puts ?page=2 in the address bar: a reload shows both pages, in that order.
    assert f'hx-push-url="{roles_url(room, page=2)}"' in first
    reloaded = as_olivia.get(roles_url(room, page=2)).content.decode()
    assert row_ids(reloaded) == row_ids(first) + row_ids(body)


def test_row_links_match_the_url_patterns(as_olivia, room, rita):
    html = as_olivia.get(roles_url(room)).content.decode()

    assert f'href="{reverse("access_edit", args=[room.pk, "user", rita.pk])}"' in html
    assert f'href="{reverse("access_remove", args=[room.pk, "user", rita.pk])}"' in html


def test_the_tab_query_count_is_the_same_for_1_and_200_rows(olivia, room):
    def count(rows: int) -> int:
        extra = UserFactory.create_batch(rows)
        groups = GroupFactory.create_batch(1)
        for principal in [*extra, *groups]:
            services.access_add(
                actor=olivia, entry=room, principal=principal, roles=[Role.CO_VIEWER]
            )
        client = client_for(olivia)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(roles_url(room)).status_code == 200
        return len(queries)

    assert count(1) == count(200)


def test_a_room_moderator_gets_403_and_an_outsider_404(as_rita, as_oscar, room):
    assert as_rita.get(roles_url(room)).status_code == 403
    assert as_oscar.get(roles_url(room)).status_code == 404


# Suggestions --------------------------------------------------------------------------


def suggest(client, entry, q):
    response = client.get(reverse("principals_suggest", args=[entry.pk]), {"q": q})
    assert response.status_code == 200
    return json.loads(response.content)["results"]


def test_suggestions_find_people_by_any_name_username_or_email(as_olivia, room, paula):
    assert [r["label"] for r in suggest(as_olivia, room, "pa")] == ["Paula Park"]
    assert [r["label"] for r in suggest(as_olivia, room, "park")] == ["Paula Park"]
    assert [r["label"] for r in suggest(as_olivia, room, "paula@exa")] == ["Paula Park"]
    assert suggest(as_olivia, room, "paula park")[0]["detail"] == "paula@example.com"


def test_suggestions_need_two_characters(as_olivia, room, paula):
    assert suggest(as_olivia, room, "p") == []


def test_suggestions_include_groups_with_member_counts(as_olivia, room):
    group = GroupFactory(name="Teaching Assistants")
    group.user_set.add(UserFactory())

    results = suggest(as_olivia, room, "teach")

    assert results == [
        {
            "key": f"group:{group.pk}",
            "kind": "group",
            "label": "Teaching Assistants",
            "detail": "Group · 1 member",
            "holds": [],
            "unavailable": "",
        }
    ]


def test_suggestions_leave_out_inactive_users(as_olivia, room):
    UserFactory(username="ghost", display_name="Ghost Writer", is_active=False)

    assert suggest(as_olivia, room, "ghost") == []


def test_the_owner_is_suggested_as_holding_full_control_and_not_to_be_chosen(
    as_olivia, as_evan, olivia, room
):
    for client in (as_olivia, as_evan):
        [owner] = suggest(client, room, "olivia ow")

        assert owner["key"] == f"user:{olivia.pk}"
        assert owner["label"] == "Olivia Owens"
        assert owner["unavailable"] == "Owner — already has full control"
        assert owner["holds"] == ["Owner"]
    assert suggest(as_olivia, room, "olivia xyz") == []


def test_suggestions_mark_who_already_holds_permissions(as_olivia, room):
    [rita] = suggest(as_olivia, room, "rita")

    assert rita["holds"] == ["Room moderator"]


def test_suggestions_mark_collaborator_and_moderator_roles_together(as_olivia, olivia, room, rita):
    services.access_add(actor=olivia, entry=room, principal=rita, roles=[Role.CO_VIEWER])
    group = GroupFactory(name="Teaching Assistants")
    services.access_add(
        actor=None, entry=room, principal=group, roles=[Role.CO_EDITOR, Role.CHAT_MODERATOR]
    )
    other = services.media_create(owner=olivia, name="Other room", media_type=MediaEntry.Type.ROOM)
    services.access_add(actor=olivia, entry=other, principal=rita, roles=[Role.CHAT_MODERATOR])

    [rita_result] = suggest(as_olivia, room, "rita")
    [group_result] = suggest(as_olivia, room, "teaching")

    assert rita_result["holds"] == ["Co-viewer", "Room moderator"]
    assert group_result["holds"] == ["Co-editor", "Chat moderator"]


def test_suggestions_list_groups_first_and_at_most_eight(as_olivia, room):
    people = [
        UserFactory(username=f"mars{n}", display_name=f"Marsha {n}", email=f"mars{n}@example.com")
        for n in range(10)
    ]
    names = ("Mars E", "Mars D", "mars c", "Mars B", "Mars A")
    groups = {name: GroupFactory(name=name) for name in names}
    groups["Mars A"].user_set.add(*people[:2])

    results = suggest(as_olivia, room, "mars")

    assert [r["label"] for r in results] == [
        "Mars A",
        "Mars B",
        "mars c",
        "Mars D",
        # Each matches by username and email address too, and comes once.
        "Marsha 0",
        "Marsha 1",
        "Marsha 2",
        "Marsha 3",
    ]
    assert [r["detail"] for r in results[:2]] == ["Group · 2 members", "Group · 0 members"]


def test_suggestions_need_every_word_to_start_a_name(as_olivia, room, paula):
    assert [r["label"] for r in suggest(as_olivia, room, "park pa")] == ["Paula Park"]
    assert suggest(as_olivia, room, "paula rita") == []


def test_suggestions_find_groups_by_the_start_of_any_word_ignoring_case(as_olivia, room):
    GroupFactory(name="Lab 100% online")
    GroupFactory(name="Lab 1000")
    GroupFactory(name="Biology Lab_2")

    def labels(query):
        return [r["label"] for r in suggest(as_olivia, room, query)]

    assert labels("LAB ONL") == ["Lab 100% online"]
    assert labels("100%") == ["Lab 100% online", "Lab 1000"]  # % is no wildcard: "100"
    assert labels("lab_2") == ["Biology Lab_2"]  # _ is no wildcard, and splits words
    assert labels("line") == []  # the start of a word, not any part


def test_suggestions_follow_group_renames(as_olivia, room):
    group = GroupFactory(name="Night Owls")
    group.name = "Early Birds"
    group.save()

    assert [r["label"] for r in suggest(as_olivia, room, "early")] == ["Early Birds"]
    assert suggest(as_olivia, room, "owls") == []


def test_suggestions_follow_renames(as_olivia, room, paula):
    paula.display_name = "Paula Quinn"
    paula.save()

    assert [r["label"] for r in suggest(as_olivia, room, "quinn")] == ["Paula Quinn"]
    assert suggest(as_olivia, room, "park") == []


def test_suggestions_are_only_for_people_who_manage_the_entry(as_rita, as_oscar, room):
    url = reverse("principals_suggest", args=[room.pk])

    assert as_rita.get(url, {"q": "pa"}).status_code == 403
    assert as_oscar.get(url, {"q": "pa"}).status_code == 404


def test_suggestion_queries_do_not_grow_with_users(as_olivia, room):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            suggest(as_olivia, room, "us")
        return len(queries)

    UserFactory.create_batch(5)
    few = count()
    UserFactory.create_batch(100)
    assert count() == few


# Edit permissions and Remove ----------------------------------------------------------


def test_edit_permissions_opens_pre_filled(as_olivia, room, rita):
    response = as_olivia.get(reverse("access_edit", args=[room.pk, "user", rita.pk]), **HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith("<dialog")
    assert "Edit permissions of Rita Reyes" in html
    assert 'value="room-moderator"' in html.split("checked")[0] or "checked" in html
    assert html.count("checked") == 1


def test_edit_permissions_changes_and_logs(as_olivia, room, rita):
    response = as_olivia.post(
        reverse("access_edit", args=[room.pk, "user", rita.pk]),
        {"roles": ["chat-moderator", "co-viewer"], **page_state(as_olivia, room)},
        **HTMX,
    )

    assert permissions.principal_roles(room, rita) == {Role.CHAT_MODERATOR, Role.CO_VIEWER}
    html = response.content.decode()
    assert "Rita Reyes now has Co-viewer and Chat moderator." in html
    assert AccessChange.objects.filter(user=rita).latest("id").after == [
        "co-viewer",
        "chat-moderator",
    ]
    # Rita's row is replaced where it is, and the Activity list gets the change on top.
    row = html.split(f'<template><tr id="access-row-user-{rita.pk}" hx-swap-oob="true">')[1]
    row = row.split("</tr></template>")[0]
    assert '<span class="badge badge-collaborator">Co-viewer</span>' in row
    assert '<span class="badge badge-moderator">Chat moderator</span>' in row
    assert "Room moderator" not in row
    assert "afterbegin:#access-rows" not in html
    assert '<p class="access-count" id="access-count" hx-swap-oob="true">' in html
    assert "4 users and 0 groups with access" in html
    activity = html.split('<ol hx-swap-oob="afterbegin:#activity-list">')[1].split("</ol>")[0]
    assert (
        "changed <strong>Rita Reyes</strong> from Room moderator to Co-viewer, Chat moderator"
        in activity
    )
    assert response["HX-Reswap"] == "none"


def test_a_co_editor_edits_only_moderator_permissions(as_evan, olivia, room, rita):
    services.access_add(actor=olivia, entry=room, principal=rita, roles=[Role.CO_VIEWER])

    html = as_evan.get(reverse("access_edit", args=[room.pk, "user", rita.pk])).content.decode()
    assert 'value="co-viewer"' not in html
    assert "Also holds Co-viewer, which only the owner can change." in html

    as_evan.post(
        reverse("access_edit", args=[room.pk, "user", rita.pk]),
        {"roles": ["chat-moderator", "co-editor"]},
    )
    assert permissions.principal_roles(room, rita) == {Role.CO_VIEWER, Role.ROOM_MODERATOR}


def test_a_co_editor_cannot_edit_a_collaborator_only_row_of_a_video(as_evan, lecture, victor):
    url = reverse("access_edit", args=[lecture.pk, "user", victor.pk])

    assert as_evan.get(url).status_code == 403
    assert as_evan.post(url, {"roles": []}).status_code == 403
    assert permissions.principal_roles(lecture, victor) == {Role.CO_VIEWER}


def test_remove_names_who_loses_what(as_olivia, room):
    group = GroupFactory(name="Teaching Assistants")
    services.moderators_add(
        actor=None,
        entry=room,
        principals=[group],
        roles=[Role.ROOM_MODERATOR, Role.CHAT_MODERATOR],
    )

    html = as_olivia.get(reverse("access_remove", args=[room.pk, "group", group.pk])).content
    text = " ".join(html.decode().split())
    assert "Remove Teaching Assistants?" in text
    lose = "will lose <strong>Room moderator and Chat moderator</strong>"
    assert f"Members of Teaching Assistants {lose}" in text


def test_remove_takes_the_permissions_away(as_olivia, room, rita):
    response = as_olivia.post(
        reverse("access_remove", args=[room.pk, "user", rita.pk]),
        page_state(as_olivia, room),
        **HTMX,
    )

    assert permissions.principal_roles(room, rita) == frozenset()
    html = response.content.decode()
    assert "Rita Reyes no longer has Room moderator." in html
    assert f'<template><tr id="access-row-user-{rita.pk}" hx-swap-oob="delete"></tr>' in html
    assert row_ids(html) == [f"user-{rita.pk}"]
    assert "3 users and 0 groups with access" in html
    assert "removed <strong>Rita Reyes</strong> (Room moderator)" in html
    assert response["HX-Reswap"] == "none"
    assert json.loads(response["HX-Trigger"]) == {"ms:close-dialog": {}}


def test_changes_in_place_keep_load_more_exact(as_olivia, olivia, room, chad):
    for user in UserFactory.create_batch(30):
        services.access_add(actor=olivia, entry=room, principal=user, roles=[Role.CO_VIEWER])
    newcomer = UserFactory(username="zz", display_name="Zz Zimmer")  # sorts last
    first = as_olivia.get(roles_url(room)).content.decode()
    shown = row_ids(first)
    assert "Showing 20 of 33" in first and f"user-{chad.pk}" in shown

    # Someone new goes at the top (and would sort on the next page); Chad goes away.
    added = as_olivia.post(
        reverse("moderators_add", args=[room.pk]),
        {"principals": [f"user:{newcomer.pk}"], "roles": ["chat-moderator"], **list_state(first)},
        **HTMX,
    ).content.decode()
    assert '<template><tbody hx-swap-oob="afterbegin:#access-rows">' in added
    assert row_ids(added) == [f"user-{newcomer.pk}"]
    assert "Showing 21 of 34" in added
    assert list_state(added)["added"] == [f"user:{newcomer.pk}"]
    removed = as_olivia.post(
        reverse("access_remove", args=[room.pk, "user", chad.pk]), list_state(added), **HTMX
    ).content.decode()
    assert "Showing 20 of 33" in removed

    more = load_more(as_olivia, room, removed).content.decode()

    # Every row once: the first page less Chad, Zed at the top, then the rest.
    page = [*(row for row in shown if row != f"user-{chad.pk}"), f"user-{newcomer.pk}"]
    assert sorted(page + row_ids(more)) == sorted(set(page + row_ids(more)))
    assert len(page + row_ids(more)) == 33
    assert "Load more" not in more
    reloaded = row_ids(as_olivia.get(roles_url(room, page=2)).content.decode())
    assert sorted(reloaded) == sorted(page + row_ids(more))
    assert reloaded.index(f"user-{newcomer.pk}") == 32  # in its place after a reload


def test_a_change_outside_the_filter_leaves_the_filtered_list_alone(as_olivia, room, paula):
    html = as_olivia.get(roles_url(room, role="co-editor")).content.decode()
    assert "1 of 4 with access" in " ".join(html.split())

    response = as_olivia.post(
        reverse("moderators_add", args=[room.pk]),
        {"principals": [f"user:{paula.pk}"], "roles": ["room-moderator"], **list_state(html)},
        **HTMX,
    )

    body = response.content.decode()
    assert row_ids(body) == []
    assert "1 of 5 with access" in " ".join(body.split())
    assert "Paula Park is now Room moderator." in body


def test_the_first_change_starts_the_activity_list(as_olivia, olivia, paula, moderation_on):
    room = services.media_create(owner=olivia, name="Quiet room", media_type=MediaEntry.Type.ROOM)
    html = as_olivia.get(roles_url(room)).content.decode()
    assert '<ol class="activity-list" id="activity-list"></ol>' in html
    assert "No changes yet." in html  # shown while the list is empty (app.css)

    response = as_olivia.post(
        reverse("moderators_add", args=[room.pk]),
        {"principals": [f"user:{paula.pk}"], "roles": ["room-moderator"], **list_state(html)},
        **HTMX,
    )

    body = response.content.decode()
    new_list = '<ol hx-swap-oob="afterbegin:#activity-list">'
    assert new_list in body
    assert "gave <strong>Paula Park</strong> Room moderator" in body.split(new_list)[1]
    assert "2 users and 0 groups with access" in body


def test_the_answer_to_a_change_costs_the_same_queries_for_few_and_many_rows(olivia, room):
    def count(rows: int) -> int:
        for user in UserFactory.create_batch(rows):
            services.access_add(actor=olivia, entry=room, principal=user, roles=[Role.CO_VIEWER])
        client, newcomer = client_for(olivia), UserFactory()
        state = page_state(client, room)
        terms.policies_forget()  # each measures the dialog reading the expiry policies
        with CaptureQueriesContext(connection) as queries:
            client.post(
                reverse("moderators_add", args=[room.pk]),
                {"principals": [f"user:{newcomer.pk}"], "roles": ["chat-moderator"], **state},
                **HTMX,
            )
        return len(queries)

    assert count(1) == count(60)


@pytest.mark.parametrize("view", ["access_edit", "access_remove"])
def test_rows_that_do_not_exist_are_404(as_olivia, room, oscar, view):
    assert as_olivia.get(reverse(view, args=[room.pk, "user", oscar.pk])).status_code == 404
    assert as_olivia.get(reverse(view, args=[room.pk, "robot", oscar.pk])).status_code == 404
    assert as_olivia.get(reverse(view, args=[room.pk, "user", 999999])).status_code == 404


@pytest.mark.parametrize("view", ["access_edit", "access_remove"])
def test_others_cannot_edit_or_remove(as_rita, as_oscar, room, chad, view):
    url = reverse(view, args=[room.pk, "user", chad.pk])

    assert as_rita.post(url, {"roles": []}).status_code == 403
    assert as_oscar.post(url, {"roles": []}).status_code == 404
    assert permissions.principal_roles(room, chad) == {Role.CHAT_MODERATOR}


@pytest.mark.parametrize("view", ["access_edit", "access_remove"])
def test_wrong_method_and_anonymous(client, as_olivia, room, chad, view):
    url = reverse(view, args=[room.pk, "user", chad.pk])

    assert as_olivia.put(url).status_code == 405
    assert client.get(url)["Location"].startswith(reverse("login"))


# Collaborators ------------------------------------------------------------------------


def test_the_owner_adds_collaborators(as_olivia, lecture, paula):
    response = as_olivia.post(
        reverse("collaborators_add", args=[lecture.pk]),
        {"principals": [f"user:{paula.pk}"], "roles": ["co-editor", "co-publisher"]},
        **HTMX,
    )

    assert permissions.principal_roles(lecture, paula) == {Role.CO_EDITOR, Role.CO_PUBLISHER}
    assert "Paula Park is now Co-editor and Co-publisher." in response.content.decode()


def test_a_co_editor_cannot_add_collaborators(as_evan, lecture, paula):
    url = reverse("collaborators_add", args=[lecture.pk])

    assert as_evan.get(url).status_code == 403
    response = as_evan.post(url, {"principals": [f"user:{paula.pk}"], "roles": ["co-editor"]})
    assert response.status_code == 403
    assert permissions.principal_roles(lecture, paula) == frozenset()


def test_collaborators_cannot_be_given_moderator_roles(as_olivia, lecture, paula):
    response = as_olivia.post(
        reverse("collaborators_add", args=[lecture.pk]),
        {"principals": [f"user:{paula.pk}"], "roles": ["room-moderator"]},
        **HTMX,
    )

    assert "Select a valid choice." in response.content.decode()
    assert permissions.principal_roles(lecture, paula) == frozenset()


def test_a_host_of_one_room_cannot_add_to_another(as_evan, oscar, paula, moderation_on):
    other = services.media_create(owner=oscar, name="Oscar's room", media_type=MediaEntry.Type.ROOM)

    response = as_evan.post(
        reverse("moderators_add", args=[other.pk]),
        {"principals": [f"user:{paula.pk}"], "roles": ["room-moderator"]},
    )

    assert response.status_code == 404
    assert permissions.principal_roles(other, paula) == frozenset()


def test_rows_and_activity_escape_what_people_typed(as_olivia, olivia, room):
    person = UserFactory(display_name='<img src=x onerror="alert(1)"> & Co')
    group = GroupFactory(name="<b>Editors</b>")
    services.access_add(actor=olivia, entry=room, principal=person, roles=[Role.ROOM_MODERATOR])
    services.access_add(actor=olivia, entry=room, principal=group, roles=[Role.CO_VIEWER])

    html = as_olivia.get(roles_url(room)).content.decode()

    assert "<img src=x" not in html and "<b>Editors</b>" not in html
    # Jinja2 writes a double quote as &#34;, Django as &quot;: both are escaped.
    shown = "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; &amp; Co"
    assert f'<span class="person-name">{shown}</span>' in html
    assert f'aria-label="Remove {shown}"' in html
    assert '<span class="person-name">&lt;b&gt;Editors&lt;/b&gt;</span>' in html
    assert f"gave <strong>{shown}</strong> Room moderator" in html


# Words that match what is shown ----------------------------------------------------------


def count_text(html: str) -> str:
    return " ".join(html.split('id="access-count"')[1].split("</p>")[0].split(">", 1)[1].split())


def test_a_search_finds_the_owner_like_anyone_else(as_olivia, room):
    for words in ("olivia", "OWENS", "olivia@example", "liv ow"):
        html = as_olivia.get(roles_url(room, q=words)).content.decode()

        assert 'class="owner-row"' in html, words
        assert count_text(html) == "1 of 4 with access"
        assert "No users or groups match" not in html


def test_a_search_for_someone_else_leaves_the_owner_out(as_olivia, room):
    html = as_olivia.get(roles_url(room, q="rita")).content.decode()

    assert 'class="owner-row"' not in html
    assert row_ids(html) == [f"user-{User.objects.get(username='rita').pk}"]
    assert count_text(html) == "1 of 4 with access"


def test_a_permission_filter_leaves_the_owner_out(as_olivia, room):
    html = as_olivia.get(roles_url(room, role="chat-moderator")).content.decode()

    assert 'class="owner-row"' not in html
    assert count_text(html) == "1 of 4 with access"


def test_nothing_found_says_so_with_the_count(as_olivia, room):
    html = as_olivia.get(roles_url(room, q="nobody-here")).content.decode()

    assert count_text(html) == "0 of 4 with access"
    assert "No users or groups match" in html


def test_the_unfiltered_count_names_users_and_groups(as_olivia, room):
    html = as_olivia.get(roles_url(room)).content.decode()

    assert count_text(html) == "4 users and 0 groups with access"


def test_a_room_filters_each_moderator_role_on_its_own(as_olivia, room, rita, chad):
    html = as_olivia.get(roles_url(room)).content.decode()
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', html)

    assert options == [
        ("", "All permissions"),
        ("co-editor", "Co-editor"),
        ("co-publisher", "Co-publisher"),
        ("co-viewer", "Co-viewer"),
        ("room-moderator", "Room moderator"),
        ("chat-moderator", "Chat moderator"),
    ]
    rooms_only = as_olivia.get(roles_url(room, role="room-moderator")).content.decode()
    chat_only = as_olivia.get(roles_url(room, role="chat-moderator")).content.decode()
    assert row_ids(rooms_only) == [f"user-{rita.pk}"]
    assert row_ids(chat_only) == [f"user-{chad.pk}"]
    assert 'value="chat-moderator" selected' in chat_only


def test_media_that_is_not_a_room_offers_no_moderator_filter(as_olivia, lecture):
    html = as_olivia.get(roles_url(lecture)).content.decode()

    assert "room-moderator" not in html
    assert 'value="co-editor"' in html


def test_an_old_address_with_both_moderator_roles_still_filters(as_olivia, room, rita, chad):
    html = as_olivia.get(roles_url(room, role="moderator")).content.decode()

    assert sorted(row_ids(html)) == sorted([f"user-{rita.pk}", f"user-{chad.pk}"])


def test_the_activity_says_how_long_ago_in_words(as_olivia, room):
    changes = AccessChange.objects.filter(entry=room)
    changes.update(created_at=timezone.now() - timedelta(minutes=3, seconds=5))

    html = as_olivia.get(roles_url(room)).content.decode()

    assert "3\xa0minutes ago</time>" in html
    assert "0\xa0minutes" not in html


def test_clearing_every_box_asks_as_remove_does_and_changes_nothing(as_olivia, room, rita):
    changes_before = AccessChange.objects.count()
    url = reverse("access_edit", args=[room.pk, "user", rita.pk])

    response = as_olivia.post(url, {**page_state(as_olivia, room)}, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert '<h2 id="access-edit-title">Remove Rita Reyes?</h2>' in html
    assert "will lose <strong>Room moderator</strong>" in " ".join(html.split())
    assert f'hx-post="{reverse("access_remove", args=[room.pk, "user", rita.pk])}"' in html
    assert ">Cancel</a>" in html
    assert permissions.principal_roles(room, rita) == {Role.ROOM_MODERATOR}
    assert AccessChange.objects.count() == changes_before

    removed = as_olivia.post(
        reverse("access_remove", args=[room.pk, "user", rita.pk]),
        page_state(as_olivia, room),
        **HTMX,
    )
    assert removed.status_code == 200
    assert permissions.principal_roles(room, rita) == set()


def test_without_htmx_clearing_every_box_shows_the_remove_page(as_olivia, room, rita):
    # A browser sends the form's token even with every box cleared.
    form = {"csrfmiddlewaretoken": "token"}
    response = as_olivia.post(reverse("access_edit", args=[room.pk, "user", rita.pk]), form)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Remove Rita Reyes?" in html
    assert "<dialog" in html and " open" in html
    assert permissions.principal_roles(room, rita) == {Role.ROOM_MODERATOR}
