from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.urls import reverse
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class Role(models.TextChoices):
    """What a person or group may do with an entry; see mediaspace.permissions."""

    OWNER = "owner", "Owner"
    CO_EDITOR = "co-editor", "Co-editor"
    CO_PUBLISHER = "co-publisher", "Co-publisher"
    CO_VIEWER = "co-viewer", "Co-viewer"
    ROOM_MODERATOR = "room-moderator", "Room moderator"
    CHAT_MODERATOR = "chat-moderator", "Chat moderator"

    @property
    def is_moderator(self) -> bool:
        return self in (Role.ROOM_MODERATOR, Role.CHAT_MODERATOR)


# Guardian's permission codename of each role a grant can give: all are on MediaEntry
# (Meta.permissions); the owner's is not a permission but MediaEntry.owner.
ROLE_CODENAMES: dict[Role, str] = {
    Role.CO_EDITOR: "coedit_mediaentry",
    Role.CO_PUBLISHER: "copublish_mediaentry",
    Role.CO_VIEWER: "coview_mediaentry",
    Role.ROOM_MODERATOR: "moderate_room",
    Role.CHAT_MODERATOR: "moderate_chat",
}


class MediaEntry(models.Model):
    """A video, audio track, image or live room in the catalogue."""

    class Type(models.TextChoices):
        VIDEO = "video", "Video"
        AUDIO = "audio", "Audio"
        IMAGE = "image", "Image"
        ROOM = "room", "Room"

    class Status(models.TextChoices):
        PRIVATE = "private", "Private"
        UNLISTED = "unlisted", "Unlisted"
        PUBLISHED = "published", "Published"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="media_entries"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=5000)
    tags = models.CharField(
        max_length=500,
        blank=True,
        help_text="Comma-separated, for example: lecture, biology, week 3.",
    )
    media_type = models.CharField("type", max_length=10, choices=Type.choices)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    thumbnail = models.CharField(
        max_length=100,
        blank=True,
        help_text="Artwork under static/mediaspace/thumbnails/; empty shows the type icon.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PRIVATE)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "media entry"
        verbose_name_plural = "media entries"
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-updated_at", "-id"], name="media_owner_updated"),
            models.Index(fields=["status", "-updated_at"], name="media_status_updated"),
            # Every entry in the model's order: the admin's list of entries.
            models.Index(fields=["updated_at", "id"], name="media_updated"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="media_name_not_empty"),
        ]
        permissions = [
            ("coedit_mediaentry", "Co-editor"),
            ("copublish_mediaentry", "Co-publisher"),
            ("coview_mediaentry", "Co-viewer"),
            # Moderators: on rooms only.
            ("moderate_room", "Room moderator"),
            ("moderate_chat", "Chat moderator"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("media_detail", kwargs={"entry_id": self.pk})

    @property
    def tag_list(self) -> list[str]:
        return [tag.strip() for tag in self.tags.split(",") if tag.strip()]

    @property
    def is_room(self) -> bool:
        return self.media_type == self.Type.ROOM

    @property
    def duration_display(self) -> str:
        if self.duration_seconds is None:
            return ""
        hours, rest = divmod(self.duration_seconds, 3600)
        minutes, seconds = divmod(rest, 60)
        return f"{hours}:{minutes:02}:{seconds:02}" if hours else f"{minutes}:{seconds:02}"


class MediaEntryUserObjectPermission(UserObjectPermissionBase):
    """A role held by one user on an entry (guardian, direct foreign key)."""

    content_object = models.ForeignKey(MediaEntry, on_delete=models.CASCADE)


class MediaEntryGroupObjectPermission(GroupObjectPermissionBase):
    """A role held by a group on an entry (guardian, direct foreign key)."""

    content_object = models.ForeignKey(MediaEntry, on_delete=models.CASCADE)


class Module(models.Model):
    """A product module operators switch on or off in the Django admin."""

    class Name(models.TextChoices):
        CHAT_AND_COLLABORATION = "ChatandCollaboration", "ChatandCollaboration"

    name = models.CharField(max_length=50, choices=Name.choices, unique=True)
    enabled = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({'on' if self.enabled else 'off'})"


class EntryAccess(models.Model):
    """Who holds which roles on an entry: the owner, and each user or group granted any.

    The read model of the access rule (mediaspace.access). One row per holder and entry,
    its roles as bits (`access.ROLE_BITS`); a group's row stands for its members as they
    are at the moment of reading. It also carries what the lists sort by, so that each
    holder's entries come in order off an index: the entry's dates and name key (My
    Media) and the holder's name key (Roles & permissions).

    Written only by mediaspace.access, in the same transaction as guardian's rows and the
    entry's changes; `manage.py access_rebuild` writes it anew from guardian's tables.
    """

    entry = models.ForeignKey(MediaEntry, on_delete=models.CASCADE, related_name="+")
    # The holder's own indexes come first in the composite ones below.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    group = models.ForeignKey(
        Group, on_delete=models.CASCADE, null=True, blank=True, related_name="+", db_index=False
    )
    roles = models.PositiveSmallIntegerField()
    holder_key = models.CharField(max_length=150)
    entry_updated_at = models.DateTimeField()
    entry_created_at = models.DateTimeField()
    entry_name_key = models.CharField(max_length=200)
    # The earliest instant at which one of the roles ends (GrantTerm); None when none does.
    ends_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "entry access"
        verbose_name_plural = "entry access"
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, group__isnull=True)
                | Q(user__isnull=True, group__isnull=False),
                name="entry_access_one_holder",
            ),
            models.CheckConstraint(condition=Q(roles__gt=0), name="entry_access_some_role"),
            models.UniqueConstraint(
                fields=["user", "entry"],
                condition=Q(user__isnull=False),
                name="entry_access_user_once",
            ),
            models.UniqueConstraint(
                fields=["group", "entry"],
                condition=Q(group__isnull=False),
                name="entry_access_group_once",
            ),
        ]
        indexes = [
            # A holder's entries in each of My Media's orders.
            *(
                models.Index(
                    fields=[holder, key, "entry", "roles", "ends_at"],
                    condition=Q(**{f"{holder}__isnull": False}),
                    name=f"entry_access_{holder}_{name}",
                )
                for holder in ("user", "group")
                for key, name in (
                    ("entry_updated_at", "updated"),
                    ("entry_created_at", "created"),
                    ("entry_name_key", "name"),
                )
            ),
            # A holder's row on one entry, and their entries in order for counting them
            # (access.MY_MEDIA_COUNT): as the unique constraints, with the roles and when
            # the first of them ends.
            *(
                models.Index(
                    fields=[holder, "entry", "roles", "ends_at"],
                    condition=Q(**{f"{holder}__isnull": False}),
                    name=f"entry_access_{holder}_entry",
                )
                for holder in ("user", "group")
            ),
            # An entry's rows that end, by when: the few past their end (access.HOLDERS_COUNT).
            models.Index(
                fields=["entry", "ends_at"],
                condition=Q(ends_at__isnull=False),
                name="entry_access_ends",
            ),
            # An entry's groups, then its people, in the Roles & permissions tab's order.
            *(
                models.Index(
                    fields=["entry", "holder_key", holder],
                    condition=Q(**{f"{holder}__isnull": False}),
                    name=f"entry_access_{holder}s",
                )
                for holder in ("group", "user")
            ),
        ]

    def __str__(self) -> str:
        holder = f"group {self.group_id}" if self.group_id else f"user {self.user_id}"
        return f"{holder} on {self.entry_id}: {self.roles}"


