"""The Django admin for rooms and their moderators.

Also the record of what happened in rooms: sessions with their participants, chat
messages and moderation actions. That record is read-only for everyone, superusers
included: sessions change only through rooms.services, and deleted or cleared messages
stay in it, flagged with who and when, for operators to read.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.db.models import Count, Model, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.text import Truncator
from django.utils.timezone import localtime

from accounts.admin import ChosenObjectFilter, admin_link, filter_link, users_matching
from accounts.models import User, search_words
from mediaspace import access
from mediaspace.admin import RolesAdmin
from mediaspace.models import MediaEntry, Role
from mediaspace.permissions import MODERATOR_ROLES
from rooms.models import ChatMessage, ModerationAction, Participant, Room, Session


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
    list_display = ("name", "owner_link", "status", "scheduled_at", "access_link", "sessions")
    list_filter = (RoomOwnerFilter,)
    search_fields = ("media__name", "media__owner__username")
    search_help_text = "Searches room names and owners' usernames."
    list_select_related = ("media__owner",)
    ordering = ("-pk",)
    fields = ("media", "scheduled_at", "sessions")
    readonly_fields = ("media", "sessions")
    list_per_page = 100
    show_full_result_count = False

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
        if not access.module_on():
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

    @admin.display(description="sessions")
    def sessions(self, room: Room) -> SafeString:
        """Link to the room's sessions: a paginated list, since a room has one a week."""
        return changelist_link(
            Session,
            {SessionRoomFilter.parameter_name: room.pk},
            "Sessions",
            f"Show the sessions of {room.media.name}",
        )


# The record of sessions, chat and moderation: read-only -----------------------------


def changelist_link(
    model: type[Model], query: dict[str, Any], label: Any, title: str
) -> SafeString:
    """Return a link to another model's list, filtered by `query`."""
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    return admin_link(f"{url}?{urlencode(query)}", label, title=title)


def when(moment: Any) -> str:
    """Return a moment the way the admin's lists show it."""
    return date_format(localtime(moment), "DATETIME_FORMAT")


def flagged(label: str, moment: Any, by: User | None) -> str:
    """Return e.g. "Deleted by Chad Chen, March 14, 2026, 2:02 p.m."."""
    return f"{label} by {by or 'someone since deleted'}, {when(moment)}"


def role_labels(values: list[str]) -> str:
    """Return the labels of the roles held in a session; none means a participant."""
    return ", ".join(Role(value).label for value in values) or "Participant"


def count_per_session(model: type[Model]) -> Coalesce:
    """Count a session's rows with a subquery per shown session, not a join and GROUP BY."""
    rows = (
        model._default_manager.filter(session=OuterRef("pk"))
        .order_by()
        .values("session")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(rows), 0)


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record nobody rewrites here, superusers included: no add, change or delete.

    Viewing follows Django's permissions (superusers, and staff given "Can view").
    Without the delete permission there is no delete action either.
    """

    list_per_page = 100
    show_full_result_count = False
    # Counts next to each filter choice would aggregate over the whole (long) record.
    show_facets = admin.ShowFacets.NEVER

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class FlagFilter(admin.SimpleListFilter):
    """Filter on whether something happened to a row (deleted, pinned, removed...)."""

    field_path: str = ""
    yes: str = ""
    no: str = ""

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        return [("yes", self.yes), ("no", self.no)]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() not in ("yes", "no"):
            return queryset
        return queryset.filter(**{f"{self.field_path}__isnull": self.value() == "no"})


class SessionRoomFilter(ChosenObjectFilter):
    title = "room"
    parameter_name = "room"
    field_path = "room"
    model = Room
    hint = "Click a room in the list, or Sessions in the Rooms list, to see only its sessions."

    def chosen(self) -> Room | None:
        chosen_id = self.chosen_id()
        if chosen_id is None:
            return None
        return Room.objects.select_related("media").filter(pk=chosen_id).first()


class SessionFilter(ChosenObjectFilter):
    """Filter a session's participants, messages or moderation actions."""

    title = "session"
    parameter_name = "session"
    field_path = "session"
    model = Session
    hint = "Click a session in the list, or a count in the Sessions list, to see only its rows."

    def chosen(self) -> Session | None:
        chosen_id = self.chosen_id()
        if chosen_id is None:
            return None
        return Session.objects.select_related("room__media").filter(pk=chosen_id).first()


def session_link(session: Session, what: str) -> SafeString | str:
    """Return a link that filters the current list down to one session."""
    return filter_link(
        SessionFilter.parameter_name, session.pk, str(session), f"Show only this session's {what}"
    )


