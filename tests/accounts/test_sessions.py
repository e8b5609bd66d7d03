"""Signed-in sessions: an idle timeout (shorter for staff), and pages no cache keeps."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.middleware import LAST_SEEN, LAST_SEEN_STEP
from tests.conftest import HTMX, client_for


@pytest.fixture(autouse=True)
def idle_limits(settings):
    settings.SESSION_IDLE_SECONDS = 8 * 60 * 60
    settings.SESSION_STAFF_IDLE_SECONDS = 60 * 60
    return settings


def idle_for(client: Client, seconds: int) -> None:
    """Make the session's last request `seconds` ago."""
    session = client.session
    session[LAST_SEEN] -= seconds
    session.save()


@pytest.fixture
def staff(olivia):
    olivia.is_staff = True
    olivia.save(update_fields=["is_staff"])
    return olivia


def test_a_request_notes_the_time_in_the_session(as_olivia):
    as_olivia.get(reverse("my_media"))

    assert isinstance(as_olivia.session[LAST_SEEN], int)


def test_a_session_idle_less_than_the_limit_goes_on(as_olivia):
    as_olivia.get(reverse("my_media"))
    idle_for(as_olivia, 8 * 60 * 60 - 60)

    assert as_olivia.get(reverse("my_media")).status_code == 200


def test_a_session_idle_past_the_limit_is_signed_out_with_a_message(as_olivia):
    as_olivia.get(reverse("my_media"))
    idle_for(as_olivia, 8 * 60 * 60 + 1)

    response = as_olivia.get(reverse("my_media"), follow=True)

    assert response.redirect_chain[-1][0].startswith(reverse("login") + "?next=/my-media/")
    assert "You were signed out after 480 minutes without activity" in response.content.decode()
    assert "_auth_user_id" not in as_olivia.session


def test_staff_sessions_time_out_sooner(staff):
    client = client_for(staff)
    client.get(reverse("my_media"))
    idle_for(client, 60 * 60 + 1)

    assert client.get(reverse("my_media")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_a_signed_in_person_who_is_not_staff_keeps_the_longer_limit(as_olivia):
    as_olivia.get(reverse("my_media"))
    idle_for(as_olivia, 60 * 60 + 1)

    assert as_olivia.get(reverse("my_media")).status_code == 200


def test_the_operator_sets_the_limits(idle_limits, as_olivia):
    idle_limits.SESSION_IDLE_SECONDS = 5 * 60
    as_olivia.get(reverse("my_media"))
    idle_for(as_olivia, 5 * 60 + 1)

    assert as_olivia.get(reverse("my_media")).status_code == 302


def test_an_htmx_request_after_the_timeout_sends_the_whole_page_to_sign_in(as_olivia):
    as_olivia.get(reverse("my_media"))
    idle_for(as_olivia, 8 * 60 * 60 + 1)

    response = as_olivia.get(
        reverse("my_media"), HTTP_HX_CURRENT_URL="http://testserver/my-media/?q=bio", **HTMX
    )

    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("login") + "?next=/my-media/%3Fq%3Dbio"


def test_the_session_is_written_at_most_once_a_minute(as_olivia):
    as_olivia.get(reverse("my_media"))
    first = as_olivia.session[LAST_SEEN]
    idle_for(as_olivia, LAST_SEEN_STEP - 5)

    as_olivia.get(reverse("my_media"))

    assert as_olivia.session[LAST_SEEN] == first - (LAST_SEEN_STEP - 5)  # not rewritten


def test_the_session_notes_a_request_a_minute_later(as_olivia):
    as_olivia.get(reverse("my_media"))
    idle_for(as_olivia, LAST_SEEN_STEP + 1)
    before = as_olivia.session[LAST_SEEN]

    as_olivia.get(reverse("my_media"))

    assert as_olivia.session[LAST_SEEN] > before


# Cache-Control ----------------------------------------------------------------------------


def cache_control(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",")}


def test_signed_in_pages_are_private_and_not_stored(as_olivia, lecture):
    for url in (
        reverse("my_media"),
        lecture.get_absolute_url(),
        reverse("media_edit", args=[lecture.pk]),
        reverse("media_roles", args=[lecture.pk]),
    ):
        response = as_olivia.get(url)
        assert response.status_code == 200, url
        assert {"private", "no-store"} <= cache_control(response), url


def test_partials_are_private_and_not_stored(as_olivia, lecture):
    response = as_olivia.get(reverse("media_roles", args=[lecture.pk]), **HTMX)

    assert {"private", "no-store"} <= cache_control(response)


def test_refusals_to_signed_in_people_are_not_stored_either(as_oscar, lecture):
    response = as_oscar.get(reverse("media_edit", args=[lecture.pk]))

    assert response.status_code == 404
    assert {"private", "no-store"} <= cache_control(response)


def test_the_admin_is_private_and_not_stored(staff):
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])

    response = client_for(staff).get(reverse("admin:index"))

    assert {"private", "no-store"} <= cache_control(response)


def test_static_files_stay_cacheable(as_olivia):
    response = as_olivia.get("/static/mediaspace/app.css")

    assert "no-store" not in cache_control(response)
