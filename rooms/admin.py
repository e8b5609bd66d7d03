"""The Django admin for rooms, their moderators and the ChatandCollaboration switch."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString

from accounts.admin import ChosenObjectFilter, filter_link
from accounts.models import User
from mediaspace.admin import RolesAdmin
from mediaspace.models import MediaEntry
from mediaspace.permissions import MODERATOR_ROLES
from rooms import permissions
from rooms.models import Module, Room

MODULE_CONTROLS = {
    Module.Name.CHAT_AND_COLLABORATION: (
        "Room and chat moderators and room chat. While off, moderator grants are kept but "
        "grant nothing and the Moderators entry is hidden."
    ),
}


class RoomOwnerFilter(ChosenObjectFilter):
    title = "owner"
    parameter_name = "owner"
    field_path = "media__owner"
    model = User
    hint = "Click an owner in the list to see only their rooms."


@admin.register(Room)
class RoomAdmin(RolesAdmin):
    """Rooms and, on guardian's object-permission pages, their moderators.

    Rooms are created with their media entry and deleted with it, so neither happens here.
    """

    roles = MODERATOR_ROLES
    access_link_label = "Moderators"
    list_display = ("name", "owner_link", "status", "scheduled_at", "access_link")
    list_filter = (RoomOwnerFilter,)
    search_fields = ("media__name", "media__owner__username")
    search_help_text = "Searches room names and owners' usernames."
    list_select_related = ("media__owner",)
    ordering = ("-pk",)
    fields = ("media", "scheduled_at")
    readonly_fields = ("media",)
    list_per_page = 100
    show_full_result_count = False
    # Room sessions, participants and chat messages come with their models: register
    # them here, read-only, and show a room's sessions as an inline of this admin.
    inlines = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet[Room]:
        return super().get_queryset(request).select_related("media__owner")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Room | None = None) -> bool:
        return False

    def entry_for(self, obj: Model) -> MediaEntry:
        assert isinstance(obj, Room)
        return obj.media

    def get_obj_perms_base_context(self, request: HttpRequest, obj: Model) -> dict[str, Any]:
        if not permissions.moderation_enabled():
            messages.warning(
                request,
                "The ChatandCollaboration module is off: moderators you give here are kept "
                "but grant nothing until it is switched on.",
            )
        return super().get_obj_perms_base_context(request, obj)

    @admin.display(description="name", ordering="media__name")
    def name(self, room: Room) -> str:
        return room.media.name

    @admin.display(description="owner", ordering="media__owner__username")
    def owner_link(self, room: Room) -> SafeString | str:
        owner = room.media.owner
        return filter_link(
            RoomOwnerFilter.parameter_name, owner.pk, str(owner), f"Show only rooms of {owner}"
        )

    @admin.display(description="status", ordering="media__status")
    def status(self, room: Room) -> str:
        return room.media.get_status_display()


@admin.register(Module)
class ModuleAdmin(admin.ModelAdmin):
    """The product's switches. Deleting a module would only switch it off: not offered."""

    list_display = ("name", "enabled", "controls")
    list_editable = ("enabled",)

    def has_delete_permission(self, request: HttpRequest, obj: Module | None = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Module | None = None) -> tuple:
        return ("name",) if obj is not None else ()

    def get_form(self, request: HttpRequest, obj: Module | None = None, **kwargs: Any):
        names = [obj.name] if obj is not None else list(MODULE_CONTROLS)
        help_text = " ".join(f"{name}: {MODULE_CONTROLS.get(name, '')}" for name in names)
        kwargs["help_texts"] = {"enabled": help_text}
        return super().get_form(request, obj, **kwargs)

    @admin.display(description="what it controls")
    def controls(self, module: Module) -> str:
        return MODULE_CONTROLS.get(module.name, "")
