"""Bad input gets a 4xx answer, never a 500: ids, principal keys, cursors, NUL bytes, refusals.

Each case here came from a black-box run that found a 500 or the wrong status:

1. ids in `/media/<id>/…` and `/rooms/<id>/…` URLs. The routes are read from the resolver, so
   a new URL is covered as soon as it exists. An id beyond 64 bits, or one that names no row,
   gets a 404. That holds for the entry id and for the second id (participant, message,
   principal).
2. Malformed and unknown `principals` in the Add moderators and Add collaborators dialogs.
   The form answers with the error next to the field and changes nothing.
3. Malformed list-state cursors (`after`, `added`, `pages`) on Load more and on an htmx Add.
4. NUL bytes in every search box and in the principals. PostgreSQL refuses to store them.
5. Confirmation dialogs: 403 for people who may see the entry but may not act, 404 for
   people who cannot see it, 200 for the rest.
6. More cases found by reading the views: `?before=` on the room page, the poll's cursor,
   principal kinds, the filters of My Media and the NUL bytes of the other forms.

Run them on SQLite and on PostgreSQL (prefix DATABASE_URL=postgres://…).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from urllib.parse import quote

import pytest
from django.contrib.auth.models import Group
from django.http import HttpResponse
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from guardian.models import GroupObjectPermission, UserObjectPermission

from mediaspace import permissions
from mediaspace import services as media_services
from mediaspace.access import EntryAccess
from mediaspace.models import AccessChange, MediaEntry
from mediaspace.permissions import Role
from rooms import selectors as room_selectors
from rooms import services as room_services
from rooms.models import ChatMessage, Participant, Session
from tests.conftest import HTMX, client_for

INVALID = "One of the chosen users or groups is not valid. Remove it and try again."
MEGABYTE = 1_000_000
SMALL = 100_000  # an answer to a megabyte of input stays below this: nothing echoed back
UNDER_THE_CAP = 200_000  # a body the app still reads (settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


# Helpers -------------------------------------------------------------------------------

PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


def _walk(patterns: list, prefix: str = "") -> Iterator[tuple[str, str, Callable]]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
        elif route.startswith(("media/", "rooms/")) and "<id:" in route:
            yield pattern.name, route, pattern.callback


def accepted_methods(view: Callable) -> tuple[str, ...]:
    """Return the methods that the view's require_http_methods decorator lets through.

    The method list is read from the decorator's closure, walking down through the wraps.
    A view with no such decorator accepts GET and POST.
    """
    func: Callable | None = view
    while func is not None:
        if inspect.isfunction(func):
            methods = inspect.getclosurevars(func).nonlocals.get("request_method_list")
            if methods is not None:
                return tuple(methods)
        func = getattr(func, "__wrapped__", None)
    return ("GET", "POST")


# (name, route, methods) of every URL that has an id, as the resolver has them.
ID_ROUTES = sorted(
    (name, route, accepted_methods(view))
    for name, route, view in _walk(get_resolver().url_patterns)
)
# Those with a second id after the entry's (participant, message, principal).
SECOND_ID_ROUTES = [
    (name, route, methods)
    for name, route, methods in ID_ROUTES
    if any(
        found["converter"] == "id" and found["name"] != "entry_id"
        for found in PARAMETER.finditer(route)
    )
]


def fill(route: str, entry_id: object, other_id: object = 1, kind: str = "user") -> str:
    """Return the route's path with the entry's id, the second id and the principal's kind."""

    def value(found: re.Match) -> str:
        if found["name"] == "entry_id":
            return str(entry_id)
        if found["name"] == "kind":
            return quote(kind)
        return str(other_id)

    return "/" + PARAMETER.sub(value, route)


# What POSTs send: enough that each form is valid, so each view gets as far as its lookups.
POST_DATA = {
    "body": "Hello",
    "principals": "user:1",
    "roles": Role.ROOM_MODERATOR.value,
    "status": MediaEntry.Status.PUBLISHED.value,
    "name": "Renamed",
}


def send(client: Client, method: str, url: str, **extra: str) -> HttpResponse:
    if method == "POST":
        return client.post(url, POST_DATA, **extra)
    return client.generic(method, url, **extra)


