"""Every admin page answers the operator, and nobody else; the pages built for scale."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db.models import Model
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts.models import User
from accounts.tasks import mail_send
from mediaspace.management.commands.seed_demo import DEMO_PASSWORD
from mediaspace.models import AccessChange, MediaEntry, Module
from rooms.models import Room
from tests.admin.conftest import hold_a_session
from tests.conftest import client_for
from tests.factories import GroupFactory, UserFactory

# Every registered model, so that a newly registered one is covered without a new test.
REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
MODEL_IDS = [model._meta.label for model, _ in REGISTERED]


def admin_url(model: type[Model], view: str, *args) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def first_object(model: type[Model]) -> Model:
    obj = model._default_manager.order_by("pk").first()
    assert obj is not None, f"the demo data has no {model._meta.verbose_name}"
    return obj


@pytest.fixture
def demo(db) -> None:
    """The demo data, a session held in its Biology room, sign-ins and a queued task (so
    every model has a row)."""
    call_command("seed_demo", stdout=StringIO())
    hold_a_session(MediaEntry.objects.get(name="Biology 101 — Live office hours"))
    # A failed sign-in and a successful one, for Axes' lists.
    Client().post(reverse("login"), {"username": "paula", "password": "not her password"})
    Client().post(reverse("login"), {"username": "olivia", "password": DEMO_PASSWORD})
    # A task in the real queue, for the background tasks' list.
    mail_send.using(backend="database").enqueue(subject="Hello", body="Hi", to=["a@example.com"])


@pytest.fixture
def operator_request(opal) -> object:
    request = RequestFactory().get("/admin/")
    request.user = opal
    return request


def test_all_the_operators_models_are_registered():
    assert set(MODEL_IDS) >= {
        "accounts.User",
        "auth.Group",
        "mediaspace.MediaEntry",
        "mediaspace.AccessChange",
        "rooms.Room",
        "mediaspace.Module",
        "rooms.Session",
        "rooms.Participant",
        "rooms.ChatMessage",
        "rooms.ModerationAction",
    }


@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=MODEL_IDS)
def test_every_changelist_and_change_page_answers_a_superuser(
    demo, as_opal, operator_request, model, model_admin
):
    assert as_opal.get(admin_url(model, "changelist")).status_code == 200
    obj = first_object(model)
    assert as_opal.get(admin_url(model, "change", quote(obj.pk))).status_code == 200
    add = as_opal.get(admin_url(model, "add"))
    expected = 200 if model_admin.has_add_permission(operator_request) else 403
    assert add.status_code == expected


@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=MODEL_IDS)
def test_every_page_sends_a_signed_in_non_staff_user_to_the_admin_sign_in(demo, model, model_admin):
    as_olivia = client_for(User.objects.get(username="olivia"))
    obj = first_object(model)
    for url in (
        admin_url(model, "changelist"),
        admin_url(model, "change", quote(obj.pk)),
        admin_url(model, "add"),
    ):
        response = as_olivia.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=MODEL_IDS)
def test_every_page_refuses_staff_without_permissions(demo, as_staff, model, model_admin):
    obj = first_object(model)
    for url in (
        admin_url(model, "changelist"),
        admin_url(model, "change", quote(obj.pk)),
        admin_url(model, "add"),
        admin_url(model, "delete", quote(obj.pk)),
    ):
        assert as_staff.get(url).status_code == 403, url


@pytest.mark.parametrize("model", [MediaEntry, Room], ids=["media entry", "room"])
def test_the_object_permission_pages_answer_the_operator_and_refuse_staff(
    demo, as_opal, as_staff, model
):
    obj = first_object(model)
    user = User.objects.get(username="rita")
    group = Group.objects.get(name="Teaching Assistants")
    urls = [
        admin_url(model, "permissions", obj.pk),
        admin_url(model, "permissions_manage_user", obj.pk, user.pk),
        admin_url(model, "permissions_manage_group", obj.pk, group.pk),
    ]
    for url in urls:
        assert as_opal.get(url).status_code == 200, url
        assert as_staff.get(url).status_code == 403, url
    assert as_opal.get(admin_url(model, "permissions_manage_user", obj.pk, "x")).status_code == 404
    assert as_opal.get(admin_url(model, "permissions", "nope")).status_code == 404


def test_it_sends_anonymous_visitors_to_sign_in(client: Client, db):
    url = admin_url(MediaEntry, "changelist")
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def option_count(html: str) -> int:
    return len(re.findall(r"<option\b", html))


def test_the_group_page_edits_members_with_a_picker_that_lists_only_members(as_opal, olivia):
    UserFactory.create_batch(60)
    group = GroupFactory(name="Lab Helpers")
    group.user_set.add(olivia)

    html = as_opal.get(admin_url(Group, "change", group.pk)).content.decode()

    assert 'name="members"' in html and "admin-autocomplete" in html
    assert "Olivia Owens" in html
    # The member picker holds the one member; the 60 other people are found by searching.
    members_select = html[html.index('name="members"') :].split("</select>")[0]
    assert option_count(members_select) == 1


def test_saving_the_group_page_sets_its_members(as_opal, olivia, evan, oscar):
    group = GroupFactory(name="Lab Helpers")
    group.user_set.add(oscar)

    response = as_opal.post(
        admin_url(Group, "change", group.pk),
        {"name": "Lab Helpers", "members": [olivia.pk, evan.pk]},
    )

    assert response.status_code == 302
    assert set(group.user_set.all()) == {olivia, evan}


def test_the_group_list_shows_member_counts_linking_to_the_members(as_opal, olivia, evan):
    group = GroupFactory(name="Lab Helpers")
    group.user_set.add(olivia, evan)
    GroupFactory(name="Empty Group")

    html = as_opal.get(admin_url(Group, "changelist")).content.decode()

    members_url = admin_url(User, "changelist") + f"?group={group.pk}"
    assert f'href="{members_url}"' in html
    assert re.search(rf'href="{re.escape(members_url)}"[^>]*>2</a>', html)

    assert ">opal</a>" in as_opal.get(admin_url(User, "changelist")).content.decode()
    members_html = as_opal.get(members_url).content.decode()
    assert "olivia" in members_html and "evan" in members_html
    assert ">opal</a>" not in members_html
    assert "Lab Helpers" in members_html


def test_the_user_group_filter_does_not_list_every_group(as_opal, db):
    GroupFactory.create_batch(40)

    html = as_opal.get(admin_url(User, "changelist")).content.decode()

    assert "By group" in html
    assert "click its member count in the Groups list" in html
    assert "Group 1<" not in html


def test_the_user_change_page_picks_groups_by_search(as_opal, olivia):
    GroupFactory.create_batch(40)

    html = as_opal.get(admin_url(User, "change", olivia.pk)).content.decode()

    groups_select = html[html.index('name="groups"') :].split("</select>")[0]
    assert "admin-autocomplete" in html
    assert option_count(groups_select) == 0


def test_the_user_search_finds_people_by_the_start_of_any_name(as_opal, olivia, oscar):
    html = as_opal.get(admin_url(User, "changelist") + "?q=owe").content.decode()
    assert "Olivia Owens" in html and "Oscar Ortiz" not in html

    html = as_opal.get(admin_url(User, "changelist") + "?q=oscar@example").content.decode()
    assert "Oscar Ortiz" in html and "Olivia Owens" not in html


def test_the_person_picker_searches_through_the_user_admin(as_opal, olivia, oscar):
    response = as_opal.get(
        reverse("admin:autocomplete"),
        {"app_label": "accounts", "model_name": "namekey", "field_name": "user", "term": "oli"},
    )

    assert response.status_code == 200
    assert [result["text"] for result in response.json()["results"]] == ["Olivia Owens"]


def test_the_person_picker_refuses_staff_without_permissions(as_staff, olivia):
    response = as_staff.get(
        reverse("admin:autocomplete"),
        {"app_label": "accounts", "model_name": "namekey", "field_name": "user", "term": "oli"},
    )
    assert response.status_code == 403


def test_adding_a_user_keeps_the_display_name_and_makes_them_findable(as_opal, db):
    response = as_opal.post(
        admin_url(User, "add"),
        {
            "username": "nadia",
            "display_name": "Nadia Novak",
            "email": "nadia@example.com",
            "usable_password": "true",
            "password1": "a long and unusual passphrase",
            "password2": "a long and unusual passphrase",
        },
    )

    assert response.status_code == 302
    user = User.objects.get(username="nadia")
    assert user.name == "Nadia Novak"
    assert set(user.name_keys.values_list("key", flat=True)) >= {"nadia", "novak"}


def test_the_media_owner_filter_lists_only_the_chosen_owner(as_opal, lecture, oscar):
    UserFactory.create_batch(30)
    url = admin_url(MediaEntry, "changelist")

    html = as_opal.get(url).content.decode()
    assert "Click an owner in the list" in html
    assert f'href="?owner={lecture.owner_id}"' in html

    html = as_opal.get(url + f"?owner={lecture.owner_id}").content.decode()
    filter_panel = html[html.index('id="changelist-filter"') :]
    assert "Olivia Owens" in filter_panel and "Oscar Ortiz" not in filter_panel
    assert "Cell structure lecture" in html

    html = as_opal.get(url + f"?owner={oscar.pk}").content.decode()
    assert "Cell structure lecture" not in html


def test_a_malformed_filter_value_does_not_break_the_list(as_opal, lecture):
    response = as_opal.get(admin_url(MediaEntry, "changelist") + "?owner=abc")
    assert response.status_code == 302
    assert "e=1" in response["Location"]


def test_adding_a_room_in_the_admin_creates_its_room_record(as_opal, olivia):
    response = as_opal.post(
        admin_url(MediaEntry, "add"),
        {
            "owner": olivia.pk,
            "name": "  Genetics study group ",
            "media_type": MediaEntry.Type.ROOM,
            "status": MediaEntry.Status.PRIVATE,
            "tags": "genetics,  Genetics, live",
        },
    )

    assert response.status_code == 302
    entry = MediaEntry.objects.get(name="Genetics study group")
    assert entry.tags == "genetics, live"
    assert Room.objects.filter(media=entry).exists()


def test_changing_an_entry_keeps_its_owner_and_type(as_opal, lecture, oscar):
    response = as_opal.post(
        admin_url(MediaEntry, "change", lecture.pk),
        {
            "name": "Cell structure (2nd edition)",
            "status": MediaEntry.Status.PUBLISHED,
            "description": "Updated.",
            "tags": "biology",
            "owner": oscar.pk,
            "media_type": MediaEntry.Type.ROOM,
        },
    )

    assert response.status_code == 302
    lecture.refresh_from_db()
    assert lecture.name == "Cell structure (2nd edition)"
    assert lecture.status == MediaEntry.Status.PUBLISHED
    assert lecture.owner.username == "olivia"
    assert lecture.media_type == MediaEntry.Type.VIDEO


def test_the_module_list_explains_the_switch_and_flips_it(as_opal, moderation_on):
    url = admin_url(Module, "changelist")
    html = as_opal.get(url).content.decode()
    assert "While off, moderator grants are kept but grant nothing" in html

    response = as_opal.post(
        url,
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": moderation_on.pk,
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    moderation_on.refresh_from_db()
    assert moderation_on.enabled is False


def test_the_module_page_explains_the_switch(as_opal, moderation_on):
    html = as_opal.get(admin_url(Module, "change", moderation_on.pk)).content.decode()
    assert "ChatandCollaboration: Room and chat moderators and room chat." in html


def test_rooms_are_neither_added_nor_deleted_in_the_admin(as_opal, room):
    assert as_opal.get(admin_url(Room, "add")).status_code == 403
    assert as_opal.get(admin_url(Room, "delete", room.pk)).status_code == 403
    html = as_opal.get(admin_url(Room, "changelist")).content.decode()
    assert "Biology 101 office hours" in html and "Olivia Owens" in html
    assert admin_url(Room, "permissions", room.pk) in html


def test_the_audit_log_refuses_to_be_added_to(as_opal, room):
    assert as_opal.get(admin_url(AccessChange, "add")).status_code == 403
    assert as_opal.post(admin_url(AccessChange, "add"), {}).status_code == 403


def test_the_audit_log_shows_a_record_without_a_way_to_change_it(as_opal, room):
    change = AccessChange.objects.filter(principal_name="Rita Reyes").get()
    url = admin_url(AccessChange, "change", change.pk)

    html = as_opal.get(url).content.decode()
    assert "Rita Reyes" in html and "Room moderator" in html
    assert 'name="_save"' not in html and 'name="_continue"' not in html
    assert "deletelink" not in html

    response = as_opal.post(url, {"principal_name": "Someone else", "after": "[]"})
    assert response.status_code == 403
    change.refresh_from_db()
    assert change.principal_name == "Rita Reyes"
    assert change.after == ["room-moderator"]


def test_the_audit_log_refuses_deletion(as_opal, room):
    change = AccessChange.objects.first()
    url = admin_url(AccessChange, "delete", change.pk)

    assert as_opal.get(url).status_code == 403
    assert as_opal.post(url, {"post": "yes"}).status_code == 403
    assert AccessChange.objects.filter(pk=change.pk).exists()


def test_the_audit_log_offers_no_bulk_delete(as_opal, room, operator_request):
    model_admin = admin.site.get_model_admin(AccessChange)
    assert model_admin.get_actions(operator_request) == {}
    changelist = admin_url(AccessChange, "changelist")
    assert "delete_selected" not in as_opal.get(changelist).content.decode()

    response = as_opal.post(
        changelist,
        {
            "action": "delete_selected",
            "_selected_action": list(AccessChange.objects.values_list("pk", flat=True)),
            "post": "yes",
        },
    )
    assert response.status_code in (200, 302)
    assert AccessChange.objects.count() == 3


def test_the_audit_log_filters_by_entry_actor_user_and_group(
    as_opal, room, lecture, olivia, rita, teaching_assistants
):
    from mediaspace import services
    from mediaspace.permissions import Role

    services.access_set(
        actor=None, entry=room, principal=teaching_assistants, roles=[Role.CHAT_MODERATOR]
    )
    url = admin_url(AccessChange, "changelist")

    def principals(query: str) -> set[str]:
        html = as_opal.get(url + query).content.decode()
        results = html[html.index('id="result_list"') :].split("</table>")[0]
        return set(re.findall(r'title="Show only changes to ([^"]+?)&#x27;s access"', results))

    assert principals(f"?entry={room.pk}") == {
        "Evan Edwards",
        "Rita Reyes",
        "Chad Chen",
        "Teaching Assistants",
    }
    assert principals(f"?user={rita.pk}") == {"Rita Reyes"}
    assert principals(f"?group={teaching_assistants.pk}") == {"Teaching Assistants"}
    assert principals(f"?actor={olivia.pk}&entry={lecture.pk}") == {
        "Evan Edwards",
        "Piper Price",
        "Victor Vance",
    }
    assert principals("?q=teaching") == {"Teaching Assistants"}
    html = as_opal.get(url + f"?entry={room.pk}").content.decode()
    filter_panel = html[html.index('id="changelist-filter"') :]
    assert "Biology 101 office hours" in filter_panel
    assert "Cell structure lecture" not in filter_panel
