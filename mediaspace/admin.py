"""The Django admin for media entries, their collaborators and the audit log.

`RolesAdmin` puts django-guardian's object-permission pages on media entries (and, in
rooms/admin.py, on rooms), limited to the product's roles, and saves them through
`services.access_set` so that every change an operator makes is validated and audited.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import SafeString
from guardian.admin import GuardedModelAdmin
from guardian.forms import BaseObjectPermissionsForm

from accounts.admin import (
    USER_SEARCH_HELP,
    ChosenObjectFilter,
    OneGroupPicker,
    OneUserPicker,
    admin_link,
    filter_link,
    operator,
)
from accounts.models import User
from mediaspace import access, permissions, services, terms
from mediaspace.models import AccessChange, ExpiryPolicy, MediaEntry, Module
from mediaspace.permissions import CODENAME_ROLES, COLLABORATOR_ROLES, ROLE_CODENAMES, Role
from rooms import services as room_services


class RolesForm(BaseObjectPermissionsForm):
    """Guardian's per-principal permissions form, offering only the product's roles.

    Saving goes through `services.access_edit`, which sets the roles within this page's
    scope with `services.access_set`: validated (the owner and inactive people are
    refused) and written to the audit log with the operator as actor.
    """

    def __init__(
        self,
        principal: User | Group,
        obj: Model,
        data: dict[str, Any] | None = None,
        *,
        actor: User,
        roles: tuple[Role, ...],
        entry_for: Callable[[Model], MediaEntry],
    ) -> None:
        self.principal = principal
        self.actor = actor
        self.roles = roles
        self.entry = entry_for(obj)
        super().__init__(obj, data)

    def get_obj_perms_field_label(self) -> str:
        return "Roles"

    def get_obj_perms_field_choices(self) -> list[tuple[str, str]]:
        return [(ROLE_CODENAMES[role], role.label) for role in self.roles]

    def get_obj_perms_field_initial(self) -> list[str]:
        held = permissions.principal_roles(self.entry, self.principal)
        return [ROLE_CODENAMES[role] for role in self.roles if role in held]

    def get_obj_perms_field_widget(self) -> type[forms.Widget]:
        return forms.CheckboxSelectMultiple

    def save_obj_perms(self) -> None:
        self.save_roles()

    def save_roles(self) -> AccessChange | None:
        """Give the principal exactly the chosen roles of this page; leave other roles alone."""
        chosen = {CODENAME_ROLES[codename] for codename in self.cleaned_data["permissions"]}
        return services.access_edit(
            actor=self.actor,
            entry=self.entry,
            principal=self.principal,
            roles=chosen,
            scope=self.roles,
        )


class UserChoiceForm(forms.Form):
    """Choose the person whose roles to manage (guardian's page asks for a username)."""

    user = forms.ModelChoiceField(
        queryset=User.objects.all(), widget=OneUserPicker(admin.site), help_text=USER_SEARCH_HELP
    )


class GroupChoiceForm(forms.Form):
    """Choose the group whose roles to manage."""

    group = forms.ModelChoiceField(
        queryset=Group.objects.all(),
        widget=OneGroupPicker(admin.site),
        help_text="Type part of the group's name.",
    )


def _pk(value: str) -> int:
    """Return an id from the URL, or 404 for anything a 64-bit primary key cannot hold."""
    if not ID.fullmatch(str(value)):
        raise Http404
    return int(value)


ID = re.compile(r"[0-9]{1,18}")


class RolesAdmin(GuardedModelAdmin):
    """Guardian's object-permission pages, limited to `roles` and routed through services."""

    roles: tuple[Role, ...] = ()
    access_link_label = "Object permissions"
    obj_perms_manage_template = "admin/roles_manage.html"

    def entry_for(self, obj: Model) -> MediaEntry:
        """Return the media entry whose access the page manages."""
        assert isinstance(obj, MediaEntry)
        return obj

    def get_obj_perms_manage_user_form(self, request: HttpRequest) -> Any:
        """Return guardian's form class: RolesForm, with the page's roles and actor."""
        return self._roles_form(request)

    def get_obj_perms_manage_group_form(self, request: HttpRequest) -> Any:
        return self._roles_form(request)

    def _roles_form(self, request: HttpRequest) -> Callable[..., RolesForm]:
        return partial(
            RolesForm, actor=operator(request), roles=self.roles, entry_for=self.entry_for
        )

    def get_obj_perms_user_select_form(self, request: HttpRequest) -> type[Form]:
        return UserChoiceForm

    def get_obj_perms_group_select_form(self, request: HttpRequest) -> type[Form]:
        return GroupChoiceForm

    def get_obj_perms_base_context(self, request: HttpRequest, obj: Model) -> dict[str, Any]:
        context = super().get_obj_perms_base_context(request, obj)
        # The table's columns: the product's roles, not add/change/delete/view.
        context["model_perms"] = [
            {"codename": ROLE_CODENAMES[role], "name": role.label} for role in self.roles
        ]
        context["media"] = context["media"] + UserChoiceForm().media
        owner = self.entry_for(obj).owner
        context["subtitle"] = f"{obj}: owned by {owner}, who has full control"
        return context

    def obj_perms_manage_view(self, request: HttpRequest, object_pk: str) -> HttpResponse:
        """List who holds this page's roles, and choose a user or group to manage.

        Guardian's page, reading what each user and group is granted from the access
        rule's read model (as the Roles & permissions tab does) rather than asking guardian.
        """
        if not self.has_change_permission(request):
            raise PermissionDenied
        obj = get_object_or_404(self.get_queryset(request), pk=_pk(object_pk))
        entry = self.entry_for(obj)
        user_form = self.get_obj_perms_user_select_form(request)(request.POST or None)
        group_form = self.get_obj_perms_group_select_form(request)(request.POST or None)
        opts = self.model._meta
        prefix = f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_permissions_manage"
        if "submit_manage_user" in request.POST and user_form.is_valid():
            user = user_form.cleaned_data["user"]
            return redirect(reverse(f"{prefix}_user", args=[obj.pk, user.pk]))
        if "submit_manage_group" in request.POST and group_form.is_valid():
            group = group_form.cleaned_data["group"]
            return redirect(reverse(f"{prefix}_group", args=[obj.pk, group.pk]))
        users, groups = self._holders(entry)
        context = self.get_obj_perms_base_context(request, obj)
        context.update(
            {
                "users_perms": users,
                "groups_perms": groups,
                "user_form": user_form if request.method == "POST" else user_form.__class__(),
                "group_form": group_form if request.method == "POST" else group_form.__class__(),
            }
        )
        request.current_app = self.admin_site.name
        return render(request, self.get_obj_perms_manage_template(), context)

    def _holders(self, entry: MediaEntry) -> tuple[dict[User, list[str]], dict[Group, list[str]]]:
        """Return the users and the groups granted this page's roles, with their codenames."""
        granted = access.holders_of(entry, self.roles)
        users = User.objects.in_bulk([pk for kind, pk in granted if kind == "user"])
        groups = Group.objects.in_bulk([pk for kind, pk in granted if kind == "group"])
        codenames = {
            key: [ROLE_CODENAMES[role] for role in roles] for key, roles in granted.items()
        }
        return (
            {
                user: codenames["user", pk]
                for pk, user in sorted(users.items(), key=lambda item: item[1].username)
            },
            {
                group: codenames["group", pk]
                for pk, group in sorted(groups.items(), key=lambda item: item[1].name)
            },
        )

    def obj_perms_manage_user_view(
        self, request: HttpRequest, object_pk: str, user_id: str
    ) -> HttpResponse:
        user = get_object_or_404(User, pk=_pk(user_id))
        form_class = self.get_obj_perms_manage_user_form(request)
        template = self.get_obj_perms_manage_user_template()
        return self._roles_view(request, object_pk, user, form_class, "user_obj", template)

    def obj_perms_manage_group_view(
        self, request: HttpRequest, object_pk: str, group_id: str
    ) -> HttpResponse:
        group = get_object_or_404(Group, pk=_pk(group_id))
        form_class = self.get_obj_perms_manage_group_form(request)
        template = self.get_obj_perms_manage_group_template()
        return self._roles_view(request, object_pk, group, form_class, "group_obj", template)

    def _roles_view(
        self,
        request: HttpRequest,
        object_pk: str,
        principal: User | Group,
        form_class: Callable[..., RolesForm],
        principal_key: str,
        template: str,
    ) -> HttpResponse:
        """Show and save one user's or group's roles; a refusal is a form error, not a 500."""
        obj = self.get_object(request, unquote(object_pk))
        if obj is None:
            raise Http404
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        form = form_class(principal, obj, request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    change = form.save_roles()
            except ValidationError as error:
                form.add_error("permissions", error)
            else:
                if change is None:
                    messages.info(request, "Nothing changed.")
                else:
                    messages.success(request, "Permissions saved and recorded in the audit log.")
                return redirect(request.path)
        context = self.get_obj_perms_base_context(request, obj)
        context.update({principal_key: principal, "form": form})
        request.current_app = self.admin_site.name
        return render(request, template, context)

    @admin.display(description="access")
    def access_link(self, obj: Model) -> SafeString:
        opts = self.model._meta
        url = reverse(
            f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_permissions",
            args=[obj.pk],
        )
        return admin_link(url, self.access_link_label)


class OwnerFilter(ChosenObjectFilter):
    title = "owner"
    parameter_name = "owner"
    field_path = "owner"
    model = User
    hint = "Click an owner in the list to see only their media."


@admin.register(MediaEntry)
class MediaEntryAdmin(RolesAdmin):
    roles = COLLABORATOR_ROLES
    access_link_label = "Collaborators"
    list_display = ("name", "media_type", "status", "owner_link", "updated_at", "access_link")
    list_filter = ("media_type", "status", OwnerFilter)
    search_fields = ("name", "description", "tags", "owner__username")
    search_help_text = "Searches names, descriptions, tags and owners' usernames."
    autocomplete_fields = ("owner",)
    list_select_related = ("owner",)
    date_hierarchy = "created_at"
    list_per_page = 100
    show_full_result_count = False

    # Read-only once created: the type (a room carries its room record and moderators),
    # the owner (a transfer needs its own service) and what no service changes.
    ADD_FIELDS = (
        "owner",
        "name",
        "media_type",
        "status",
        "description",
        "tags",
        "duration_seconds",
        "thumbnail",
    )
    CHANGE_FIELDS = (*ADD_FIELDS, "created_at", "updated_at")
    FIXED_FIELDS = (
        "owner",
        "media_type",
        "duration_seconds",
        "thumbnail",
        "created_at",
        "updated_at",
    )

    def get_fields(self, request: HttpRequest, obj: MediaEntry | None = None) -> tuple[str, ...]:
        return self.ADD_FIELDS if obj is None else self.CHANGE_FIELDS

    def get_readonly_fields(
        self, request: HttpRequest, obj: MediaEntry | None = None
    ) -> tuple[str, ...]:
        return () if obj is None else self.FIXED_FIELDS

    @admin.display(description="owner", ordering="owner__username")
    def owner_link(self, entry: MediaEntry) -> SafeString | str:
        return filter_link(
            OwnerFilter.parameter_name,
            entry.owner_id,
            str(entry.owner),
            f"Show only media owned by {entry.owner}",
        )

    def save_model(
        self, request: HttpRequest, obj: MediaEntry, form: forms.ModelForm, change: bool
    ) -> None:
        """Save through the catalogue's services, as the product's own pages do."""
        if not change and obj.is_room:
            created = room_services.room_create(
                owner=obj.owner,
                name=obj.name,
                description=obj.description,
                tags=obj.tags,
                status=obj.status,
            )
            obj.pk = created.pk
            obj.refresh_from_db()
            return
        if not change:
            created = services.media_create(
                owner=obj.owner,
                name=obj.name,
                media_type=obj.media_type,
                description=obj.description,
                tags=obj.tags,
                status=obj.status,
                duration_seconds=obj.duration_seconds,
                thumbnail=obj.thumbnail,
            )
            obj.pk = created.pk
            obj.refresh_from_db()
            return
        services.media_update(
            actor=operator(request),
            entry=obj,
            name=obj.name,
            description=obj.description,
            tags=obj.tags,
        )
        if "status" in form.changed_data:
            services.media_status_set(actor=operator(request), entry=obj, status=obj.status)

    def delete_model(self, request: HttpRequest, obj: MediaEntry) -> None:
        services.media_delete(actor=operator(request), entry=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[MediaEntry]) -> None:
        for entry in queryset:
            services.media_delete(actor=operator(request), entry=entry)


class EntryFilter(ChosenObjectFilter):
    title = "entry"
    parameter_name = "entry"
    field_path = "entry"
    model = MediaEntry
    hint = "Click an entry in the list to see only its changes."


class ActorFilter(ChosenObjectFilter):
    title = "changed by"
    parameter_name = "actor"
    field_path = "actor"
    model = User
    hint = "Click who made a change to see only their changes."


class PrincipalUserFilter(ChosenObjectFilter):
    title = "user given access"
    parameter_name = "user"
    field_path = "user"
    model = User
    hint = "Click a person in the list to see only changes to their access."


class PrincipalGroupFilter(ChosenObjectFilter):
    title = "group given access"
    parameter_name = "group"
    field_path = "group"
    model = Group
    hint = "Click a group in the list to see only changes to its access."


@admin.register(AccessChange)
class AccessChangeAdmin(admin.ModelAdmin):
    """The audit log: read-only for everyone, superusers included."""

    list_display = (
        "created_at",
        "entry_link",
        "principal_link",
        "before_roles",
        "after_roles",
        "reason",
        "actor_link",
    )
    list_filter = (
        "reason",
        EntryFilter,
        ActorFilter,
        PrincipalUserFilter,
        PrincipalGroupFilter,
    )
    search_fields = ("principal_name", "actor__username", "entry__name")
    search_help_text = "Searches the names of people and groups, actors' usernames and entries."
    date_hierarchy = "created_at"
    list_select_related = ("entry", "actor")
    list_per_page = 100
    show_full_result_count = False
    fields = (
        "created_at",
        "entry",
        "principal_name",
        "user",
        "group",
        "before_roles",
        "after_roles",
        "reason",
        "actor",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AccessChange | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AccessChange | None = None) -> bool:
        return False

    @admin.display(description="entry", ordering="entry__name")
    def entry_link(self, change: AccessChange) -> SafeString | str:
        return filter_link(
            EntryFilter.parameter_name,
            change.entry_id,
            change.entry.name,
            f"Show only changes to {change.entry.name}",
        )

    @admin.display(description="user or group", ordering="principal_name")
    def principal_link(self, change: AccessChange) -> SafeString | str:
        pk: int | None
        if change.group_id is not None:
            parameter, pk = PrincipalGroupFilter.parameter_name, change.group_id
        else:
            parameter, pk = PrincipalUserFilter.parameter_name, change.user_id
        name = change.principal_name
        return filter_link(parameter, pk, name, f"Show only changes to {name}'s access")

    @admin.display(description="changed by", ordering="actor__username")
    def actor_link(self, change: AccessChange) -> SafeString | str:
        if change.actor is None:
            return "—"
        return filter_link(
            ActorFilter.parameter_name,
            change.actor_id,
            str(change.actor),
            f"Show only changes made by {change.actor}",
        )

    @admin.display(description="before")
    def before_roles(self, change: AccessChange) -> str:
        return _with_ends(change.before, change.before_ends)

    @admin.display(description="after")
    def after_roles(self, change: AccessChange) -> str:
        return _with_ends(change.after, change.after_ends)


def _with_ends(roles: list[str], ends: dict[str, str]) -> str:
    """Return roles' labels with when each ends: "Chat moderator (until 12 Jan)"."""
    return ", ".join(terms.role_label(role, ends) for role in roles) or "No access"


@admin.register(ExpiryPolicy)
class ExpiryPolicyAdmin(admin.ModelAdmin):
    """How long each role may be granted for: the dialogs' preselected term and the longest
    they accept. A role without a policy is granted with no expiry unless people pick one."""

    list_display = ("role", "default_days", "longest_days")
    list_editable = ("default_days", "longest_days")


MODULE_CONTROLS: dict[str, str] = {
    Module.Name.CHAT_AND_COLLABORATION: (
        "Room and chat moderators and room chat. While off, moderator grants are kept but "
        "grant nothing and the Moderators entry is hidden."
    ),
}


@admin.register(Module)
class ModuleAdmin(admin.ModelAdmin):
    """The product's switches. Deleting a module would only switch it off: not offered."""

    list_display = ("name", "enabled", "controls")
    list_editable = ("enabled",)

    def has_delete_permission(self, request: HttpRequest, obj: Module | None = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Module | None = None) -> tuple:
        return ("name",) if obj is not None else ()

    def get_form(
        self, request: HttpRequest, obj: Module | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        names = [obj.name] if obj is not None else list(MODULE_CONTROLS)
        help_text = " ".join(f"{name}: {MODULE_CONTROLS.get(name, '')}" for name in names)
        kwargs["help_texts"] = {"enabled": help_text}
        return super().get_form(request, obj, change, **kwargs)

    @admin.display(description="what it controls")
    def controls(self, module: Module) -> str:
        return MODULE_CONTROLS.get(module.name, "")
