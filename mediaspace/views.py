from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect, reswap, trigger_client_event

from accounts.models import User
from mediaspace import permissions, selectors, services, terms
from mediaspace.access import End, terms_of
from mediaspace.forms import (
    ROLE_CHOICES,
    ROLE_HELP,
    SORT_CHOICES,
    TYPE_CHOICES,
    AccessAddForm,
    AccessEditForm,
    ActivityFilterForm,
    MediaDetailsForm,
    MediaStatusForm,
    MyMediaFilterForm,
    TransferForm,
    principal_key,
)
from mediaspace.models import AccessChange, MediaEntry
from mediaspace.permissions import Role
from mediaspace.types import AuthenticatedHttpRequest
from rooms import selectors as room_selectors


def with_messages(request: AuthenticatedHttpRequest, response: HttpResponse) -> HttpResponse:
    """Append pending messages as an out-of-band swap into the toast region."""
    toasts = render_to_string("_messages_oob.html", request=request)
    response.write(toasts)
    return response


def permission_denied(request: AuthenticatedHttpRequest, exception: Exception) -> HttpResponse:
    """Say what was refused (the project's handler403); a room's moderator gets the way in."""
    context: dict = {"reason": str(exception)}
    found = getattr(exception, "access", None)
    if isinstance(found, permissions.Access):
        context["entry"] = found.entry
        context["moderates"] = found.entry.is_room and bool(
            found.roles & set(permissions.MODERATOR_ROLES)
        )
    return render(request, "403.html", context, status=403)


# A reloaded list (its address says how many pages were loaded) shows at most this many
# pages; Load more goes on from there a page at a time.
RELOAD_PAGES = 10