def search_people_and_text(
    queryset: QuerySet, search_term: str, person: str, text: str
) -> QuerySet:
    """Return the rows whose text contains the term or whose person's names match it.

    People are matched through the name keys, as everywhere in the admin.
    """
    term = search_term.strip()
    if not term:
        return queryset
    matches = Q(**{f"{text}__icontains": term})
    if search_words(term):
        people = users_matching(User.objects.all(), term).values("pk")
        matches |= Q(**{f"{person}__in": people})
    return queryset.filter(matches)


# Participants


class LimitedFormSet(BaseInlineFormSet):
    """An inline's first `limit` rows, so that a busy session's page stays quick."""

    limit = 100
    all_link = ""

    def get_queryset(self) -> QuerySet:
        # Kept, not sliced afresh: the formset indexes this queryset once per row.
        if not hasattr(self, "_limited"):
            self._limited = super().get_queryset()[: self.limit]
        return self._limited

    @property
    def truncated(self) -> bool:
        return self.initial_form_count() >= self.limit


class ReadOnlyInline(admin.TabularInline):
    """A table of a session's rows: read-only, limited, with a link to all of them."""

    template = "admin/rooms/readonly_tabular.html"
    formset = LimitedFormSet
    limit = 100
    extra = max_num = 0
    can_delete = False

    def get_formset(self, request: HttpRequest, obj: Session | None = None, **kwargs: Any) -> Any:
        formset: Any = super().get_formset(request, obj, **kwargs)  # a LimitedFormSet class
        formset.limit = self.limit
        if obj is not None:
            formset.all_link = changelist_link(
                self.model,
                {SessionFilter.parameter_name: obj.pk},
                f"all of them in the {self.model._meta.verbose_name_plural} list",
                f"Show this session's {self.model._meta.verbose_name_plural}",
            )
        return formset

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ParticipantColumns:
    """How a participant reads, in the inline and in the participants list."""

    @admin.display(description="roles at join")
    def roles_at_join(self, participant: Participant) -> str:
        return role_labels(participant.roles)

    @admin.display(description="removed", ordering="removed_at")
    def removed(self, participant: Participant) -> str:
        if participant.removed_at is None:
            return "-"
        return flagged("Removed", participant.removed_at, participant.removed_by)

    @admin.display(description="blocked from chat", ordering="chat_blocked_at")
    def chat_blocked(self, participant: Participant) -> str:
        if participant.chat_blocked_at is None:
            return "-"
        return flagged("Blocked", participant.chat_blocked_at, participant.chat_blocked_by)


class ParticipantInline(ParticipantColumns, ReadOnlyInline):
    model = Participant
    limit = 500
    fields = ("user", "roles_at_join", "joined_at", "left_at", "removed", "chat_blocked")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Participant]:
        return super().get_queryset(request).select_related("user", "removed_by", "chat_blocked_by")


class ParticipantUserFilter(ChosenObjectFilter):
    title = "person"
    parameter_name = "user"
    field_path = "user"
    model = User
    hint = "Click a person in the list to see only the sessions they joined."


class RemovedFilter(FlagFilter):
    title = "removed"
    parameter_name = "removed"
    field_path = "removed_at"
    yes, no = "Removed", "Not removed"


class ChatBlockedFilter(FlagFilter):
    title = "blocked from chat"
    parameter_name = "blocked"
    field_path = "chat_blocked_at"
    yes, no = "Blocked", "Not blocked"


@admin.register(Participant)
class ParticipantAdmin(ParticipantColumns, ReadOnlyAdmin):
    """Who was in which session, with the roles they joined with."""

    list_display = (
        "joined_at",
        "user_link",
        "session_link",
        "roles_at_join",
        "left_at",
        "removed",
        "chat_blocked",
    )
    list_filter = (SessionFilter, ParticipantUserFilter, RemovedFilter, ChatBlockedFilter)
    search_fields = ("user__username",)
    search_help_text = "Finds people by the start of any word of their name, username or email."
    list_select_related = ("user", "session__room__media", "removed_by", "chat_blocked_by")
    ordering = ("-id",)
    fields = (
        "session",
        "user",
        "roles_at_join",
        "joined_at",
        "left_at",
        "removed",
        "chat_blocked",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Participant]:
        return super().get_queryset(request).select_related(*self.list_select_related)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Participant], search_term: str
    ) -> tuple[QuerySet[Participant], bool]:
        if not search_words(search_term):
            return queryset, False
        return queryset.filter(user__in=users_matching(User.objects.all(), search_term)), False

    @admin.display(description="person", ordering="user__username")
    def user_link(self, participant: Participant) -> SafeString | str:
        user = participant.user
        return filter_link(
            ParticipantUserFilter.parameter_name,
            user.pk,
            str(user),
            f"Show only the sessions {user} joined",
        )

    @admin.display(description="session", ordering="session")
    def session_link(self, participant: Participant) -> SafeString | str:
        return session_link(participant.session, "participants")