def route_cases(routes: list[tuple[str, str, tuple[str, ...]]], values: dict[str, int]) -> list:
    return [
        pytest.param(route, method, value, id=f"{name}-{method}-{label}")
        for name, route, methods in routes
        for method in methods
        for label, value in values.items()
    ]


def field_errors(response: HttpResponse, field: str) -> str:
    """Return the text of the error block next to a field of a dialog's form ("" if none)."""
    found = re.search(
        rf'<div class="field-error" id="{field}-error">(.*?)</div>',
        response.content.decode(),
        re.DOTALL,
    )
    return found.group(1) if found else ""


def grant_rows() -> tuple[int, int, int, int]:
    """Return how many grants there are: changes, guardian's rows, the read model's rows."""
    return (
        AccessChange.objects.count(),
        UserObjectPermission.objects.count(),
        GroupObjectPermission.objects.count(),
        EntryAccess.objects.count(),
    )


def participant_of(session: Session, user) -> Participant:
    return Participant.objects.get(session=session, user=user)


# Fixtures: the room Unlisted and live, or private and live -------------------------------


@pytest.fixture
def open_room(room, olivia) -> MediaEntry:
    """The room, Unlisted so that every signed-in user (Paula, Oscar) can see it."""
    return media_services.media_status_set(
        actor=olivia, entry=room, status=MediaEntry.Status.UNLISTED
    )


@pytest.fixture
def live(open_room, olivia, paula, chad, rita) -> Session:
    """A live session in the open room: Olivia started it, Rita, Chad and Paula joined."""
    session = room_services.session_start(actor=olivia, entry=open_room)
    for user in (rita, chad, paula):
        room_services.participant_join(user=user, entry=open_room)
    return session


@pytest.fixture
def private_live(room, olivia, rita, chad) -> Session:
    """A live session in the private room: Olivia started it, Rita and Chad joined."""
    session = room_services.session_start(actor=olivia, entry=room)
    for user in (rita, chad):
        room_services.participant_join(user=user, entry=room)
    return session


@pytest.fixture
def message(live, paula, open_room) -> ChatMessage:
    return room_services.message_post(author=paula, entry=open_room, body="A question")


@pytest.fixture
def as_(request) -> Callable[[str], Client]:
    """Return a function that gives a signed-in client for a persona, by fixture name."""
    return lambda name: client_for(request.getfixturevalue(name))


# 1. Ids in every /media/<id>/… and /rooms/<id>/… URL -----------------------------------

OVERSIZED_IDS = {
    "20-digits": 99999999999999999999,
    "2**63": 9223372036854775808,
    "2**64": 18446744073709551616,
}
MISSING_IDS = {
    "zero": 0,
    "2**31": 2147483648,  # beyond 32 bits: auth_group's ids are 32-bit on PostgreSQL
    "18-nines": 999999999999999999,
    "2**63-1": 9223372036854775807,
}


def test_the_resolver_gives_every_id_route_with_its_methods():
    names = {name for name, _, _ in ID_ROUTES}
    assert {"media_detail", "media_roles", "access_edit", "room_detail", "message_pin"} <= names
    assert {name for name, _, _ in SECOND_ID_ROUTES} >= {
        "access_edit",
        "access_remove",
        "participant_manage",
        "message_delete",
    }
    methods = {name: methods for name, _, methods in ID_ROUTES}
    assert methods["room_poll"] == ("GET",)
    assert methods["message_pin"] == ("POST",)
    assert set(methods["media_delete"]) == {"GET", "POST"}


def test_the_introspected_methods_match_the_views_answers(as_olivia, lecture):
    """The 405's Allow header names the same methods as the decorator's closure."""
    for name, route, methods in ID_ROUTES:
        response = as_olivia.generic("PATCH", fill(route, lecture.pk))
        assert response.status_code == 405, name
        assert set(response["Allow"].split(", ")) == set(methods), name


@pytest.mark.parametrize(("route", "method", "entry_id"), route_cases(ID_ROUTES, OVERSIZED_IDS))
def test_an_entry_id_beyond_64_bits_is_404(as_olivia, route, method, entry_id):
    assert send(as_olivia, method, fill(route, entry_id)).status_code == 404


@pytest.mark.parametrize(("route", "method", "entry_id"), route_cases(ID_ROUTES, MISSING_IDS))
def test_an_entry_id_that_names_no_entry_is_404(as_olivia, olivia, route, method, entry_id):
    assert send(as_olivia, method, fill(route, entry_id, olivia.pk)).status_code == 404
    assert send(as_olivia, method, fill(route, entry_id, olivia.pk), **HTMX).status_code == 404


