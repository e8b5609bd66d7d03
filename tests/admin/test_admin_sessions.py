"""Sessions, participants, chat and moderation in the admin: the record, read-only."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.models import Model
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from rooms import services
from rooms.admin import ParticipantInline
from rooms.models import ChatMessage, ModerationAction, Participant, Room, Session
from tests.conftest import client_for
from tests.factories import UserFactory

RECORD = [Session, Participant, ChatMessage, ModerationAction]
RECORD_IDS = [model._meta.model_name for model in RECORD]


def admin_url(model: type[Model], view: str, *args) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def results(html: str) -> str:
    """Return the changelist's table of results."""
    return html[html.index('id="result_list"') :].split("</table>")[0]


def texts(html: str) -> list[str]:
    """Return the text column of the chat list, top to bottom."""
    return re.findall(r'<td class="field-text">([^<]*)</td>', results(html))


def row_with(html: str, text: str) -> str:
    """Return the row of a list that contains the text."""
    return next(row for row in html.split("<tr") if text in row)


def message(body: str) -> ChatMessage:
    return ChatMessage.objects.get(body=body)


# The session page


def test_the_session_page_lists_its_participants_and_moderation(as_opal, held):
    html = as_opal.get(admin_url(Session, "change", held.pk)).content.decode()

    participants = html[html.index('id="participants-group"') :].split("</table>")[0]
    for name in ("Olivia Owens", "Rita Reyes", "Chad Chen", "Paula Park"):
        assert name in participants
    assert "Room moderator" in participants and "Chat moderator" in participants
    assert "Blocked by Chad Chen" in participants
    moderation = html[html.index('id="moderation_actions-group"') :].split("</table>")[0]
    for action in ("Started the session", "Cleared the chat", "Pinned a message"):
        assert action in moderation
    assert "Deleted a message" in moderation and "Cheap essays at spam.example" in moderation


def test_the_session_page_links_to_its_chat_instead_of_inlining_it(as_opal, held):
    html = as_opal.get(admin_url(Session, "change", held.pk)).content.decode()

    chat_url = admin_url(ChatMessage, "changelist") + f"?session={held.pk}"
    assert re.search(rf'href="{re.escape(chat_url)}"[^>]*>3 chat messages</a>', html)
    # Pinned and deleted messages are quoted in the moderation record; the rest is not shown.
    assert "Welcome! We start in five minutes." not in html


def test_the_session_page_offers_no_way_to_change_it(as_opal, held):
    html = as_opal.get(admin_url(Session, "change", held.pk)).content.decode()

    assert 'name="_save"' not in html and 'name="_continue"' not in html
    assert "deletelink" not in html
    assert "Add another" not in html
    assert "<input" not in html.split('id="participants-group"')[1].split("</table>")[0]


def test_a_busy_session_lists_its_first_participants_and_links_to_the_rest(
    as_opal, held, monkeypatch
):
    monkeypatch.setattr(ParticipantInline, "limit", 2)

    html = as_opal.get(admin_url(Session, "change", held.pk)).content.decode()

    participants = html[html.index('id="participants-group"') :].split("</table>")[0]
    assert "Olivia Owens" in participants and "Rita Reyes" in participants
    assert "Paula Park" not in participants
    assert "Only the first 2 are shown here" in participants
    everyone = admin_url(Participant, "changelist") + f"?session={held.pk}"
    assert f'href="{everyone}"' in participants


def test_a_session_with_300_participants_and_10000_messages_renders_in_a_few_queries(as_opal, held):
    people = UserFactory.create_batch(296)
    now = timezone.now()
    Participant.objects.bulk_create(
        Participant(session=held, user=user, joined_at=now) for user in people
    )
    ChatMessage.objects.bulk_create(
        ChatMessage(session=held, author=people[index % 296], body=f"Message {index}")
        for index in range(10_000)
    )

    with CaptureQueriesContext(connection) as queries:
        response = as_opal.get(admin_url(Session, "change", held.pk))

    assert response.status_code == 200
    html = response.content.decode()
    participants = html[html.index('id="participants-group"') :].split("</table>")[0]
    assert participants.count('<tr class="form-row">') == 300
    assert "Message 9999" not in html
    assert ">10003 chat messages</a>" in html
    assert len(queries) <= 15


# The sessions list


def test_the_sessions_list_counts_participants_and_messages(as_opal, held):
    html = results(as_opal.get(admin_url(Session, "changelist")).content.decode())

    assert "Biology 101 office hours" in html
    participants_url = admin_url(Participant, "changelist") + f"?session={held.pk}"
    chat_url = admin_url(ChatMessage, "changelist") + f"?session={held.pk}"
    assert re.search(rf'href="{re.escape(participants_url)}"[^>]*>4</a>', html)
    assert re.search(rf'href="{re.escape(chat_url)}"[^>]*>3</a>', html)