# Moderation actions


class ModerationColumns:
    """How a moderation action reads, in the inline and in the list."""

    @admin.display(description="target")
    def target(self, action: ModerationAction) -> SafeString | str:
        """Return the participant acted on and, for a message, a link to it."""
        person = str(action.target_user) if action.target_user_id is not None else ""
        if action.target_message_id is None:
            return person or "-"
        url = reverse("admin:rooms_chatmessage_change", args=[action.target_message_id])
        return admin_link(url, f"message #{action.target_message_id}", before=person)


class ModerationInline(ModerationColumns, ReadOnlyInline):
    model = ModerationAction
    verbose_name_plural = "moderation actions (newest first)"
    fields = ("created_at", "actor", "kind", "target", "detail")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[ModerationAction]:
        return super().get_queryset(request).select_related("actor", "target_user")


class ActionFilter(admin.ChoicesFieldListFilter):
    """The kinds of moderation action, under the title operators read in the list."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.title = "action"


class ModeratorFilter(ChosenObjectFilter):
    title = "done by"
    parameter_name = "actor"
    field_path = "actor"
    model = User
    hint = "Click who did something to see only their actions."


@admin.register(ModerationAction)
class ModerationActionAdmin(ModerationColumns, ReadOnlyAdmin):
    """Who did what to whom in which session: the rooms' moderation record."""

    list_display = ("created_at", "actor_link", "action", "target", "session_link", "detail")
    list_filter = (("kind", ActionFilter), SessionFilter, ModeratorFilter)
    search_fields = ("detail",)
    search_help_text = (
        "Finds actions by who did them (the start of any word of their name, username or "
        "email) and by the names and message text they record."
    )
    list_select_related = ("actor", "target_user", "session__room__media")
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "session",
        "actor",
        "actor_roles_held",
        "kind",
        "target_user",
        "target_message",
        "detail",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[ModerationAction]:
        related = (*self.list_select_related, "target_message")
        return super().get_queryset(request).select_related(*related)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[ModerationAction], search_term: str
    ) -> tuple[QuerySet[ModerationAction], bool]:
        return search_people_and_text(queryset, search_term, "actor", "detail"), False

    @admin.display(description="done by", ordering="actor__username")
    def actor_link(self, action: ModerationAction) -> SafeString | str:
        if action.actor is None:
            return "-"
        return filter_link(
            ModeratorFilter.parameter_name,
            action.actor_id,
            str(action.actor),
            f"Show only what {action.actor} did",
        )

    @admin.display(description="session", ordering="session")
    def session_link(self, action: ModerationAction) -> SafeString | str:
        return session_link(action.session, "moderation actions")

    @admin.display(description="action", ordering="kind")
    def action(self, action: ModerationAction) -> str:
        return action.get_kind_display()

    @admin.display(description="acting as")
    def actor_roles_held(self, action: ModerationAction) -> str:
        return role_labels(action.actor_roles)


# Sessions