def second_id_cases(values: dict[str, int]) -> list:
    """Return the cases of the second id: for a principal's, each kind of principal."""
    cases = []
    for name, route, methods in SECOND_ID_ROUTES:
        kinds = ("user", "group") if "<str:kind>" in route else ("user",)
        for kind in kinds:
            prefix = f"{name}-{kind}" if len(kinds) > 1 else name
            cases += [
                pytest.param(route, method, value, kind, id=f"{prefix}-{method}-{label}")
                for method in methods
                for label, value in values.items()
            ]
    return cases


@pytest.mark.parametrize(
    ("route", "method", "other_id", "kind"), second_id_cases(OVERSIZED_IDS | MISSING_IDS)
)
def test_a_second_id_beyond_64_bits_or_naming_no_row_is_404(
    as_olivia, live, open_room, route, method, other_id, kind
):
    before = grant_rows()

    assert send(as_olivia, method, fill(route, open_room.pk, other_id, kind)).status_code == 404
    assert grant_rows() == before


@pytest.mark.parametrize(("route", "method", "other_id", "kind"), second_id_cases({"real": 0}))
def test_the_same_routes_with_real_ids_are_found(
    as_olivia,
    olivia,
    message,
    paula,
    chad,
    teaching_assistants,
    open_room,
    route,
    method,
    other_id,
    kind,
):
    """The control of the test above: with ids that name rows, nothing is a 404."""
    media_services.access_set(
        actor=olivia, entry=open_room, principal=teaching_assistants, roles=[Role.CHAT_MODERATOR]
    )
    if "participants/" in route:
        other_id = participant_of(message.session, paula).pk
    elif "messages/" in route:
        other_id = message.pk
    else:
        other_id = teaching_assistants.pk if kind == "group" else chad.pk

    status = send(as_olivia, method, fill(route, open_room.pk, other_id, kind)).status_code

    assert status not in (404, 405)
    assert status < 500


@pytest.mark.parametrize(
    "name", ["participant_manage", "participant_remove", "participant_block", "message_pin"]
)
def test_a_row_of_another_room_or_session_is_404(as_olivia, olivia, live, open_room, name):
    """A participant of an ended session, a message of another room: not found here."""
    other = room_services.room_create(owner=olivia, name="Another room")
    room_services.session_start(actor=olivia, entry=other)
    foreign_message = room_services.message_post(author=olivia, entry=other, body="Elsewhere")
    foreign_participant = participant_of(Session.objects.get(room_id=other.pk), olivia)
    other_id = foreign_message.pk if name.startswith("message") else foreign_participant.pk
    url = reverse(name, args=[open_room.pk, other_id])

    response = as_olivia.get(url) if name == "participant_manage" else as_olivia.post(url)

    assert response.status_code == 404


# 2. Malformed and unknown principals in the Add dialogs ---------------------------------

BAD_PRINCIPALS = {
    "20-digit-id": "user:99999999999999999999",
    "19-digit-id": "user:9223372036854775808",
    "superscript-two": "user:²",
    "arabic-indic-three": "user:٣",
    "fullwidth-one": "user:１",
    "negative-group": "group:-1",
    "no-id": "user:",
    "unknown-kind": "nobody:1",
    "two-ids": "user:1:2",
    "spaces": " user:1 ",
    "nul-byte": "user:1\x00",
    "only-nul": "\x00",
    "200-kilobytes-of-digits": "user:" + "9" * UNDER_THE_CAP,
}
MISSING_PRINCIPALS = {
    "user-18-nines": ("user:999999999999999999", "That user no longer exists."),
    "user-2**31": ("user:2147483648", "That user no longer exists."),
    "group-2**31": ("group:2147483648", "That group no longer exists."),
    "group-18-nines": ("group:999999999999999999", "That group no longer exists."),
}
ADD_DIALOGS = {
    "moderators": ("moderators_add", "room", Role.ROOM_MODERATOR),
    "collaborators": ("collaborators_add", "lecture", Role.CO_VIEWER),
}
HTMX_OR_NOT = {"page": {}, "htmx": HTMX}