def test_the_room_list_links_to_the_rooms_sessions(as_opal, held, olivia):
    other = services.room_create(owner=olivia, name="Ecology seminar")
    services.session_open(actor=olivia, entry=other)
    room = Room.objects.get(media=held.room_id)

    html = as_opal.get(admin_url(Room, "changelist")).content.decode()
    sessions_url = admin_url(Session, "changelist") + f"?room={room.pk}"
    assert f'href="{sessions_url}"' in html
    assert (
        f'href="{sessions_url}"' in as_opal.get(admin_url(Room, "change", room.pk)).content.decode()
    )

    listed = results(as_opal.get(sessions_url).content.decode())
    assert "Biology 101 office hours" in listed and "Ecology seminar" not in listed
    assert "Ecology seminar" in results(
        as_opal.get(admin_url(Session, "changelist")).content.decode()
    )


def test_the_sessions_list_filters_by_state_and_searches_room_names(as_opal, held, olivia):
    other = services.room_create(owner=olivia, name="Ecology seminar")
    services.session_open(actor=olivia, entry=other)
    url = admin_url(Session, "changelist")

    assert "Ecology seminar" not in results(as_opal.get(url + "?state=live").content.decode())
    html = results(as_opal.get(url + "?state=open").content.decode())
    assert "Ecology seminar" in html and "Biology 101" not in html
    html = results(as_opal.get(url + "?q=ecology").content.decode())
    assert "Ecology seminar" in html and "Biology 101" not in html


# The chat list


def test_a_deleted_message_is_listed_with_who_deleted_it(as_opal, held):
    html = results(as_opal.get(admin_url(ChatMessage, "changelist")).content.decode())

    assert "Deleted by Chad Chen" in row_with(html, "Cheap essays at spam.example")
    assert "Cleared by Chad Chen" in row_with(html, "Welcome! We start in five minutes.")
    assert "Pinned by Chad Chen" in row_with(html, "Can I submit the lab report late?")


def test_the_chat_list_filters_by_what_happened_to_a_message(as_opal, held):
    url = admin_url(ChatMessage, "changelist")

    def listed(query: str) -> list[str]:
        return texts(as_opal.get(url + query).content.decode())

    assert listed("?deleted=yes") == ["Cheap essays at spam.example"]
    assert listed("?cleared=yes") == ["Welcome! We start in five minutes."]
    assert listed("?pinned=yes") == ["Can I submit the lab report late?"]
    assert listed("?deleted=no&cleared=no") == ["Can I submit the lab report late?"]


def test_the_chat_list_filters_by_session_and_author(as_opal, held, olivia, paula):
    other = services.room_create(owner=olivia, name="Ecology seminar")
    services.session_start(actor=olivia, entry=other)
    services.message_post(author=olivia, entry=other, body="Ecology starts now.")
    url = admin_url(ChatMessage, "changelist")

    html = as_opal.get(url + f"?session={held.pk}").content.decode()
    assert "Ecology starts now." not in texts(html) and len(texts(html)) == 3
    filter_panel = html[html.index('id="changelist-filter"') :]
    assert "Biology 101 office hours" in filter_panel and "Ecology seminar" not in filter_panel

    html = as_opal.get(url + f"?author={paula.pk}").content.decode()
    assert texts(html) == ["Cheap essays at spam.example", "Can I submit the lab report late?"]
    assert f'href="?author={paula.pk}"' in html


def test_the_chat_search_finds_text_and_authors(as_opal, held):
    url = admin_url(ChatMessage, "changelist")

    assert texts(as_opal.get(url + "?q=lab+report").content.decode()) == [
        "Can I submit the lab report late?"
    ]
    assert texts(as_opal.get(url + "?q=park").content.decode()) == [
        "Cheap essays at spam.example",
        "Can I submit the lab report late?",
    ]
    assert texts(as_opal.get(url + "?q=olivia").content.decode()) == [
        "Welcome! We start in five minutes."
    ]


def test_the_chat_list_shortens_long_messages(as_opal, held, paula):
    ChatMessage.objects.create(session=held, author=paula, body="word " * 100)

    html = as_opal.get(admin_url(ChatMessage, "changelist")).content.decode()

    assert ("word " * 15).strip() in html
    assert "word " * 20 not in html


def test_a_message_is_shown_as_text_not_html(as_opal, held, paula):
    services.participant_block(
        actor=User.objects.get(username="chad"),
        participant=Participant.objects.get(session=held, user=paula),
        blocked=False,
    )
    posted = services.message_post(
        author=paula, entry=held.room.media, body='<img src=x onerror="alert(1)">'
    )

    for url in (admin_url(ChatMessage, "changelist"), admin_url(ChatMessage, "change", posted.pk)):
        html = as_opal.get(url).content.decode()
        assert "<img src=x" not in html
        assert "&lt;img src=x" in html


