from __future__ import annotations

from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from mediaspace.models import MediaEntry


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


class Room(models.Model):
    """The live-room record of a media entry of type room."""

    media = models.OneToOneField(
        MediaEntry, on_delete=models.CASCADE, primary_key=True, related_name="room"
    )
    scheduled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        permissions = [
            ("moderate_room", "Room moderator"),
            ("moderate_chat", "Chat moderator"),
        ]

    def __str__(self) -> str:
        return self.media.name


class RoomUserObjectPermission(UserObjectPermissionBase):
    """A moderator permission held by one user (guardian, direct foreign key)."""

    content_object = models.ForeignKey(Room, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["user", "content_object"], name="room_uperm_user")]


class RoomGroupObjectPermission(GroupObjectPermissionBase):
    """A moderator permission held by a group (guardian, direct foreign key)."""

    content_object = models.ForeignKey(Room, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["group", "content_object"], name="room_gperm_group")]
