from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from mediaspace import permissions, selectors, services
from mediaspace.forms import MediaDetailsForm, MediaStatusForm, MyMediaFilterForm
from mediaspace.models import MediaEntry
from mediaspace.types import AuthenticatedHttpRequest


def _with_messages(request: AuthenticatedHttpRequest, response: HttpResponse) -> HttpResponse:
    """Append pending messages as an out-of-band swap into the toast region."""
    toasts = render_to_string("_messages_oob.html", request=request)
    response.write(toasts)
    return response


@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def my_media(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Show the entries the user owns or that are shared with them."""
    filters = MyMediaFilterForm(request.GET)
    options = filters.cleaned()
    page_number = options.pop("page")
    loading_more = request.htmx and request.htmx.target == "media-table"
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
        "next_url": f"{reverse('my_media')}?{query.urlencode()}",
        "filtered": any(options[key] for key in ("search", "media_type", "role")),
        "status_choices": MediaEntry.Status.choices,
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
    return render(
        request, "mediaspace/media_detail.html", {"access": access, "entry": access.entry}
    )


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
        return _with_messages(request, render(request, template + "#edit-panel", context))
    return render(request, template, context)


@require_GET
@vary_on_headers("HX-Request")
def media_roles(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponse:
    """Show who has access to the entry: the Roles & permissions tab."""
    access = permissions.get_entry_for_user(request.user, entry_id, need="can_edit")
    context = {"access": access, "entry": access.entry, "tab": "roles"}
    template = "mediaspace/edit_roles.html"
    if request.htmx:
        template += "#edit-panel"
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
        return redirect(request.POST.get("next") or "my_media")
    access = permissions.get_entry_for_user(request.user, entry_id)
    row = selectors.MediaRow(entry=access.entry, access=access)
    response = render(
        request,
        "mediaspace/my_media.html#media-row",
        {"row": row, "status_choices": MediaEntry.Status.choices},
    )
    return _with_messages(request, response)


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
        gone = f'<tr id="media-row-{entry_id}" hx-swap-oob="delete"></tr>'
        response = _with_messages(request, HttpResponse(gone))
        return trigger_client_event(response, "ms:close-dialog")
    return HttpResponseClientRedirect(reverse("my_media"))