def test_the_message_page_shows_who_deleted_it(as_opal, held):
    spam = message("Cheap essays at spam.example")

    html = as_opal.get(admin_url(ChatMessage, "change", spam.pk)).content.decode()

    assert "Cheap essays at spam.example" in html
    assert "Deleted by Chad Chen" in html
    assert admin_url(Session, "change", held.pk) in html


# Moderation actions and participants


def test_the_moderation_list_shows_actor_action_target_and_session(as_opal, held):
    html = results(as_opal.get(admin_url(ModerationAction, "changelist")).content.decode())

    row = row_with(html, "Deleted a message")
    spam = message("Cheap essays at spam.example")
    assert "Chad Chen" in row and "Paula Park" in row
    assert admin_url(ChatMessage, "change", spam.pk) in row
    assert "Biology 101 office hours" in row


def test_the_moderation_list_filters_by_action_and_session_and_searches_actors(
    as_opal, held, olivia
):
    other = services.room_create(owner=olivia, name="Ecology seminar")
    services.session_open(actor=olivia, entry=other)
    url = admin_url(ModerationAction, "changelist")

    def kinds(query: str) -> set[str]:
        html = results(as_opal.get(url + query).content.decode())
        return set(re.findall(r'<td class="field-action">([^<]+)</td>', html))

    assert kinds("?kind=message-delete") == {"Deleted a message"}
    assert kinds(f"?session={held.pk}") == {
        "Opened the room",
        "Started the session",
        "Cleared the chat",
        "Pinned a message",
        "Deleted a message",
        "Blocked from chat",
    }
    assert "Ecology seminar" not in results(
        as_opal.get(url + f"?session={held.pk}").content.decode()
    )
    assert kinds("?q=chad") == {
        "Cleared the chat",
        "Pinned a message",
        "Deleted a message",
        "Blocked from chat",
    }


def test_the_participants_list_shows_roles_and_blocks(as_opal, held, paula):
    url = admin_url(Participant, "changelist")

    html = results(as_opal.get(url + "?blocked=yes").content.decode())
    assert "Paula Park" in html and "Blocked by Chad Chen" in html
    assert "Rita Reyes" not in html
    html = results(as_opal.get(url + "?q=reyes").content.decode())
    assert "Rita Reyes" in html and "Room moderator" in html and "Paula Park" not in html


# Read-only for everyone, superusers included


@pytest.mark.parametrize("model", RECORD, ids=RECORD_IDS)
def test_nothing_is_added_to_the_record(as_opal, held, model):
    assert as_opal.get(admin_url(model, "add")).status_code == 403
    assert as_opal.post(admin_url(model, "add"), {}).status_code == 403


@pytest.mark.parametrize("model", RECORD, ids=RECORD_IDS)
def test_posting_to_a_change_page_changes_nothing(as_opal, held, model):
    obj = model.objects.order_by("pk").first()
    before = model.objects.filter(pk=obj.pk).values().get()

    response = as_opal.post(
        admin_url(model, "change", obj.pk),
        {"body": "Rewritten", "state": "ended", "locked": "on", "detail": "Rewritten"},
    )

    assert response.status_code == 403
    assert model.objects.filter(pk=obj.pk).values().get() == before


@pytest.mark.parametrize("model", RECORD, ids=RECORD_IDS)
def test_nothing_is_deleted_from_the_record(as_opal, held, model):
    obj = model.objects.order_by("pk").first()
    url = admin_url(model, "delete", obj.pk)

    assert as_opal.get(url).status_code == 403
    assert as_opal.post(url, {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()


@pytest.mark.parametrize("model", RECORD, ids=RECORD_IDS)
def test_the_record_offers_no_bulk_delete(as_opal, opal, held, model):
    request = RequestFactory().get("/admin/")
    request.user = opal
    assert admin.site.get_model_admin(model).get_actions(request) == {}
    changelist = admin_url(model, "changelist")
    assert "delete_selected" not in as_opal.get(changelist).content.decode()
    count = model.objects.count()

    response = as_opal.post(
        changelist,
        {
            "action": "delete_selected",
            "_selected_action": list(model.objects.values_list("pk", flat=True)),
            "post": "yes",
        },
    )

    assert response.status_code in (200, 302)
    assert model.objects.count() == count


def test_staff_given_view_permission_read_the_chat_but_cannot_delete(held, db):
    stan = UserFactory(username="stan", is_staff=True)
    stan.user_permissions.add(Permission.objects.get(codename="view_chatmessage"))
    as_stan = client_for(stan)
    spam = message("Cheap essays at spam.example")

    assert as_stan.get(admin_url(ChatMessage, "changelist")).status_code == 200
    assert as_stan.get(admin_url(ChatMessage, "change", spam.pk)).status_code == 200
    assert (
        as_stan.post(admin_url(ChatMessage, "delete", spam.pk), {"post": "yes"}).status_code == 403
    )
    assert as_stan.get(admin_url(Session, "changelist")).status_code == 403