class GrantTerm(models.Model):
    """When a role granted to a user or group on an entry ends.

    One row per role that ends, at an instant or with the room's session; a role without
    one lasts until someone takes it away. Written by mediaspace.access beside guardian's
    rows (which know nothing of time), and read with them to rebuild EntryAccess. A grant
    stops counting at `ends_at` whatever else happens; the sweep
    (mediaspace.tasks.grants_expire) then removes it and records "expired". One that ends
    with the session is taken away as the session ends (services.session_grants_end).
    """

    entry = models.ForeignKey(MediaEntry, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    group = models.ForeignKey(
        Group, on_delete=models.CASCADE, null=True, blank=True, related_name="+", db_index=False
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    ends_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Instead of an instant: the end of the room's session in progress or of its next one.
    at_session_end = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=False, at_session_end=False)
                | Q(ends_at__isnull=True, at_session_end=True),
                name="grant_term_one_end",
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=False, group__isnull=True)
                | Q(user__isnull=True, group__isnull=False),
                name="grant_term_one_holder",
            ),
            models.CheckConstraint(condition=~Q(role="owner"), name="grant_term_not_owner"),
            *(
                models.UniqueConstraint(
                    fields=["entry", holder, "role"],
                    condition=Q(**{f"{holder}__isnull": False}),
                    name=f"grant_term_{holder}_once",
                )
                for holder in ("user", "group")
            ),
        ]

    def __str__(self) -> str:
        holder = f"group {self.group_id}" if self.group_id else f"user {self.user_id}"
        until = f"{self.ends_at:%Y-%m-%d %H:%M}" if self.ends_at else "the session ends"
        return f"{holder} on {self.entry_id}: {self.role} until {until}"


