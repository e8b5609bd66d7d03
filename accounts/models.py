from __future__ import annotations

import hashlib

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower

# Avatar backgrounds, each dark enough for white initials to pass WCAG AA (4.5:1).
AVATAR_COLOURS = (
    "#1d4ed8",
    "#047857",
    "#b91c1c",
    "#7c3aed",
    "#0e7490",
    "#a21caf",
    "#b45309",
    "#4338ca",
    "#be123c",
    "#15803d",
)


class User(AbstractUser):
    """A person who signs in to MediaSpace."""

    email = models.EmailField("email address", blank=True)
    display_name = models.CharField(
        max_length=150,
        blank=True,
        help_text="The name other people see. Falls back to first and last name, then username.",
    )

    class Meta:
        ordering = ["username"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="accounts_user_email_unique_ci",
                violation_error_message="A user with this email address already exists.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """Return the name to show for this person."""
        return self.display_name or self.get_full_name() or self.username

    @property
    def initials(self) -> str:
        """Return one or two letters for the avatar."""
        words = [word for word in self.name.replace(".", " ").split() if word[:1].isalnum()]
        if not words:
            return "?"
        if len(words) == 1:
            return words[0][:1].upper()
        return (words[0][:1] + words[-1][:1]).upper()

    @property
    def avatar_colour(self) -> str:
        """Return a stable background colour for the avatar."""
        return AVATAR_COLOURS[self.avatar_tone]

    @property
    def avatar_tone(self) -> int:
        """Return the index of the avatar colour; the stylesheet has one class per tone."""
        digest = hashlib.blake2s(self.username.encode(), digest_size=2).digest()
        return int.from_bytes(digest) % len(AVATAR_COLOURS)
