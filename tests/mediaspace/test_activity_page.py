"""The Activity page: an entry's whole audit log with filters (person, role, kind of
change, dates) for hosts, and a CSV download for the owner."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from mediaspace import services
from mediaspace.models import AccessChange, Role
from tests.factories import UserFactory


def url(entry) -> str:
    return reverse("access_activity", args=[entry.pk])


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture
def history(olivia, room, paula):
    """Paula: Chat moderator for an hour, expired; then Co-viewer (room: Evan, Rita, Chad)."""
    start = timezone.now()
    services.access_add(
        actor=olivia,
        entry=room,
        principal=paula,
        roles=[Role.CHAT_MODERATOR],
        ends=start + timedelta(hours=1),
    )
    with mock.patch("django.utils.timezone.now", return_value=start + timedelta(hours=2)):
        services.grants_expire()
    with mock.patch("django.utils.timezone.now", return_value=start + timedelta(hours=3)):
        services.access_add(actor=olivia, entry=room, principal=paula, roles=[Role.CO_VIEWER])
    return room


def test_the_page_lists_every_change_and_filters_them(as_olivia, history):
    def texts(**query):
        html = as_olivia.get(url(history), query).content.decode()
        return [" ".join(item.split("<time")[0].split()) for item in html.split("<li>")[1:]]

    everything = texts()
    assert len(everything) == AccessChange.objects.filter(entry=history).count() == 6
    paula = texts(who="paula")
    assert len(paula) == 3
    assert "Paula Park</strong>’s Chat moderator expired" in paula[1]
    assert len(texts(reason="expired")) == 1
    assert len(texts(role="chat-moderator")) == 3  # Chad's grant, Paula's grant and expiry
    last = timezone.localdate(AccessChange.objects.latest("created_at").created_at)
    first = timezone.localdate(AccessChange.objects.earliest("created_at").created_at)
    assert len(texts(since=first.isoformat(), until=last.isoformat())) == 6
    assert texts(since=(last + timedelta(days=1)).isoformat()) == []
    assert texts(until=(first - timedelta(days=1)).isoformat()) == []


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"since": "2027-13-01"}, "since", "Enter a date such as 2027-01-12."),
        ({"since": "2027-02-01", "until": "2027-01-01"}, "until", "Pick a day on or after"),
        ({"reason": "hacked"}, "reason", "Select a valid choice."),
    ],
    ids=["bad date", "backwards", "unknown kind"],
)
def test_bad_filters_are_said_next_to_their_field(as_olivia, history, query, field, message):
    html = as_olivia.get(url(history), query).content.decode()
    assert f'id="id_{field}-error">{message}' in html
    assert f'aria-describedby="id_{field}-error"' in html


def test_the_owner_downloads_the_filtered_log_as_csv(as_olivia, history):
    response = as_olivia.get(url(history), {"who": "paula", "format": "csv"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="activity-' in response["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[0] == ["when", "user or group", "kind", "before", "after", "changed by", "change"]
    oldest_first = [row[1:] for row in rows[1:]][::-1]
    granted = oldest_first[0][3]
    assert granted.startswith("Chat moderator (until ")
    assert oldest_first == [
        ["Paula Park", "user", "", granted, "Olivia Owens", "Changed"],
        ["Paula Park", "user", granted, "", "", "Expired"],
        ["Paula Park", "user", "", "Co-viewer", "Olivia Owens", "Changed"],
    ]


def test_a_name_that_looks_like_a_formula_is_quoted(as_olivia, olivia, room):
    tricky = UserFactory(username="trick", display_name="=HYPERLINK(1)")
    services.access_add(actor=olivia, entry=room, principal=tricky, roles=[Role.CO_VIEWER])

    rows = csv_rows(as_olivia.get(url(room), {"format": "csv"}))

    assert ["'=HYPERLINK(1)", "user"] in [row[1:3] for row in rows]


def test_hosts_see_the_page_and_only_the_owner_downloads(as_evan, as_rita, room):
    page = as_evan.get(url(room))
    assert page.status_code == 200
    assert b"Download CSV" not in page.content
    assert as_evan.get(url(room), {"format": "csv"}).status_code == 403
    assert as_rita.get(url(room)).status_code == 403


def test_the_page_costs_the_same_with_many_changes(
    as_olivia, olivia, room, django_assert_max_num_queries
):
    for number in range(30):
        person = UserFactory(username=f"person{number}")
        services.access_add(actor=olivia, entry=room, principal=person, roles=[Role.CO_VIEWER])
    with django_assert_max_num_queries(12):
        as_olivia.get(url(room))
