from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from mediaspace import permissions as media_permissions
from mediaspace.forms import RoomCreateForm
from mediaspace.types import AuthenticatedHttpRequest
from mediaspace.views import access_add_dialog
from rooms import permissions, services


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def moderators_add(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponse:
    """Add room and chat moderators to a room (owner and co-editors)."""
    access = media_permissions.get_entry_for_user(request.user, entry_id, need="can_manage_roles")
    if not access.entry.is_room:
        raise Http404("Only rooms have moderators.")
    unavailable = "" if access.moderation_on else permissions.MODULE_OFF_MESSAGE
    response = access_add_dialog(
        request,
        access,
        kind="moderators",
        roles=media_permissions.MODERATOR_ROLES,
        add=services.moderators_add,
        unavailable=unavailable,
    )
    if unavailable and not request.htmx:
        response.status_code = 403
    return response


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def room_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Create a room owned by the user: + Create → Room on My Media."""
    form = RoomCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        entry = services.room_create(
            owner=request.user,
            name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
            tags=form.cleaned_data["tags"],
        )
        messages.success(request, f"Room “{entry.name}” created.")
        if request.htmx:
            return HttpResponseClientRedirect(entry.get_absolute_url())
        return redirect(entry)
    template = "rooms/room_create.html"
    if request.htmx:
        template += "#create-form" if request.method == "POST" else "#create-dialog"
    return render(request, template, {"form": form})