def add_cases(values: dict) -> list:
    return [
        pytest.param(dialog, headers, value, id=f"{dialog}-{how}-{label}")
        for dialog in ADD_DIALOGS
        for how, headers in HTMX_OR_NOT.items()
        for label, value in values.items()
    ]


def dialog_entry(request, dialog: str) -> MediaEntry:
    """Return the entry of an Add dialog (the room, or the lecture), made before counting."""
    return request.getfixturevalue(ADD_DIALOGS[dialog][1])


def post_add(request, dialog: str, principals: list[str], headers: dict, **state) -> HttpResponse:
    name, _, role = ADD_DIALOGS[dialog]
    entry = dialog_entry(request, dialog)
    client = client_for(request.getfixturevalue("olivia"))
    data = {"principals": principals, "roles": [role.value], **state}
    return client.post(reverse(name, args=[entry.pk]), data, **headers)


@pytest.mark.parametrize(("dialog", "headers", "value"), add_cases(BAD_PRINCIPALS))
def test_a_malformed_principal_is_refused_next_to_the_field(request, paula, dialog, headers, value):
    dialog_entry(request, dialog)
    before = grant_rows()

    response = post_add(request, dialog, [f"user:{paula.pk}", value], headers)

    assert response.status_code == 200
    assert INVALID in field_errors(response, "principals")
    assert len(response.content) < SMALL
    assert grant_rows() == before


@pytest.mark.parametrize(("dialog", "headers", "value"), add_cases(MISSING_PRINCIPALS))
def test_a_principal_that_names_no_one_is_refused_next_to_the_field(
    request, paula, dialog, headers, value
):
    key, error = value
    dialog_entry(request, dialog)
    before = grant_rows()

    response = post_add(request, dialog, [f"user:{paula.pk}", key], headers)

    assert response.status_code == 200
    assert error in field_errors(response, "principals")
    assert grant_rows() == before


@pytest.mark.parametrize("headers", HTMX_OR_NOT.values(), ids=HTMX_OR_NOT.keys())
@pytest.mark.parametrize("dialog", ADD_DIALOGS)
def test_a_hundred_thousand_principals_are_refused_without_echoing_them(request, dialog, headers):
    dialog_entry(request, dialog)
    before = grant_rows()

    response = post_add(request, dialog, ["user:1"] * 100_000, headers)

    assert response.status_code in (200, 400)  # 400: more fields than Django reads
    assert len(response.content) < SMALL
    assert grant_rows() == before


# 3. Malformed list-state cursors: Load more, and an htmx Add that carries them ----------

BAD_CURSORS = {
    "20-digit-id": "2:99999999999999999999:x",
    "19-digit-id": "1:9223372036854775808:x",
    "superscript-id": "1:²:x",
    "arabic-indic-id": "1:٣:x",
    "garbage": "garbage",
    "nul-key": "0:5:\x00",
    "nul-everywhere": "\x00:\x00:\x00",
    "unknown-kind": "3:1:x",
    "empty": "",
    "long-key": "1:1:" + "x" * 10_000,
}
BAD_LIST_STATES = {
    "added-20-digits": {"added": "user:99999999999999999999"},
    "added-2**31-group": {"added": "group:2147483648"},
    "added-18-nines": {"added": ["user:999999999999999999", "group:999999999999999999"]},
    "added-garbage": {"added": ["\x00", "user:²", "nobody:1"]},
    "pages-superscript": {"pages": "²"},
    "pages-arabic-indic": {"pages": "٣"},
    "pages-huge": {"pages": "9" * 5000},
    "pages-negative": {"pages": "-5"},
    "page-huge": {"page": "99999999999999999999"},
    "role-owner": {"role": "owner"},
    "role-garbage": {"role": "\x00"},
    "q-nul": {"q": "\x00"},
    "q-long": {"q": "ev" * 10_000},
}
LOAD_MORE = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "access-table"}


def state_cases() -> list:
    cursors = {f"after-{label}": {"after": value} for label, value in BAD_CURSORS.items()}
    return [pytest.param(state, id=label) for label, state in (cursors | BAD_LIST_STATES).items()]


@pytest.mark.parametrize("state", state_cases())
@pytest.mark.parametrize("entry_fixture", ["room", "lecture"])
def test_load_more_with_a_malformed_list_state_answers_the_list(
    request, as_olivia, entry_fixture, state
):
    entry = request.getfixturevalue(entry_fixture)
    url = reverse("media_roles", args=[entry.pk])

    assert as_olivia.get(url, state, **LOAD_MORE).status_code == 200
    assert as_olivia.get(url, state, HTTP_HX_REQUEST="true").status_code == 200
    assert as_olivia.get(url, state).status_code == 200