@admin.register(Session)
class SessionAdmin(ReadOnlyAdmin):
    """Room sessions, with their participants and moderation; the chat is a link away."""

    list_display = (
        "opened_at",
        "room_link",
        "state",
        "started_at",
        "ended_at",
        "locked",
        "participants",
        "chat",
    )
    list_filter = ("state", "locked", SessionRoomFilter)
    search_fields = ("room__media__name",)
    search_help_text = "Searches room names."
    list_select_related = ("room__media",)
    date_hierarchy = "opened_at"
    fields = (
        "room",
        "state",
        "locked",
        "opened_at",
        "opened_by",
        "started_at",
        "ended_at",
        "ended_by",
        "participants_summary",
        "chat_summary",
        "moderation_summary",
    )
    readonly_fields = fields
    inlines = (ParticipantInline, ModerationInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Session]:
        return (
            super()
            .get_queryset(request)
            .select_related("room__media", "opened_by", "ended_by")
            .annotate(
                participant_count=count_per_session(Participant),
                message_count=count_per_session(ChatMessage),
                action_count=count_per_session(ModerationAction),
            )
        )

    @admin.display(description="room", ordering="room__media__name")
    def room_link(self, session: Session) -> SafeString | str:
        room = session.room
        return filter_link(
            SessionRoomFilter.parameter_name, room.pk, str(room), f"Show only sessions of {room}"
        )

    @admin.display(description="participants", ordering="participant_count")
    def participants(self, session: Any) -> SafeString:  # a Session with its counts
        return changelist_link(
            Participant,
            {SessionFilter.parameter_name: session.pk},
            session.participant_count,
            "Show this session's participants",
        )

    @admin.display(description="messages", ordering="message_count")
    def chat(self, session: Any) -> SafeString:  # a Session with its counts
        """Link to the session's chat: paginated there, never inlined here."""
        return changelist_link(
            ChatMessage,
            {SessionFilter.parameter_name: session.pk},
            session.message_count,
            "Read this session's chat, deleted and cleared messages included",
        )

    @admin.display(description="participants")
    def participants_summary(self, session: Any) -> SafeString:  # a Session with its counts
        return self._summary(Participant, session, session.participant_count)

    @admin.display(description="chat")
    def chat_summary(self, session: Any) -> SafeString:  # a Session with its counts
        """Link to the session's chat: paginated there, never inlined here."""
        return self._summary(ChatMessage, session, session.message_count)

    @admin.display(description="moderation actions")
    def moderation_summary(self, session: Any) -> SafeString:  # a Session with its counts
        return self._summary(ModerationAction, session, session.action_count)

    def _summary(self, model: type[Model], session: Session, count: int) -> SafeString:
        opts = model._meta
        name = opts.verbose_name if count == 1 else opts.verbose_name_plural
        return changelist_link(
            model,
            {SessionFilter.parameter_name: session.pk},
            f"{count} {name}",
            f"Show this session's {opts.verbose_name_plural} in their own list",
        )


# Chat


class AuthorFilter(ChosenObjectFilter):
    title = "author"
    parameter_name = "author"
    field_path = "author"
    model = User
    hint = "Click an author in the list to see only their messages."


class DeletedFilter(FlagFilter):
    title = "deleted"
    parameter_name = "deleted"
    field_path = "deleted_at"
    yes, no = "Deleted", "Not deleted"


class ClearedFilter(FlagFilter):
    title = "cleared"
    parameter_name = "cleared"
    field_path = "cleared_at"
    yes, no = "Cleared", "Not cleared"


class PinnedFilter(FlagFilter):
    title = "pinned"
    parameter_name = "pinned"
    field_path = "pinned_at"
    yes, no = "Pinned", "Not pinned"


@admin.register(ChatMessage)
class ChatMessageAdmin(ReadOnlyAdmin):
    """Room chat as it was written: deleted and cleared messages stay, flagged."""

    list_display = ("created_at", "session_link", "author_link", "text", "status")
    list_filter = (DeletedFilter, ClearedFilter, PinnedFilter, SessionFilter, AuthorFilter)
    search_fields = ("body",)
    search_help_text = (
        "Searches message text, and authors by the start of any word of their name, "
        "username or email."
    )
    list_select_related = (
        "session__room__media",
        "author",
        "deleted_by",
        "cleared_by",
        "pinned_by",
    )
    ordering = ("-id",)
    fields = (
        "session",
        "author",
        "body",
        "created_at",
        "status",
        "pinned_at",
        "pinned_by",
        "deleted_at",
        "deleted_by",
        "cleared_at",
        "cleared_by",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[ChatMessage]:
        return super().get_queryset(request).select_related(*self.list_select_related)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[ChatMessage], search_term: str
    ) -> tuple[QuerySet[ChatMessage], bool]:
        return search_people_and_text(queryset, search_term, "author", "body"), False

    @admin.display(description="session", ordering="session")
    def session_link(self, message: ChatMessage) -> SafeString | str:
        return session_link(message.session, "chat")

    @admin.display(description="author", ordering="author__username")
    def author_link(self, message: ChatMessage) -> SafeString | str:
        author = message.author
        return filter_link(
            AuthorFilter.parameter_name, author.pk, str(author), f"Show only {author}'s messages"
        )

    @admin.display(description="text")
    def text(self, message: ChatMessage) -> str:
        return Truncator(message.body).chars(80)

    @admin.display(description="status")
    def status(self, message: ChatMessage) -> str:
        """Return what happened to the message: deleted, cleared, pinned, or shown."""
        parts = []
        if message.deleted_at is not None:
            parts.append(flagged("Deleted", message.deleted_at, message.deleted_by))
        if message.cleared_at is not None:
            parts.append(flagged("Cleared", message.cleared_at, message.cleared_by))
        if message.pinned_at is not None:
            parts.append(flagged("Pinned", message.pinned_at, message.pinned_by))
        return "; ".join(parts) or "Shown"
