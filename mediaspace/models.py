from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
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
            # An owner's entries in each of My Media's orders.
            models.Index(fields=["owner", "-updated_at", "-id"], name="media_owner_updated"),
            models.Index(fields=["owner", "created_at", "id"], name="media_owner_created"),
            models.Index(F("owner"), Lower("name"), F("id"), name="media_owner_name"),
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


class EntrySortKeys(models.Model):
    """My Media's sort keys of a permission's entry, copied onto the permission's row.

    My Media lists the entries shared with someone in date or name order. With the keys on
    the rows, each holder's rows come in order off a (holder, key, entry) index, and the
    list merges the user's own and each of their groups' and stops at the page's end,
    instead of reading and sorting every shared entry: thousands, for someone in large
    groups (see permissions.shared_in_order_sql).

    Database triggers write these columns, on every path that adds a permission or changes
    an entry (guardian's assign_perm, the admin, bulk and raw writes alike): see migration
    mediaspace 0005. Nothing else writes them; they are empty only in the instance that an
    insert returns. The name's key is the database's LOWER(name), which My Media sorts by.
    """

    entry_updated_at = models.DateTimeField(null=True, editable=False)
    entry_created_at = models.DateTimeField(null=True, editable=False)
    # Nullable like the others: SQLite adds only a nullable column in place, and rebuilding
    # a guardian table would break the grant view over it.
    entry_name_key = models.CharField(max_length=200, null=True, editable=False)  # noqa: DJ001

    class Meta:
        abstract = True


def sort_key_indexes(holder: str, prefix: str) -> list[models.Index]:
    """Return the indexes that give a holder's permission rows in each My Media order."""
    return [
        models.Index(fields=[holder, column, "content_object"], name=f"{prefix}_{key}")
        for key, column in (
            ("updated", "entry_updated_at"),
            ("created", "entry_created_at"),
            ("name", "entry_name_key"),
        )
    ]


class MediaEntryUserObjectPermission(UserObjectPermissionBase, EntrySortKeys):  # noqa: DJ008 guardian's __str__
    """A collaborator permission held by one user (guardian, direct foreign key)."""

    content_object = models.ForeignKey(MediaEntry, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        indexes = [
            models.Index(fields=["user", "content_object"], name="media_uperm_user"),
            *sort_key_indexes("user", "media_uperm"),
        ]


class MediaEntryGroupObjectPermission(GroupObjectPermissionBase, EntrySortKeys):  # noqa: DJ008 guardian's __str__
    """A collaborator permission held by a group (guardian, direct foreign key)."""

    content_object = models.ForeignKey(MediaEntry, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        indexes = [
            models.Index(fields=["group", "content_object"], name="media_gperm_group"),
            *sort_key_indexes("group", "media_gperm"),
        ]


class Grant(models.Model):
    """Who holds which permission on which entry, with group grants expanded to members.

    A read-only database view over guardian's four permission tables (see migration
    0002), so lists can ask "what is shared with this user" in one plain query. Moderator
    grants count only while the ChatandCollaboration module is on. Never written to:
    grants are made through mediaspace.permissions.
    """

    key = models.CharField(primary_key=True, max_length=40)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    entry = models.ForeignKey(
        MediaEntry, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    group = models.ForeignKey(
        Group, on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+"
    )
    codename = models.CharField(max_length=100)

    class Meta:
        managed = False
        db_table = "mediaspace_grant"

    def __str__(self) -> str:
        return f"{self.user_id} {self.codename} {self.entry_id}"


class AccessChange(models.Model):
    """One grant, change or removal of permissions on an entry: the audit log."""

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