@pytest.mark.parametrize("state", state_cases())
def test_an_htmx_add_with_a_malformed_list_state_still_adds(request, paula, room, state):
    """The dialog's form carries #access-more's inputs (q, role, pages, after, added)."""
    full_state = {"q": "", "role": "", "pages": "1", "after": "1:0:", **state}

    response = post_add(request, "moderators", [f"user:{paula.pk}"], HTMX, **full_state)

    assert response.status_code == 200
    assert Role.ROOM_MODERATOR in permissions.principal_roles(room, paula)


# 4. NUL bytes in every search box, and in the principals -------------------------------

NUL_SEARCHES = {
    "inside": "ev\x00an",
    "only": "\x00",
    "around": "\x00pa\x00",
    "many": "\x00" * 300,
}
ROLES_TARGETS = {
    "page": {},
    "htmx": HTMX,
    "list": {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "access-list"},
    "load-more": LOAD_MORE,
}


@pytest.mark.parametrize("q", NUL_SEARCHES.values(), ids=NUL_SEARCHES.keys())
@pytest.mark.parametrize("headers", ROLES_TARGETS.values(), ids=ROLES_TARGETS.keys())
def test_a_nul_in_the_roles_search_answers_the_list(as_olivia, room, q, headers):
    response = as_olivia.get(reverse("media_roles", args=[room.pk]), {"q": q}, **headers)

    assert response.status_code == 200


@pytest.mark.parametrize("q", NUL_SEARCHES.values(), ids=NUL_SEARCHES.keys())
def test_a_nul_in_the_suggestions_query_answers_suggestions(as_olivia, room, paula, q):
    response = as_olivia.get(reverse("principals_suggest", args=[room.pk]), {"q": q})

    assert response.status_code == 200
    assert isinstance(response.json()["results"], list)


@pytest.mark.parametrize("q", NUL_SEARCHES.values(), ids=NUL_SEARCHES.keys())
@pytest.mark.parametrize(
    "headers",
    [{}, HTMX, {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "media-table"}],
    ids=["page", "htmx", "load-more"],
)
def test_a_nul_in_my_medias_search_answers_the_list(as_olivia, lecture, q, headers):
    response = as_olivia.get(reverse("my_media"), {"q": q, "page": "2"}, **headers)

    assert response.status_code == 200


@pytest.mark.parametrize("headers", HTMX_OR_NOT.values(), ids=HTMX_OR_NOT.keys())
def test_a_nul_in_the_principals_is_refused_next_to_the_field(request, headers):
    dialog_entry(request, "moderators")
    before = grant_rows()

    response = post_add(request, "moderators", ["\x00", "user:\x00"], headers)

    assert response.status_code == 200
    assert INVALID in field_errors(response, "principals")
    assert grant_rows() == before


@pytest.mark.parametrize(
    ("name", "entry_fixture", "data"),
    [
        pytest.param("media_edit", "lecture", {"name": "Cell\x00"}, id="media-name"),
        pytest.param("media_edit", "lecture", {"name": "Cell", "tags": "\x00"}, id="media-tags"),
        pytest.param("media_status", "lecture", {"status": "\x00"}, id="media-status"),
        pytest.param("message_post", "open_room", {"body": "Hi\x00"}, id="message-body"),
        pytest.param("access_edit", "lecture", {"roles": "\x00"}, id="access-roles"),
    ],
)
@pytest.mark.parametrize("headers", HTMX_OR_NOT.values(), ids=HTMX_OR_NOT.keys())
def test_a_nul_in_another_form_is_refused(
    request, as_olivia, live, victor, name, entry_fixture, data, headers
):
    entry = request.getfixturevalue(entry_fixture)
    args = [entry.pk, "user", victor.pk] if name == "access_edit" else [entry.pk]
    before = (grant_rows(), ChatMessage.objects.count())

    response = as_olivia.post(reverse(name, args=args), data, **headers)

    assert response.status_code in (200, 302)
    assert (grant_rows(), ChatMessage.objects.count()) == before
    entry.refresh_from_db()
    assert "\x00" not in entry.name + entry.tags


