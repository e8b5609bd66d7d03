"""Where access comes from: each path of the rule (owner, direct, via a group), what the
person may do because of it, a row's "Where access comes from" and the Check access box."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from mediaspace import access, selectors, services, terms
from mediaspace.models import Module, Role
from tests.conftest import HTMX
from tests.factories import GroupFactory, UserFactory


def why_url(entry, person) -> str:
    return reverse("access_why", args=[entry.pk, person.pk])


def check_url(entry) -> str:
    return reverse("access_check", args=[entry.pk])


@pytest.fixture
def tara(db):
    return UserFactory(username="tara", display_name="Tara Thompson", email="tara@example.com")


@pytest.fixture
def assistants(tara):
    group = GroupFactory(name="Teaching Assistants")
    group.user_set.add(tara)
    return group


def test_every_path_is_listed_with_its_roles_and_ends(room, tara, assistants):
    hosts = GroupFactory(name="Guest hosts")
    hosts.user_set.add(tara)
    end = terms.end_after(12)
    services.access_add(actor=None, entry=room, principal=tara, roles=[Role.CO_VIEWER], ends=end)
    services.access_add(
        actor=None,
        entry=room,
        principal=assistants,
        roles=[Role.ROOM_MODERATOR, Role.CHAT_MODERATOR],
    )
    services.access_add(actor=None, entry=room, principal=hosts, roles=[Role.CHAT_MODERATOR])

    why = access.why(room, tara)

    assert why.roles == {Role.CO_VIEWER, Role.ROOM_MODERATOR, Role.CHAT_MODERATOR}
    assert why.module_on
    assert [(path.kind, path.group_name, path.roles) for path in why.paths] == [
        ("direct", "", (Role.CO_VIEWER,)),
        ("group", "Guest hosts", (Role.CHAT_MODERATOR,)),
        ("group", "Teaching Assistants", (Role.ROOM_MODERATOR, Role.CHAT_MODERATOR)),
    ]
    assert why.paths[0].ends == {Role.CO_VIEWER: end}
    assert why.paths[1].group_id == hosts.pk


def test_the_owner_holds_owner_alone_whatever_their_groups_hold(room, olivia):
    group = GroupFactory(name="Staff")
    group.user_set.add(olivia)
    services.access_add(actor=None, entry=room, principal=group, roles=[Role.CHAT_MODERATOR])

    why = access.why(room, olivia)

    assert why.roles == {Role.OWNER}
    assert why.paths[0].kind == "owner"
    assert [path.group_name for path in why.paths[1:]] == ["Staff"]


def test_a_path_that_ended_or_a_group_left_is_not_listed(room, tara, assistants):
    start = timezone.now()
    services.access_add(
        actor=None,
        entry=room,
        principal=tara,
        roles=[Role.CHAT_MODERATOR],
        ends=start + timedelta(hours=1),
    )
    services.access_add(actor=None, entry=room, principal=assistants, roles=[Role.ROOM_MODERATOR])
    assistants.user_set.remove(tara)

    from unittest import mock

    with mock.patch("django.utils.timezone.now", return_value=start + timedelta(hours=2)):
        why = access.why(room, tara)
    assert why.paths == []
    assert why.roles == frozenset()


def test_moderator_paths_are_listed_but_count_for_nothing_while_the_module_is_off(
    room, tara, assistants
):
    services.access_add(actor=None, entry=room, principal=assistants, roles=[Role.CHAT_MODERATOR])
    Module.objects.update(enabled=False)

    explained = selectors.explanation(room, tara)

    assert explained.why.roles == frozenset()
    assert [path.roles for path in explained.why.paths] == [(Role.CHAT_MODERATOR,)]
    assert explained.powers == []


def test_why_costs_the_same_whatever_the_number_of_groups(
    room, tara, django_assert_max_num_queries
):
    for number in range(12):
        group = GroupFactory(name=f"Section {number:02}")
        group.user_set.add(tara)
        services.access_add(
            actor=None,
            entry=room,
            principal=group,
            roles=[Role.CHAT_MODERATOR],
            ends=terms.end_after(number + 1),
        )

    with django_assert_max_num_queries(2):
        why = access.why(room, tara)
    assert len(why.paths) == 12


def test_a_rows_disclosure_answers_with_the_paths(as_olivia, room, tara, assistants):
    services.access_add(actor=None, entry=room, principal=tara, roles=[Role.CO_VIEWER])
    services.access_add(actor=None, entry=room, principal=assistants, roles=[Role.ROOM_MODERATOR])

    tab = as_olivia.get(reverse("media_roles", args=[room.pk])).content.decode()
    row = tab.split(f'id="access-row-user-{tara.pk}"')[1].split("</tr>")[0]
    assert f'hx-get="{why_url(room, tara)}" hx-trigger="toggle once"' in row
    assert "<summary>Where access comes from</summary>" in row

    html = as_olivia.get(why_url(room, tara), **HTMX).content.decode()
    assert html.lstrip().startswith('<div class="why-answer">')
    assert "<strong>Tara Thompson</strong>" in html
    assert "holds Co-viewer, Room moderator: can run the room" in " ".join(html.split())
    assert "Given directly:" in html
    assert "Via <strong>Teaching Assistants</strong>:" in html


def test_why_is_for_hosts_only(as_evan, as_rita, room, tara):
    assert as_evan.get(why_url(room, tara)).status_code == 200  # a co-editor
    assert as_rita.get(why_url(room, tara)).status_code == 403  # a room moderator
    assert as_evan.get(reverse("access_why", args=[room.pk, 999_999])).status_code == 404


def test_check_access_with_one_match_answers_at_once(as_olivia, room, tara, assistants):
    services.access_add(actor=None, entry=room, principal=assistants, roles=[Role.CHAT_MODERATOR])

    html = as_olivia.get(check_url(room), {"who": "tara"}, **HTMX).content.decode()

    assert html.lstrip().startswith('<form class="check-access"')
    assert "holds Chat moderator: can moderate the chat." in " ".join(html.split())
    assert "Via <strong>Teaching Assistants</strong>:" in html


def test_check_access_for_someone_without_a_role(as_olivia, room, lecture, tara):
    html = as_olivia.get(check_url(lecture), {"who": "Thompson"}, **HTMX).content.decode()
    assert "holds no role and can’t see it: it is private." in html


def test_check_access_lists_several_matches_to_choose_from(as_olivia, room, tara):
    UserFactory(username="tarik", display_name="Tarik Tan")

    html = as_olivia.get(check_url(room), {"who": "ta"}, **HTMX).content.decode()

    assert "people match. Choose one:" in html
    assert f'hx-get="{why_url(room, tara)}"' in html


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("", "Type a name, username or email."),
        ("t", "Type at least two letters."),
        ("zzzz", "No one matches “zzzz”. Try part of their name, username or email."),
    ],
    ids=["empty", "one letter", "no one"],
)
def test_check_access_says_what_is_wrong_next_to_the_field(as_olivia, room, who, message):
    html = as_olivia.get(check_url(room), {"who": who}, **HTMX).content.decode()
    assert f'<p class="field-error" id="check-error">{message}</p>' in html


def test_check_access_without_htmx_is_a_page_and_is_for_hosts_only(as_olivia, as_rita, room, tara):
    page = as_olivia.get(check_url(room), {"who": "tara"})
    assert page.status_code == 200 and b"<html" in page.content
    assert b'<h2 id="check-title">Check access</h2>' in page.content
    assert as_rita.get(check_url(room), {"who": "tara"}).status_code == 403


def test_searching_the_tab_finds_people_who_hold_roles_only_through_groups(
    as_olivia, room, tara, assistants, paula
):
    assistants.user_set.add(paula)  # Paula has her own row: listed as such, not again
    services.access_add(actor=None, entry=room, principal=paula, roles=[Role.CO_VIEWER])
    services.access_add(
        actor=None,
        entry=room,
        principal=assistants,
        roles=[Role.ROOM_MODERATOR, Role.CHAT_MODERATOR],
    )
    roles = reverse("media_roles", args=[room.pk])

    unsearched = as_olivia.get(roles).content.decode()
    assert "Tara Thompson" not in unsearched  # members are not listed otherwise

    found = " ".join(as_olivia.get(roles, {"q": "tara"}).content.decode().split())
    assert "Also through groups" in found
    assert (
        'Tara Thompson</span> <span class="muted small">tara@example.com</span> — via'
        " <strong>Teaching Assistants</strong>: Room moderator, Chat moderator" in found
    )
    assert "No users or groups match" not in found
    paula_search = as_olivia.get(roles, {"q": "paula"}).content.decode()
    assert "Also through groups" not in paula_search

    # The permission filter applies to the paths too.
    filtered = as_olivia.get(roles, {"q": "tara", "role": "co-viewer"}).content.decode()
    assert "Also through groups" not in filtered


def test_a_search_through_groups_costs_one_query(room, tara, django_assert_num_queries):
    from accounts.models import User
    from mediaspace.access import members_found

    for number in range(8):
        group = GroupFactory(name=f"Section {number}")
        group.user_set.add(tara, *UserFactory.create_batch(3))
        services.access_add(actor=None, entry=room, principal=group, roles=[Role.CHAT_MODERATOR])

    with django_assert_num_queries(1):
        found = members_found(room, words=["tara"], wanted=None, limit=10)
    assert [(person.pk, len(groups)) for person, groups in found] == [(tara.pk, 8)]
    assert isinstance(found[0][0], User)
