"""Expiry in the access dialogs: the terms Add and Edit permissions offer, the operators'
default and longest term, what the rows and the Activity list say, and bad input refused
next to its field with nothing changed."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from mediaspace import access, services, terms
from mediaspace.models import AccessChange, ExpiryPolicy, GrantTerm, Role
from tests.conftest import HTMX


def add_url(entry, kind="moderators") -> str:
    return reverse(f"{kind}_add", args=[entry.pk])


def edit_url(entry, principal, kind="user") -> str:
    return reverse("access_edit", args=[entry.pk, kind, principal.pk])


def ends_of(entry, principal, kind="user") -> dict[Role, object]:
    return access.terms_of(entry, [(kind, principal.pk)]).get((kind, principal.pk), {})


def options(html: str) -> list[str]:
    select = html.split('<select name="ends"')[1].split("</select>")[0]
    return [part.split(">", 1)[1].split("<", 1)[0] for part in select.split("<option")[1:]]


def selected(html: str) -> str:
    select = html.split('<select name="ends"')[1].split("</select>")[0]
    return select.split(" selected>")[1].split("<")[0]


def test_add_moderators_offers_the_terms_with_no_expiry_preselected(as_olivia, room):
    html = as_olivia.get(add_url(room), **HTMX).content.decode()

    assert options(html) == [
        "No expiry",
        "1 week",
        "30 days",
        "Until the end of a day you pick",
        "Until the room’s session ends (this one or the next)",
    ]
    assert selected(html) == "No expiry"
    assert 'type="date" name="ends_on"' in html
    assert f'min="{terms.today().isoformat()}"' in html


@pytest.mark.parametrize(
    ("choice", "days"), [("7", 7), ("30", 30)], ids=["one week", "thirty days"]
)
def test_a_preset_ends_at_the_end_of_the_day_that_many_days_on(
    as_olivia, room, paula, choice, days
):
    response = as_olivia.post(
        add_url(room),
        {"principals": [f"user:{paula.pk}"], "roles": ["chat-moderator"], "ends": choice},
        **HTMX,
    )

    assert response.status_code == 200
    end = terms.end_of_day(terms.today() + timedelta(days=days))
    assert ends_of(room, paula) == {Role.CHAT_MODERATOR: end}
    assert (
        f"Paula Park is now Chat moderator {terms.until_label(end)}." in response.content.decode()
    )
    assert f'<span class="until">{terms.until_label(end)}</span>' in response.content.decode()
    change = AccessChange.objects.get(entry=room, user=paula)
    assert change.after_ends == {"chat-moderator": end.isoformat()}


def test_a_picked_day_ends_at_its_end_and_the_row_says_until(as_olivia, room, paula):
    day = terms.today() + timedelta(days=40)
    as_olivia.post(
        add_url(room),
        {
            "principals": [f"user:{paula.pk}"],
            "roles": ["room-moderator", "chat-moderator"],
            "ends": "date",
            "ends_on": day.isoformat(),
        },
        **HTMX,
    )

    end = terms.end_of_day(day)
    assert ends_of(room, paula) == {Role.ROOM_MODERATOR: end, Role.CHAT_MODERATOR: end}
    html = as_olivia.get(reverse("media_roles", args=[room.pk])).content.decode()
    row = html.split(f'id="access-row-user-{paula.pk}"')[1].split("</tr>")[0]
    label = f"until {day.day} {day:%b}" + (f" {day.year}" if day.year != terms.today().year else "")
    assert row.count(f'<span class="until">{label}</span>') == 2
    assert "expires in" not in row


def test_a_near_end_says_how_near(as_olivia, room, paula):
    services.access_add(
        actor=None,
        entry=room,
        principal=paula,
        roles=[Role.CHAT_MODERATOR],
        ends=timezone.now() + timedelta(days=2, hours=3),
    )

    html = as_olivia.get(reverse("media_roles", args=[room.pk])).content.decode()
    row = html.split(f'id="access-row-user-{paula.pk}"')[1].split("</tr>")[0]
    assert '<span class="until until-soon">' in row
    assert "· expires in 2 days</span>" in row


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"ends": "date"}, "ends_on", "Pick the last day of access."),
        ({"ends": "date", "ends_on": "2027-13-01"}, "ends_on", "Enter a date such as 2027-01-12."),
        ({"ends": "date", "ends_on": "2027-02-30"}, "ends_on", "Enter a date such as 2027-01-12."),
        ({"ends": "date", "ends_on": "yesterday"}, "ends_on", "Enter a date such as 2027-01-12."),
        ({"ends": "next-year"}, "ends", "Select a valid choice."),
        ({"ends": "keep"}, "ends", "Select a valid choice."),
    ],
    ids=["no day", "no such month", "no such day", "words", "unknown term", "keep on add"],
)
def test_bad_terms_are_refused_next_to_their_field(as_olivia, room, paula, data, field, message):
    response = as_olivia.post(
        add_url(room),
        {"principals": [f"user:{paula.pk}"], "roles": ["chat-moderator"], **data},
        **HTMX,
    )

    html = response.content.decode()
    error_id = "ends-on-error" if field == "ends_on" else "ends-error"
    assert f'id="{error_id}"' in html
    assert message in html.split(f'id="{error_id}"')[1].split("</div>")[0]
    assert not AccessChange.objects.filter(entry=room, user=paula).exists()
    assert access.principal_roles(room, paula) == frozenset()


def test_a_past_day_is_refused(as_olivia, room, paula):
    yesterday = terms.today() - timedelta(days=1)
    response = as_olivia.post(
        add_url(room),
        {
            "principals": [f"user:{paula.pk}"],
            "roles": ["chat-moderator"],
            "ends": "date",
            "ends_on": yesterday.isoformat(),
        },
        **HTMX,
    )

    html = response.content.decode()
    assert "Pick today or a later day: that day has passed." in html.split('id="ends-on-error"')[1]
    assert not GrantTerm.objects.exists()
    assert access.principal_roles(room, paula) == frozenset()


def test_today_is_accepted(as_olivia, room, paula):
    as_olivia.post(
        add_url(room),
        {
            "principals": [f"user:{paula.pk}"],
            "roles": ["chat-moderator"],
            "ends": "date",
            "ends_on": terms.today().isoformat(),
        },
        **HTMX,
    )

    assert ends_of(room, paula) == {Role.CHAT_MODERATOR: terms.end_of_day(terms.today())}


def test_the_operators_default_is_preselected_and_their_longest_term_enforced(
    as_olivia, room, paula
):
    ExpiryPolicy.objects.create(role=Role.CHAT_MODERATOR, default_days=14, longest_days=60)

    html = as_olivia.get(add_url(room), **HTMX).content.decode()
    assert options(html) == [
        "No expiry",
        "1 week",
        "14 days",
        "30 days",
        "Until the end of a day you pick",
        "Until the room’s session ends (this one or the next)",
    ]
    assert selected(html) == "14 days"

    never = as_olivia.post(
        add_url(room),
        {"principals": [f"user:{paula.pk}"], "roles": ["chat-moderator"], "ends": "never"},
        **HTMX,
    ).content.decode()
    assert "Chat moderator access must end within 60 days: choose a term." in never
    too_late = terms.today() + timedelta(days=61)
    beyond = as_olivia.post(
        add_url(room),
        {
            "principals": [f"user:{paula.pk}"],
            "roles": ["chat-moderator"],
            "ends": "date",
            "ends_on": too_late.isoformat(),
        },
        **HTMX,
    ).content.decode()
    latest = terms.today() + timedelta(days=60)
    message = f"Chat moderator access can last at most 60 days: pick {latest:%-d %b %Y} or earlier."
    assert message in beyond.split('id="ends-on-error"')[1]
    assert access.principal_roles(room, paula) == frozenset()

    # A room moderator alone is not held to the chat moderators' limit.
    as_olivia.post(
        add_url(room),
        {"principals": [f"user:{paula.pk}"], "roles": ["room-moderator"], "ends": "never"},
        **HTMX,
    )
    assert ends_of(room, paula) == {}
    assert access.principal_roles(room, paula) == {Role.ROOM_MODERATOR}

    # Left out (a form from before terms), the default applies.
    as_olivia.post(
        add_url(room), {"principals": [f"user:{paula.pk}"], "roles": ["chat-moderator"]}, **HTMX
    )
    assert ends_of(room, paula) == {Role.CHAT_MODERATOR: terms.end_after(14)}


def test_edit_keeps_ends_by_default_and_can_change_or_clear_them(as_olivia, room, paula):
    end = terms.end_after(10)
    services.access_add(
        actor=None, entry=room, principal=paula, roles=[Role.CHAT_MODERATOR], ends=end
    )

    html = as_olivia.get(edit_url(room, paula), **HTMX).content.decode()
    assert options(html)[0] == f"Keep: {terms.until_label(end)}"
    assert selected(html) == f"Keep: {terms.until_label(end)}"

    # Keep, adding a role: the kept one keeps its end, the new one lasts.
    as_olivia.post(
        edit_url(room, paula),
        {"roles": ["room-moderator", "chat-moderator"], "ends": "keep"},
        **HTMX,
    )
    assert ends_of(room, paula) == {Role.CHAT_MODERATOR: end}
    assert access.principal_roles(room, paula) == {Role.ROOM_MODERATOR, Role.CHAT_MODERATOR}

    # A term: both end then.
    as_olivia.post(
        edit_url(room, paula), {"roles": ["room-moderator", "chat-moderator"], "ends": "7"}, **HTMX
    )
    week = terms.end_after(7)
    assert ends_of(room, paula) == {Role.ROOM_MODERATOR: week, Role.CHAT_MODERATOR: week}

    # No expiry clears them.
    response = as_olivia.post(
        edit_url(room, paula),
        {"roles": ["room-moderator", "chat-moderator"], "ends": "never"},
        **HTMX,
    )
    assert ends_of(room, paula) == {}
    assert "Paula Park now has Room moderator and Chat moderator." in response.content.decode()
    change = AccessChange.objects.filter(entry=room, user=paula).latest("id")
    assert change.before == change.after == ["room-moderator", "chat-moderator"]
    assert change.before_ends == {
        "room-moderator": week.isoformat(),
        "chat-moderator": week.isoformat(),
    }
    assert change.after_ends == {}


def test_edit_with_a_past_day_changes_nothing(as_olivia, room, paula):
    end = terms.end_after(10)
    services.access_add(
        actor=None, entry=room, principal=paula, roles=[Role.CHAT_MODERATOR], ends=end
    )
    changes = AccessChange.objects.count()

    response = as_olivia.post(
        edit_url(room, paula),
        {
            "roles": ["chat-moderator"],
            "ends": "date",
            "ends_on": (terms.today() - timedelta(days=3)).isoformat(),
        },
        **HTMX,
    )

    assert "that day has passed" in response.content.decode()
    assert AccessChange.objects.count() == changes
    assert ends_of(room, paula) == {Role.CHAT_MODERATOR: end}


def test_edit_keeping_is_held_to_the_limit_only_for_a_new_role(as_olivia, room, paula):
    end = terms.end_after(90)
    services.access_add(
        actor=None, entry=room, principal=paula, roles=[Role.ROOM_MODERATOR], ends=end
    )
    ExpiryPolicy.objects.create(role=Role.CHAT_MODERATOR, longest_days=30)
    ExpiryPolicy.objects.create(role=Role.ROOM_MODERATOR, longest_days=30)

    # Keeping what she holds passes, though it runs past today's limit (set after the grant);
    # ticking Chat moderator with Keep must choose a term.
    refused = as_olivia.post(
        edit_url(room, paula),
        {"roles": ["room-moderator", "chat-moderator"], "ends": "keep"},
        **HTMX,
    ).content.decode()
    assert "Chat moderator access must end within 30 days: choose a term." in refused
    assert access.principal_roles(room, paula) == {Role.ROOM_MODERATOR}
    kept = as_olivia.post(edit_url(room, paula), {"roles": [], "ends": "keep"}, **HTMX)
    assert "Remove" in kept.content.decode()  # every box cleared asks as Remove does
    as_olivia.post(edit_url(room, paula), {"roles": ["room-moderator"], "ends": "keep"}, **HTMX)
    assert ends_of(room, paula) == {Role.ROOM_MODERATOR: end}


def test_activity_says_what_expired_with_no_one_acting(as_olivia, room, paula):
    start = timezone.now()
    services.access_add(
        actor=room.owner,
        entry=room,
        principal=paula,
        roles=[Role.CHAT_MODERATOR],
        ends=start + timedelta(hours=1),
    )
    with mock.patch("django.utils.timezone.now", return_value=start + timedelta(hours=2)):
        assert services.grants_expire() == 1
        html = as_olivia.get(reverse("media_roles", args=[room.pk])).content.decode()

    activity = html.split('id="activity-list"')[1]
    assert "<strong>Paula Park</strong>’s Chat moderator expired" in activity
    assert "gave <strong>Paula Park</strong> Chat moderator (until" in activity
    expired = AccessChange.objects.get(reason=AccessChange.Reason.EXPIRED)
    assert expired.actor is None
    assert (expired.before, expired.after) == (["chat-moderator"], [])


def test_a_moderator_added_until_the_session_ends_loses_it_as_it_ends(
    as_olivia, olivia, room, paula, rita
):
    from rooms import services as room_services

    response = as_olivia.post(
        add_url(room),
        {"principals": [f"user:{paula.pk}"], "roles": ["chat-moderator"], "ends": "session"},
        **HTMX,
    )
    html = response.content.decode()
    assert "Paula Park is now Chat moderator until the session ends." in html
    assert '<span class="until">until the session ends</span>' in html
    assert ends_of(room, paula) == {Role.CHAT_MODERATOR: access.SESSION_END}
    term = GrantTerm.objects.get(entry=room, user=paula)
    assert (term.ends_at, term.at_session_end) == (None, True)

    # No session yet: the next one's end takes it. Opening and starting leave it.
    room_services.session_open(actor=olivia, entry=room)
    room_services.session_start(actor=olivia, entry=room)
    assert access.principal_roles(room, paula) == {Role.CHAT_MODERATOR}
    room_services.session_end(actor=olivia, entry=room)

    assert access.principal_roles(room, paula) == frozenset()
    assert access.principal_roles(room, rita) == {Role.ROOM_MODERATOR}  # lasting: untouched
    assert not GrantTerm.objects.exists()
    expired = AccessChange.objects.get(reason=AccessChange.Reason.EXPIRED)
    assert (expired.user, expired.actor) == (paula, None)
    assert expired.before_ends == {"chat-moderator": "session-end"}
    assert access.differences() == 0
    # The next session's end finds nothing more to take.
    room_services.session_open(actor=olivia, entry=room)
    room_services.session_end(actor=olivia, entry=room)
    assert AccessChange.objects.filter(reason=AccessChange.Reason.EXPIRED).count() == 1


def test_only_a_rooms_moderators_can_end_with_the_session(olivia, room, lecture, paula):
    with pytest.raises(ValidationError) as refused, transaction.atomic():
        services.access_add(
            actor=olivia,
            entry=room,
            principal=paula,
            roles=[Role.CO_VIEWER],
            ends=access.SESSION_END,
        )
    assert refused.value.code == "session_end"
    with pytest.raises(ValidationError), transaction.atomic():
        services.access_add(
            actor=olivia,
            entry=lecture,
            principal=paula,
            roles=[Role.CO_VIEWER],
            ends=access.SESSION_END,
        )
    assert access.principal_roles(room, paula) == frozenset()
    assert not GrantTerm.objects.exists()


def test_the_collaborators_dialog_and_other_entries_do_not_offer_the_session(
    as_olivia, room, lecture
):
    collaborators = as_olivia.get(add_url(room, "collaborators"), **HTMX).content.decode()
    assert "session ends" not in collaborators
    refused = as_olivia.post(
        add_url(room, "collaborators"),
        {"principals": ["user:1"], "roles": ["co-viewer"], "ends": "session"},
        **HTMX,
    ).content.decode()
    assert "Select a valid choice." in refused.split('id="ends-error"')[1]


def test_the_operators_command_removes_what_has_ended(olivia, room, paula):
    from io import StringIO

    from django.core.management import call_command

    start = timezone.now()
    services.access_add(
        actor=olivia,
        entry=room,
        principal=paula,
        roles=[Role.CHAT_MODERATOR],
        ends=start + timedelta(minutes=5),
    )
    out = StringIO()
    with mock.patch("django.utils.timezone.now", return_value=start + timedelta(minutes=6)):
        call_command("grants_expire", stdout=out)
    assert out.getvalue() == "1 user(s) or group(s) lost roles that had ended.\n"
    assert not GrantTerm.objects.exists()
    assert AccessChange.objects.filter(reason=AccessChange.Reason.EXPIRED).count() == 1