@pytest.mark.parametrize("headers", HTMX_OR_NOT.values(), ids=HTMX_OR_NOT.keys())
def test_a_nul_in_a_new_rooms_name_is_refused(as_olivia, headers):
    response = as_olivia.post(reverse("room_create"), {"name": "Room\x00"}, **headers)

    assert response.status_code == 200
    assert not MediaEntry.objects.filter(media_type=MediaEntry.Type.ROOM).exists()


# 5. Confirmation dialogs: 403 to those who see but may not act, 404 to those who don't see

OPEN_ROOM_CONFIRMATIONS = [
    ("session_end", "paula", 403),
    ("session_end", "chad", 403),
    ("session_end", "oscar", 403),
    ("session_end", "rita", 200),
    ("session_end", "olivia", 200),
    ("chat_clear", "paula", 403),
    ("chat_clear", "rita", 403),
    ("chat_clear", "oscar", 403),
    ("chat_clear", "chad", 200),
    ("chat_clear", "olivia", 200),
    ("participant_manage", "paula", 403),
    ("participant_manage", "oscar", 403),
    ("participant_manage", "rita", 200),
    ("participant_manage", "chad", 200),
    ("participant_manage", "olivia", 200),
]
PRIVATE_ROOM_CONFIRMATIONS = [
    ("session_end", "oscar", 404),
    ("session_end", "paula", 404),
    ("session_end", "chad", 403),
    ("session_end", "rita", 200),
    ("chat_clear", "oscar", 404),
    ("chat_clear", "paula", 404),
    ("chat_clear", "rita", 403),
    ("chat_clear", "chad", 200),
    ("participant_manage", "oscar", 404),
    ("participant_manage", "paula", 404),
    ("participant_manage", "chad", 200),
]
LECTURE_CONFIRMATIONS = [
    ("media_delete", "evan", 403),
    ("media_delete", "piper", 403),
    ("media_delete", "victor", 403),
    ("media_delete", "oscar", 404),
    ("media_delete", "olivia", 200),
    ("access_remove", "evan", 403),
    ("access_remove", "piper", 403),
    ("access_remove", "victor", 403),
    ("access_remove", "oscar", 404),
    ("access_remove", "olivia", 200),
    ("access_edit", "evan", 403),
    ("access_edit", "piper", 403),
    ("access_edit", "oscar", 404),
    ("access_edit", "olivia", 200),
    ("collaborators_add", "evan", 403),
    ("collaborators_add", "victor", 403),
    ("collaborators_add", "oscar", 404),
    ("collaborators_add", "olivia", 200),
]
ROOM_ROLE_CONFIRMATIONS = [
    ("moderators_add", "rita", 403),
    ("moderators_add", "chad", 403),
    ("moderators_add", "oscar", 404),
    ("moderators_add", "evan", 200),
    ("access_remove", "rita", 403),
    ("access_remove", "oscar", 404),
    ("access_remove", "evan", 200),
    ("access_edit", "chad", 403),
    ("access_edit", "evan", 200),
]


def confirmation_cases(cases: list[tuple[str, str, int]]) -> list:
    return [
        pytest.param(name, persona, status, headers, id=f"{name}-{persona}-{how}-{status}")
        for name, persona, status in cases
        for how, headers in HTMX_OR_NOT.items()
    ]


@pytest.mark.parametrize(
    ("name", "persona", "status", "headers"), confirmation_cases(OPEN_ROOM_CONFIRMATIONS)
)
def test_the_open_rooms_confirmations(as_, live, open_room, paula, name, persona, status, headers):
    args = [open_room.pk]
    if name == "participant_manage":
        args.append(participant_of(live, paula).pk)

    assert as_(persona).get(reverse(name, args=args), **headers).status_code == status


@pytest.mark.parametrize(
    ("name", "persona", "status", "headers"), confirmation_cases(PRIVATE_ROOM_CONFIRMATIONS)
)
def test_the_private_rooms_confirmations(
    as_, private_live, room, rita, name, persona, status, headers
):
    args = [room.pk]
    if name == "participant_manage":
        args.append(participant_of(private_live, rita).pk)

    assert as_(persona).get(reverse(name, args=args), **headers).status_code == status


