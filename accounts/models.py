from __future__ import annotations

import hashlib
import re
import unicodedata

from django.contrib.auth.models import AbstractUser, Group
from django.db import models
from django.db.models.functions import Lower
from django.db.models.signals import post_save
from django.dispatch import receiver

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


NAME_FIELDS = ("username", "display_name", "first_name", "last_name", "email")


def search_words(text: str) -> list[str]:
    """Split text into lower-case, accent-free words of letters and digits."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(char for char in folded if not unicodedata.combining(char))
    return [word for word in re.split(r"[^\w]+|_", folded) if word]


class User(AbstractUser):
    """A person who signs in to MediaSpace."""

    email = models.EmailField("email address", blank=True)
    display_name = models.CharField(
        max_length=150,
        blank=True,
        help_text="The name other people see. Falls back to first and last name, then username.",
    )
    # When a password reset link was last mailed (at most one every few minutes).
    password_reset_mailed_at = models.DateTimeField(null=True, blank=True, editable=False)

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
        return self.name_from(self.display_name, self.first_name, self.last_name, self.username)

    @staticmethod
    def name_from(display_name: str, first_name: str, last_name: str, username: str) -> str:
        """Return the name to show for these fields: display name, full name, username."""
        return display_name or f"{first_name} {last_name}".strip() or username

    @property
    def initials(self) -> str:
        """Return one or two letters for the avatar."""
        return self.initials_from(self.name)

    @staticmethod
    def initials_from(name: str) -> str:
        """Return one or two letters for the avatar of someone with this name."""
        words = [word for word in name.replace(".", " ").split() if word[:1].isalnum()]
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
        return self.avatar_tone_of(self.username)

    @staticmethod
    def avatar_tone_of(username: str) -> int:
        """Return the index of the avatar colour of the user with this username."""
        digest = hashlib.blake2s(username.encode(), digest_size=2).digest()
        return int.from_bytes(digest) % len(AVATAR_COLOURS)

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        update_fields = kwargs.get("update_fields")
        if update_fields is None or set(update_fields) & set(NAME_FIELDS):
            self.name_keys_refresh()
        if update_fields is None or {"display_name", "username"} & set(update_fields):
            from mediaspace import access  # mediaspace builds on accounts, not the reverse

            access.holder_renamed(self)  # the Roles & permissions tab sorts by the name

    def name_keys_refresh(self) -> None:
        """Rebuild the words people can find this user by (see NameKey)."""
        NameKey.replace(self, self.name_key_set())

    def name_key_set(self) -> set[str]:
        """Return the words of this user's names, username and email address."""
        keys: set[str] = set()
        for field in NAME_FIELDS:
            keys.update(search_words(getattr(self, field)))
        if self.email:
            keys.add(self.email.casefold())
        keys.add(self.username.casefold())
        return {key[: NameKey.KEY_LENGTH] for key in keys}


class WordKey(models.Model):
    """One word of a name, so that suggestions find what it names by any word's start.

    A prefix look-up on an indexed column stays fast with hundreds of thousands of rows,
    on SQLite and PostgreSQL alike, where a substring scan of the names would not.
    """

    KEY_LENGTH = 100
    OWNER = ""  # the foreign key to what the words name

    key = models.CharField(max_length=KEY_LENGTH)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.key

    @classmethod
    def replace(cls, owner: models.Model, keys: set[str]) -> None:
        """Make `keys` the words `owner` is found by."""
        cls.objects.filter(**{cls.OWNER: owner}).delete()  # type: ignore[attr-defined]
        cls.objects.bulk_create(  # type: ignore[attr-defined]
            [cls(**{cls.OWNER: owner, "key": key}) for key in sorted(keys)]
        )


class NameKey(WordKey):
    """One word of a user's names, username or email address."""

    OWNER = "user"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="name_keys")

    class Meta:
        indexes = [models.Index(fields=["key", "user"], name="accounts_namekey_key")]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="accounts_namekey_unique")
        ]


def group_name_key_set(name: str) -> set[str]:
    """Return the words of a group's name."""
    return {key[: GroupNameKey.KEY_LENGTH] for key in search_words(name)}


class GroupNameKey(WordKey):
    """One word of a group's name: groups are found as people are (NameKey)."""

    OWNER = "group"

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="name_keys")

    class Meta:
        indexes = [models.Index(fields=["key", "group"], name="accounts_groupnamekey_key")]
        constraints = [
            models.UniqueConstraint(fields=["group", "key"], name="accounts_groupnamekey_unique")
        ]


@receiver(post_save, sender=Group, dispatch_uid="accounts.group_name_keys")
def group_name_keys_refresh(sender: type[Group], instance: Group, **kwargs: object) -> None:
    """Rebuild the words a group can be found by whenever it is saved."""
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and "name" not in update_fields:  # type: ignore[operator]
        return
    GroupNameKey.replace(instance, group_name_key_set(instance.name))