class ExpiryPolicy(models.Model):
    """How long grants of a role last, as operators set it: the term the access dialogs
    preselect, and the longest they accept (mediaspace.terms)."""

    role = models.CharField(
        max_length=20,
        unique=True,
        choices=[(role.value, role.label) for role in Role if role != Role.OWNER],
    )
    default_days = models.PositiveSmallIntegerField(
        "default term (days)",
        null=True,
        blank=True,
        help_text="Preselected when granting this role. Empty: no expiry.",
    )
    longest_days = models.PositiveSmallIntegerField(
        "longest term (days)",
        null=True,
        blank=True,
        help_text="Grants of this role must end within this many days. Empty: no limit.",
    )

    class Meta:
        verbose_name = "expiry policy"
        verbose_name_plural = "expiry policies"
        ordering = ["role"]
        constraints = [
            models.CheckConstraint(
                condition=Q(default_days__isnull=True) | Q(default_days__gte=1),
                name="expiry_default_positive",
            ),
            models.CheckConstraint(
                condition=Q(longest_days__isnull=True) | Q(longest_days__gte=1),
                name="expiry_longest_positive",
            ),
            models.CheckConstraint(
                condition=Q(default_days__isnull=True)
                | Q(longest_days__isnull=True)
                | Q(default_days__lte=models.F("longest_days")),
                name="expiry_default_within_longest",
            ),
        ]

    def __str__(self) -> str:
        return Role(self.role).label

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.longest_days and self.default_days and self.default_days > self.longest_days:
            raise ValidationError(
                {"default_days": "The default term can't be longer than the longest term."}
            )


class AccessChange(models.Model):
    """One grant, change or removal of permissions on an entry: the audit log."""

    class Reason(models.TextChoices):
        CHANGE = "change", "Changed"  # by a person, or an operator's tooling
        EXPIRED = "expired", "Expired"  # a grant's end came; no one acted
        TRANSFER = "transfer", "Ownership transferred"
        COPY = "copy", "Copied from another entry"

    entry = models.ForeignKey(MediaEntry, on_delete=models.CASCADE, related_name="access_changes")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="access_changes_made",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="access_changes_received",
    )
    group = models.ForeignKey(
        Group, on_delete=models.SET_NULL, null=True, blank=True, related_name="access_changes"
    )
    # Names as they were, so the record still reads well after a rename or deletion.
    principal_name = models.CharField(max_length=200)
    before = models.JSONField(default=list)
    after = models.JSONField(default=list)
    # When the roles of `before` and `after` end, by role (ISO 8601); a role left out lasts.
    before_ends = models.JSONField(default=dict, blank=True)
    after_ends = models.JSONField(default=dict, blank=True)
    reason = models.CharField(max_length=10, choices=Reason.choices, default=Reason.CHANGE)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["entry", "-created_at"], name="access_change_entry")]

    def __str__(self) -> str:
        return f"{self.principal_name} on {self.entry_id}: {self.before} → {self.after}"

    @property
    def before_labels(self) -> list[str]:
        return [Role(value).label for value in self.before]

    @property
    def after_labels(self) -> list[str]:
        return [Role(value).label for value in self.after]