@pytest.mark.parametrize(
    ("name", "persona", "status", "headers"), confirmation_cases(LECTURE_CONFIRMATIONS)
)
def test_the_lectures_confirmations(as_, lecture, victor, name, persona, status, headers):
    args = [lecture.pk]
    if name.startswith("access_"):
        args += ["user", victor.pk]

    assert as_(persona).get(reverse(name, args=args), **headers).status_code == status


@pytest.mark.parametrize(
    ("name", "persona", "status", "headers"), confirmation_cases(ROOM_ROLE_CONFIRMATIONS)
)
def test_the_rooms_role_dialogs(as_, room, chad, name, persona, status, headers):
    """Rita and Chad moderate the private room: they see it, but may not manage its roles."""
    args = [room.pk]
    if name.startswith("access_"):
        args += ["user", chad.pk]

    assert as_(persona).get(reverse(name, args=args), **headers).status_code == status


# 6. More: the chat's ?before=, the poll's cursor, principal kinds, My Media's filters ----

BAD_BEFORE = {
    "19-digits": "1" * 19,
    "20-digits": "99999999999999999999",
    "superscript-two": "²",
    "arabic-indic-three": "٣",
    "fullwidth-one": "１",
    "negative": "-1",
    "empty": "",
    "decimal-point": "1.5",
    "spaces": " 1 ",
    "nul": "1\x00",
    "megabyte": "9" * MEGABYTE,
}


@pytest.mark.parametrize("before", BAD_BEFORE.values(), ids=BAD_BEFORE.keys())
@pytest.mark.parametrize("headers", HTMX_OR_NOT.values(), ids=HTMX_OR_NOT.keys())
def test_a_malformed_before_on_the_room_page_is_400(as_olivia, live, open_room, before, headers):
    response = as_olivia.get(
        reverse("room_detail", args=[open_room.pk]), {"before": before}, **headers
    )

    assert response.status_code == 400
    assert len(response.content) < SMALL


@pytest.mark.parametrize("headers", HTMX_OR_NOT.values(), ids=HTMX_OR_NOT.keys())
@pytest.mark.parametrize("before", ["1", "999999999999999999"], ids=["one", "18-nines"])
def test_a_well_formed_before_on_the_room_page_answers(
    as_olivia, message, open_room, before, headers
):
    response = as_olivia.get(
        reverse("room_detail", args=[open_room.pk]), {"before": before}, **headers
    )

    assert response.status_code == 200


BAD_POLL_CURSORS = {
    "empty": "",
    "garbage": "garbage",
    "three-parts": "1.2.0",
    "six-parts": "1.2.0.0.0.0",
    "notice-2": "1.2.2.0",
    "chat-2": "1.2.0.2",
    "negative": "-1.2.0.0",
    "19-digits": "1" * 19 + ".0.0.0",
    "20-digit-seq": "1.99999999999999999999.0.0",
    "superscript": "².1.0.0",
    "arabic-indic": "٣.٣.٠.٠",
    "fullwidth": "１.１.0.0",
    "nul": "1.2.0.0\x00",
    "empty-parts": "...",
    "megabyte": "9" * MEGABYTE,
}


@pytest.mark.parametrize("after", BAD_POLL_CURSORS.values(), ids=BAD_POLL_CURSORS.keys())
def test_a_malformed_poll_cursor_is_400(as_olivia, live, open_room, after):
    response = as_olivia.get(reverse("room_poll", args=[open_room.pk]), {"after": after}, **HTMX)

    assert response.status_code == 400
    assert len(response.content) < SMALL


def test_a_well_formed_poll_cursor_answers(as_olivia, olivia, live, open_room):
    cursor = room_selectors.standing_for_user(olivia, open_room.pk).cursor
    url = reverse("room_poll", args=[open_room.pk])

    assert as_olivia.get(url, {"after": str(cursor)}, **HTMX).status_code == 204
    assert as_olivia.get(url, {"after": "0.0.0.0"}, **HTMX).status_code == 200
    assert as_olivia.get(url, {"after": "999999999999999999.0.1.1"}, **HTMX).status_code == 200


BAD_KINDS = ["nobody", "users", "User", "GROUP", "group.", "user\x00", "-1", "²"]