@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def my_media(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Show the entries the user owns or that are shared with them."""
    filters = MyMediaFilterForm(request.GET)
    options = filters.cleaned()
    page_number = options.pop("page")
    loading_more = request.htmx and request.htmx.target == "media-table"
    capped = not loading_more and page_number > RELOAD_PAGES
    if capped:
        page_number = RELOAD_PAGES
    start = (page_number - 1) * selectors.PAGE_SIZE if loading_more else 0
    page = selectors.my_media_page(
        request.user, **options, start=start, stop=page_number * selectors.PAGE_SIZE
    )
    query = request.GET.copy()
    query["page"] = page_number + 1
    context = {
        "filters": filters,
        "options": options,
        "page": page,
        "rows": page.rows,
        "type_choices": TYPE_CHOICES,
        "role_choices": ROLE_CHOICES,
        "sort_choices": SORT_CHOICES,
        "status_choices": MediaEntry.Status.choices,
        "next_url": f"{reverse('my_media')}?{query.urlencode()}",
        "filtered": any(options[key] for key in ("search", "media_type", "role")),
        "capped": capped,
    }
    template = "mediaspace/my_media.html"
    if loading_more:
        template += "#media-page"
    elif request.htmx:
        template += "#media-list"
    return render(request, template, context)


@require_GET
def media_detail(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponse:
    """Show one entry's page."""
    access = permissions.get_entry_for_user(request.user, entry_id)
    context = {"access": access, "entry": access.entry}
    if access.entry.is_room:
        # The room's state and its Join room / Join now button come from the rooms app.
        context["room_view"] = room_selectors.room_standing(access, request.user)
    return render(request, "mediaspace/media_detail.html", context)


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def media_edit(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponse:
    """Edit an entry's details: the Edit page's first tab."""
    access = permissions.get_entry_for_user(request.user, entry_id, need="can_edit")
    entry = access.entry
    if request.method == "POST":
        form = MediaDetailsForm(request.POST, instance=MediaEntry.objects.get(pk=entry.pk))
        if form.is_valid():
            services.media_update(
                actor=request.user,
                entry=entry,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                tags=form.cleaned_data["tags"],
            )
            messages.success(request, "Media successfully updated.")
            if not request.htmx:
                return redirect("media_edit", entry_id=entry.pk)
            form = MediaDetailsForm(instance=entry)
    else:
        form = MediaDetailsForm(instance=entry)
    context = {
        "access": access,
        "entry": entry,
        "form": form,
        "tab": "details",
        "saved": request.method == "POST" and form.is_bound is False,
    }
    template = "mediaspace/edit_details.html"
    if request.htmx:
        return with_messages(request, render(request, template + "#edit-panel", context))
    return render(request, template, context)


@require_POST
def media_status(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponse:
    """Change an entry's publishing status from My Media."""
    access = permissions.get_entry_for_user(request.user, entry_id, need="can_publish")
    form = MediaStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose Private, Unlisted or Published.")
    else:
        entry = services.media_status_set(
            actor=request.user, entry=access.entry, status=form.cleaned_data["status"]
        )
        messages.success(request, f"“{entry.name}” is now {entry.get_status_display()}.")
    if not request.htmx:
        after = request.POST.get("next", "")
        safe = url_has_allowed_host_and_scheme(after, allowed_hosts={request.get_host()})
        return redirect(after if after and safe else "my_media")
    access = permissions.get_entry_for_user(request.user, entry_id)
    owner_name = "" if access.is_owner else access.entry.owner.name
    row = selectors.MediaRow(entry=access.entry, access=access, owner_name=owner_name)
    response = render(request, "mediaspace/my_media.html#media-rows", {"rows": [row]})
    return with_messages(request, response)


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def media_delete(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponse:
    """Confirm, then delete an entry (owner only)."""
    access = permissions.get_entry_for_user(request.user, entry_id, need="can_delete")
    entry = access.entry
    if request.method == "GET":
        template = "mediaspace/media_delete.html"
        if request.htmx:
            template += "#delete-dialog"
        return render(request, template, {"entry": entry})
    name = entry.name
    services.media_delete(actor=request.user, entry=entry)
    messages.success(request, f"“{name}” was deleted.")
    if not request.htmx:
        return redirect("my_media")
    if request.htmx.current_url_abs_path and request.htmx.current_url_abs_path.startswith(
        reverse("my_media")
    ):
        response = render(
            request, "mediaspace/my_media.html#media-row-gone", {"entry_id": entry_id}
        )
        response = with_messages(request, response)
        return trigger_client_event(response, "ms:close-dialog")
    return HttpResponseClientRedirect(reverse("my_media"))


# Roles & permissions ------------------------------------------------------------------


def _list_state(query: QueryDict) -> selectors.AccessListState:
    """Return the list's state as the page sent it (Load more, a dialog) or a URL asks."""
    role = query.get("role", "")
    return selectors.AccessListState(
        search=query.get("q", "").replace("\x00", "").strip()[:200],
        role=role if role in selectors.ACCESS_ROLE_FILTERS else "",
        pages=_page_number(query.get("pages")),
        after=selectors.AccessListState.parse_after(query.get("after", "")),
        added=frozenset([key for key in query.getlist("added") if principal_key(key)][:MOST_ADDED]),
    )


MOST_ADDED = 100  # rows put at the top of the list that Load more leaves out


def _page_number(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), 1000))
    except ValueError:
        return 1


def _roles_page(request: AuthenticatedHttpRequest, entry: MediaEntry) -> selectors.AccessPage:
    """Return the rows a request for the list asks for: the next page, or the first pages."""
    state = _list_state(request.GET)
    if request.htmx and request.htmx.target == "access-table":
        return selectors.access_page(entry, replace(state, pages=state.pages + 1))
    # The list from its start: as many pages as the address says (a reload after Load
    # more), up to RELOAD_PAGES.
    pages = min(_page_number(request.GET.get("page")), RELOAD_PAGES)
    state = replace(state, pages=pages, after=selectors.LIST_START, added=frozenset())
    return selectors.access_page(entry, state, size=pages * selectors.ACCESS_PAGE_SIZE)


def _roles_context(
    request: AuthenticatedHttpRequest, access: permissions.Access, page: selectors.AccessPage
) -> dict:
    """Return what the Roles & permissions list shows of `page`, and the list's state."""
    state = page.state
    query = {"q": state.search, "role": state.role, "page": state.pages + 1}
    roles_url = reverse("media_roles", args=[access.entry.pk])
    return {
        "access": access,
        "entry": access.entry,
        "tab": "roles",
        "page": page,
        "state": state,
        "search": state.search,
        "role": state.role,
        "role_filters": ROOM_ROLE_FILTER_CHOICES if access.entry.is_room else ROLE_FILTER_CHOICES,
        "filtered": state.filtered,
        "roles_url": roles_url,
        "next_url": f"{roles_url}?{urlencode({k: v for k, v in query.items() if v})}",
        "rows": page.rows,
        "via_groups": selectors.members_through_groups(access.entry, state),
    }


ROLE_FILTER_CHOICES = [
    ("", "All permissions"),
    ("co-editor", "Co-editor"),
    ("co-publisher", "Co-publisher"),
    ("co-viewer", "Co-viewer"),
]
# Rooms have moderators; each role is a filter of its own.
ROOM_ROLE_FILTER_CHOICES = [
    *ROLE_FILTER_CHOICES,
    ("room-moderator", "Room moderator"),
    ("chat-moderator", "Chat moderator"),
]


def _roles_changed(
    request: AuthenticatedHttpRequest,
    access: permissions.Access,
    changes: list[AccessChange],
) -> HttpResponse:
    """Answer a successful change of access: back to the tab, or close the dialog in place.

    In place, the answer carries only what changed, out of band: the rows of the users and
    groups concerned (replaced, put at the top of the list, or taken away), the counts,
    Load more's state, the new Activity items and the toasts. The page's list state comes
    with the form (see #access-more in edit_roles.html).
    """
    if not request.htmx:
        return redirect("media_roles", entry_id=access.entry.pk)
    response = reswap(HttpResponse(), "none")
    if not changes:  # nothing to show when nothing changed (a second click, say)
        return trigger_client_event(with_messages(request, response), "ms:close-dialog")
    update = selectors.access_update(access.entry, _list_state(request.POST), changes)
    actor = str(request.user)
    context = _roles_context(request, access, update.page) | {
        "oob": True,
        "replaced": update.replaced,
        "inserted": update.inserted,
        "removed": update.removed,
        "activity": [selectors.ActivityItem.of(change, actor) for change in reversed(changes)],
    }
    # The toasts come in the same template: one render.
    response.write(render_to_string("mediaspace/edit_roles.html#roles-changed", context, request))
    return trigger_client_event(response, "ms:close-dialog")


@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def media_roles(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponse:
    """Show who has access to the entry: the Roles & permissions tab."""
    access = permissions.get_entry_for_user(request.user, entry_id, need="can_manage_roles")
    context = _roles_context(request, access, _roles_page(request, access.entry))
    context["capped"] = _page_number(request.GET.get("page")) > RELOAD_PAGES
    template = "mediaspace/edit_roles.html"
    if request.htmx and request.htmx.target == "access-table":
        return render(request, template + "#access-page", context | {"loading_more": True})
    if request.htmx and request.htmx.target == "access-list":
        return render(request, template + "#access-list", context)
    context["activity"] = selectors.access_activity(access.entry)
    return render(request, template + "#edit-panel" if request.htmx else template, context)


@require_GET
def principals_suggest(request: AuthenticatedHttpRequest, entry_id: int) -> JsonResponse:
    """Suggest users and groups for the Select users combobox (hosts only)."""
    access = permissions.get_entry_for_user(request.user, entry_id, need="can_manage_roles")
    suggestions = selectors.principals_suggest(access.entry, request.GET.get("q", "")[:100])
    return JsonResponse(
        {
            "results": [
                {
                    "key": suggestion.key,
                    "kind": suggestion.kind,
                    "label": suggestion.label,
                    "detail": suggestion.detail,
                    "holds": [role.label for role in suggestion.holds],
                    "unavailable": suggestion.unavailable,
                }
                for suggestion in suggestions
            ]
        }
    )


def access_add_dialog(
    request: AuthenticatedHttpRequest,
    access: permissions.Access,
    *,
    kind: str,
    roles: tuple[Role, ...],
    add: Callable[..., list],
    unavailable: str = "",
) -> HttpResponse:
    """Show and handle an Add moderators or Add collaborators dialog."""
    entry = access.entry
    form = AccessAddForm(request.POST or None, entry=entry, roles=roles)
    if request.method == "POST" and not unavailable and form.is_valid():
        principals = form.cleaned_data["principals"]
        chosen = form.cleaned_data["roles"]
        ends = form.cleaned_data["ends_at"]
        try:
            changes = add(
                actor=request.user, entry=entry, principals=principals, roles=chosen, ends=ends
            )
        except ValidationError as error:
            form.add_error("ends" if error.code in ENDS_ERRORS else None, error)
        else:
            messages.success(request, access_added_message(principals, chosen, ends))
            return _roles_changed(request, access, changes)
    if request.method == "POST" and unavailable:
        form.is_valid()
        form.add_error(None, unavailable)
    context = {
        "access": access,
        "entry": entry,
        "form": form,
        "kind": kind,
        "title": f"Add {kind}",
        "selected": form.selected() if form.is_bound else [],
        "role_help": ROLE_HELP,
        "unavailable": unavailable,
        "action": reverse(f"{kind}_add", args=[entry.pk]),
    }
    template = "mediaspace/access_add.html"
    if request.htmx:
        template += "#access-form" if request.method == "POST" else "#access-dialog"
    return render(request, template, context)


# The services' refusals that belong next to the Access ends field.
ENDS_ERRORS = ("ends_past", "session_end")


def access_added_message(principals: list, roles: list[Role], ends: End = None) -> str:
    """Say who received which permissions, until when: "Rita Reyes is now Room moderator
    until 14 Dec"."""
    names = [str(principal) for principal in principals]
    who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    labels = [role.label for role in permissions.sorted_roles(roles)]
    what = " and ".join(labels)
    verb = "is" if len(names) == 1 else "are"
    until = f" {terms.until_label(ends)}" if ends else ""
    return f"{who} {verb} now {what}{until}."


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def collaborators_add(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponse:
    """Add co-editors, co-publishers and co-viewers (owner only)."""
    access = permissions.get_entry_for_user(request.user, entry_id, need="can_manage_collaborators")
    return access_add_dialog(
        request,
        access,
        kind="collaborators",
        roles=permissions.COLLABORATOR_ROLES,
        add=services.collaborators_add,
    )


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def moderators_add(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponse:
    """Add room and chat moderators to a room (owner and co-editors)."""
    access = permissions.get_entry_for_user(request.user, entry_id, need="can_manage_roles")
    if not access.entry.is_room:
        raise Http404("Only rooms have moderators.")
    unavailable = "" if access.moderation_on else permissions.MODULE_OFF_MESSAGE
    response = access_add_dialog(
        request,
        access,
        kind="moderators",
        roles=permissions.MODERATOR_ROLES,
        add=services.moderators_add,
        unavailable=unavailable,
    )
    if unavailable and not request.htmx:
        response.status_code = 403
    return response


def _principal_or_404(kind: str, principal_id: int) -> User | Group:
    if kind not in ("user", "group"):
        raise Http404("No such kind of principal.")
    if kind == "group":
        return get_object_or_404(Group, pk=principal_id)
    return get_object_or_404(User, pk=principal_id)


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def access_edit(
    request: AuthenticatedHttpRequest, entry_id: int, kind: str, principal_id: int
) -> HttpResponse:
    """Change one user's or group's permissions: the Edit permissions dialog."""
    access = permissions.get_entry_for_user(request.user, entry_id, need="can_manage_roles")
    entry = access.entry
    principal = _principal_or_404(kind, principal_id)
    held = permissions.principal_roles(entry, principal)
    scope = access.manageable_roles
    if not held or not scope:
        raise Http404("No such row.") if not held else PermissionDenied
    ends = terms_of(entry, [(kind, principal.pk)]).get((kind, principal.pk), {})
    form = AccessEditForm(
        request.POST or None,
        roles=scope,
        current={role: end for role, end in ends.items() if role in held and role in scope},
        room=entry.is_room,
        initial={"roles": [role.value for role in held if role in scope]},
    )
    losing = [role for role in permissions.sorted_roles(held) if role in scope]
    if request.method == "POST" and form.is_valid() and not form.cleaned_data["roles"] and losing:
        # Every box cleared: that is Remove, so it asks as Remove does.
        return _remove_confirmation(
            request, access, principal, kind, losing, title_id="access-edit-title"
        )
    if request.method == "POST" and form.is_valid():
        try:
            change = services.access_edit(
                actor=request.user,
                entry=entry,
                principal=principal,
                roles=form.cleaned_data["roles"],
                scope=scope,
                ends=form.cleaned_data["ends_at"],
            )
        except ValidationError as error:
            form.add_error("ends" if error.code in ENDS_ERRORS else None, error)
        else:
            messages.success(request, access_changed_message(principal, change))
            return _roles_changed(request, access, [change] if change else [])
    context = {
        "access": access,
        "entry": entry,
        "form": form,
        "principal": principal,
        "kind": kind,
        "held_elsewhere": [
            role.label for role in permissions.sorted_roles(held) if role not in scope
        ],
        "role_help": ROLE_HELP,
    }
    template = "mediaspace/access_edit.html"
    if request.htmx:
        template += "#edit-form" if request.method == "POST" else "#edit-dialog"
    return render(request, template, context)


def access_changed_message(principal, change) -> str:
    if change is None:
        return f"Nothing changed for {principal}."
    if not change.after:
        return f"{principal} no longer has access."
    labels = " and ".join(terms.role_label(role, change.after_ends) for role in change.after)
    return f"{principal} now has {labels}."


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def access_remove(
    request: AuthenticatedHttpRequest, entry_id: int, kind: str, principal_id: int
) -> HttpResponse:
    """Confirm, then take away what the actor may manage from one user or group."""
    access = permissions.get_entry_for_user(request.user, entry_id, need="can_manage_roles")
    entry = access.entry
    principal = _principal_or_404(kind, principal_id)
    held = permissions.principal_roles(entry, principal)
    losing = [role for role in permissions.sorted_roles(held) if role in access.manageable_roles]
    if not held:
        raise Http404("No such row.")
    if not losing:
        raise PermissionDenied
    if request.method == "POST":
        change = services.access_remove(
            actor=request.user, entry=entry, principal=principal, scope=access.manageable_roles
        )
        labels = " and ".join(role.label for role in losing)
        messages.success(request, f"{principal} no longer has {labels}.")
        return _roles_changed(request, access, [change] if change else [])
    return _remove_confirmation(request, access, principal, kind, losing)


def _remove_confirmation(
    request: AuthenticatedHttpRequest,
    access: permissions.Access,
    principal: User | Group,
    kind: str,
    losing: list[Role],
    *,
    title_id: str = "",
) -> HttpResponse:
    """Ask whether to take `losing` away from the user or group: the Remove dialog, or
    (`title_id`, from Edit permissions with every box cleared) its form in place."""
    context = {
        "entry": access.entry,
        "principal": principal,
        "kind": kind,
        "losing": [role.label for role in losing],
        "title_id": title_id,
    }
    template = "mediaspace/access_remove.html"
    if request.htmx:
        template += "#remove-form" if title_id else "#remove-dialog"
    return render(request, template, context)


@require_GET
@vary_on_headers("HX-Request")
def access_why(request: AuthenticatedHttpRequest, entry_id: int, user_id: int) -> HttpResponse:
    """Say what one person may do with the entry and where each role comes from: a row's
    "Where access comes from", and Check access's answer (hosts only)."""
    access = permissions.get_entry_for_user(request.user, entry_id, need="can_manage_roles")
    person = get_object_or_404(User, pk=user_id)
    context = {
        "access": access,
        "entry": access.entry,
        "tab": "roles",
        "explained": selectors.explanation(access.entry, person),
    }
    template = "mediaspace/access_why.html"
    return render(request, template + "#why" if request.htmx else template, context)


@require_GET
@vary_on_headers("HX-Request")
def access_check(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponse:
    """Check access: find a person by name, then say what they may do here and why."""
    access = permissions.get_entry_for_user(request.user, entry_id, need="can_manage_roles")
    query = request.GET.get("who", "").strip()[:100]
    found = selectors.people_found(access.entry, query) if query else []
    context: dict = {
        "access": access,
        "entry": access.entry,
        "tab": "roles",
        "who": query,
        "found": found,
        "error": "",
    }
    if not query:
        context["error"] = "Type a name, username or email."
    elif len(query.replace(" ", "")) < 2:
        context["error"] = "Type at least two letters."
    elif not found:
        context["error"] = f"No one matches “{query}”. Try part of their name, username or email."
    elif len(found) == 1:
        person = User.objects.get(pk=found[0].pk)
        context["explained"] = selectors.explanation(access.entry, person)
    template = "mediaspace/access_why.html"
    return render(request, template + "#check-form" if request.htmx else template, context)


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def ownership_transfer(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponse:
    """Give the entry to another person: the Transfer ownership dialog (owner only)."""
    access = permissions.get_entry_for_user(request.user, entry_id, need="can_transfer")
    entry = access.entry
    form = TransferForm(request.POST or None, entry=entry)
    if request.method == "POST" and form.is_valid():
        new_owner = form.cleaned_data["principals"]
        keep = form.cleaned_data["keep"]
        try:
            services.ownership_transfer(
                actor=request.user, entry=entry, new_owner=new_owner, keep_co_editor=keep
            )
        except ValidationError as error:
            form.add_error("principals", error)
        else:
            kept = " You are now a co-editor." if keep else ""
            messages.success(request, f"{new_owner} now owns “{entry.name}”.{kept}")
            target = reverse("media_roles", args=[entry.pk]) if keep else reverse("my_media")
            if request.htmx:
                return HttpResponseClientRedirect(target)
            return redirect(target)
    context = {
        "access": access,
        "entry": entry,
        "form": form,
        "selected": form.selected() if form.is_bound else [],
    }
    template = "mediaspace/access_transfer.html"
    if request.htmx:
        template += "#transfer-form" if request.method == "POST" else "#transfer-dialog"
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def access_copy(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponse:
    """Copy permissions from another entry the user manages: find it, see what would be
    added (never removed), confirm (owner and co-editors, within the roles they manage)."""
    access = permissions.get_entry_for_user(request.user, entry_id, need="can_manage_roles")
    entry = access.entry
    scope = access.manageable_roles
    data = request.POST if request.method == "POST" else request.GET
    query = data.get("q", "").strip()[:100]
    context: dict = {"access": access, "entry": entry, "q": query, "error": "", "plan": None}
    source_text = data.get("source", "")
    if source_text:
        source, error = _copy_source(request.user, entry, source_text)
        if source is None:
            context["error"] = error
        else:
            plan = selectors.copy_plan(entry, source, scope, module_on=access.moderation_on)
            context["plan"] = plan
            if request.method == "POST":
                try:
                    changes = services.access_copy(
                        actor=request.user,
                        entry=entry,
                        items=[
                            (item.principal, {role: item.ends.get(role) for role in item.roles})
                            for item in plan.items
                        ],
                    )
                except ValidationError as error:
                    context["error"] = " ".join(error.messages)
                else:
                    count = len({(change.user_id, change.group_id) for change in changes})
                    what = "1 user or group" if count == 1 else f"{count} users and groups"
                    messages.success(request, f"Copied from “{source.name}”: {what} gained access.")
                    return _roles_changed(request, access, changes)
    elif request.method == "POST":
        context["error"] = "Choose the entry to copy from."
    if not context["plan"]:
        context["sources"] = selectors.copy_sources(request.user, entry, query)
    template = "mediaspace/access_copy.html"
    if request.htmx:
        template += "#copy-body" if request.htmx.target == "copy-body" else "#copy-dialog"
    return render(request, template, context)


def _copy_source(user: User, entry: MediaEntry, text: str) -> tuple[MediaEntry | None, str]:
    """Return the entry to copy from named by `text` (an id), or None and why not."""
    refused = "You can only copy from media you own or co-edit."
    if not text.isdigit() or len(text) > 18:
        return None, refused
    if int(text) == entry.pk:
        return None, "Pick another entry: this is the one you are copying to."
    try:
        found = permissions.get_entry_for_user(user, int(text), need="can_manage_roles")
    except (Http404, PermissionDenied):
        return None, refused
    return found.entry, ""


@require_GET
def access_activity(
    request: AuthenticatedHttpRequest, entry_id: int
) -> HttpResponse | StreamingHttpResponse:
    """The entry's audit log with filters (hosts), and its CSV download (the owner)."""
    export = request.GET.get("format") == "csv"
    need = "can_export_activity" if export else "can_manage_roles"
    access = permissions.get_entry_for_user(request.user, entry_id, need=need)
    form = ActivityFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    changes = selectors.activity_changes(access.entry, filters)
    if export:
        return _activity_csv(access.entry, changes)
    shown = list(changes[: selectors.ACTIVITY_PAGE_SIZE + 1])
    query = request.GET.copy()
    query["format"] = "csv"
    context = {
        "access": access,
        "entry": access.entry,
        "tab": "roles",
        "form": form,
        "items": [
            selectors.activity_item(change) for change in shown[: selectors.ACTIVITY_PAGE_SIZE]
        ],
        "more": len(shown) > selectors.ACTIVITY_PAGE_SIZE,
        "csv_url": f"{request.path}?{query.urlencode()}",
    }
    return render(request, "mediaspace/activity.html", context)


def _activity_csv(entry: MediaEntry, changes) -> StreamingHttpResponse:
    """Return every change matching the filters as CSV, streamed (the owner's download)."""
    columns = ("when", "user or group", "kind", "before", "after", "changed by", "change")

    class Echo:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(Echo())

    def cell(value: str) -> str:
        # A name starting with = + - or @ would run as a formula in a spreadsheet.
        return f"'{value}" if value[:1] in ("=", "+", "-", "@") else value

    def rows():
        yield writer.writerow(columns)
        for change in changes.iterator(chunk_size=500):
            yield writer.writerow(
                (
                    change.created_at.isoformat(),
                    cell(change.principal_name),
                    "group" if change.group_id else "user",
                    ", ".join(terms.role_label(role, change.before_ends) for role in change.before),
                    ", ".join(terms.role_label(role, change.after_ends) for role in change.after),
                    cell(change.actor.name) if change.actor else "",
                    change.get_reason_display(),
                )
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    name = re.sub(r"[^A-Za-z0-9]+", "-", entry.name).strip("-")[:60] or "entry"
    response["Content-Disposition"] = f'attachment; filename="activity-{entry.pk}-{name}.csv"'
    return response