@pytest.mark.parametrize("kind", BAD_KINDS)
@pytest.mark.parametrize("name", ["access_edit", "access_remove"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_principal_kind_other_than_user_or_group_is_404(
    as_olivia, lecture, victor, teaching_assistants, name, kind, method
):
    route = {n: r for n, r, _ in ID_ROUTES}[name]
    before = grant_rows()

    for principal_id in (victor.pk, teaching_assistants.pk):
        response = send(as_olivia, method, fill(route, lecture.pk, principal_id, kind))
        assert response.status_code == 404
    assert grant_rows() == before


BAD_MY_MEDIA = {
    "page-superscript": {"page": "²"},
    "page-arabic-indic": {"page": "٣"},
    "page-zero": {"page": "0"},
    "page-20-digits": {"page": "99999999999999999999"},
    "page-megabyte": {"page": "9" * MEGABYTE},
    "type-garbage": {"type": "\x00"},
    "role-garbage": {"role": "nobody"},
    "sort-garbage": {"sort": "-password"},
    "q-long": {"q": "cell " * 1000},
    "q-percent": {"q": "%_\\"},
}


@pytest.mark.parametrize("query", BAD_MY_MEDIA.values(), ids=BAD_MY_MEDIA.keys())
@pytest.mark.parametrize(
    "headers",
    [{}, HTMX, {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "media-table"}],
    ids=["page", "htmx", "load-more"],
)
def test_my_media_with_malformed_filters_answers_the_list(as_olivia, lecture, query, headers):
    response = as_olivia.get(reverse("my_media"), query, **headers)

    assert response.status_code == 200
    assert len(response.content) < SMALL


@pytest.mark.parametrize("q", ["p" * MEGABYTE, "²٣１", "%_\\"], ids=["megabyte", "digits", "like"])
def test_the_suggestions_with_an_odd_query_answer(as_olivia, room, q):
    response = as_olivia.get(reverse("principals_suggest", args=[room.pk]), {"q": q})

    assert response.status_code == 200
    assert len(response.content) < SMALL


@pytest.mark.parametrize("headers", HTMX_OR_NOT.values(), ids=HTMX_OR_NOT.keys())
def test_a_megabyte_message_is_refused_before_it_is_read(as_olivia, live, open_room, headers):
    response = as_olivia.post(
        reverse("message_post", args=[open_room.pk]), {"body": "x" * MEGABYTE}, **headers
    )

    assert response.status_code == 400
    assert "nothing was changed" in response.content.decode()
    assert len(response.content) < SMALL
    assert not ChatMessage.objects.exists()


@pytest.mark.parametrize("headers", HTMX_OR_NOT.values(), ids=HTMX_OR_NOT.keys())
def test_a_message_under_the_body_cap_is_refused_by_the_form(as_olivia, live, open_room, headers):
    response = as_olivia.post(
        reverse("message_post", args=[open_room.pk]), {"body": "x" * UNDER_THE_CAP}, **headers
    )

    assert response.status_code == 200
    assert "Messages can be at most" in response.content.decode()
    assert len(response.content) < SMALL
    assert not ChatMessage.objects.exists()


@pytest.mark.parametrize("dialog", ADD_DIALOGS)
def test_an_add_over_the_body_cap_is_refused_and_changes_nothing(request, paula, dialog):
    dialog_entry(request, dialog)
    before = grant_rows()

    response = post_add(request, dialog, [f"user:{paula.pk}", "user:" + "9" * MEGABYTE], {})

    assert response.status_code == 400
    assert len(response.content) < SMALL
    assert grant_rows() == before


@pytest.mark.parametrize(
    "next_url",
    ["//evil.example.com/", "https://evil.example.com/", "\x00", "javascript:alert(1)"],
)
def test_a_status_change_never_redirects_off_site(as_olivia, lecture, next_url):
    response = as_olivia.post(
        reverse("media_status", args=[lecture.pk]), {"status": "unlisted", "next": next_url}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("my_media")


@pytest.mark.parametrize("headers", HTMX_OR_NOT.values(), ids=HTMX_OR_NOT.keys())
def test_a_group_principal_that_is_not_a_group_any_more_is_404(
    as_olivia, lecture, teaching_assistants, headers
):
    gone = teaching_assistants.pk
    Group.objects.filter(pk=gone).delete()

    for name in ("access_edit", "access_remove"):
        url = reverse(name, args=[lecture.pk, "group", gone])
        assert as_olivia.get(url, **headers).status_code == 404
        assert as_olivia.post(url, **headers).status_code == 404
