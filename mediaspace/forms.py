from __future__ import annotations

import re

from django import forms
from django.contrib.auth.models import Group
from django.http import QueryDict

from accounts.models import User
from mediaspace.models import MediaEntry
from mediaspace.permissions import Role

# My Media's filters and sort, as their select boxes offer them.
TYPE_CHOICES = [("", "All types"), *MediaEntry.Type.choices]
ROLE_CHOICES = [
    ("", "Any role"),
    ("owner", "Owner"),
    ("co-editor", "Co-editor"),
    ("co-publisher", "Co-publisher"),
    ("co-viewer", "Co-viewer"),
    ("moderator", "Moderator"),
]
SORT_CHOICES = [
    ("-updated", "Recently updated"),
    ("updated", "Least recently updated"),
    ("-created", "Newest"),
    ("created", "Oldest"),
    ("name", "Name A to Z"),
    ("-name", "Name Z to A"),
]


class MyMediaFilterForm(forms.Form):
    """The search, filters, sort and page of My Media, read from the URL.

    The choices are checked by hand rather than by ChoiceFields: each form copies its
    fields, and copying the choices cost more than the rest of reading the URL, on the
    page opened most.
    """

    q = forms.CharField(required=False, max_length=200, label="Search")
    type = forms.CharField(required=False, label="Type")
    role = forms.CharField(required=False, label="My role")
    sort = forms.CharField(required=False, label="Sort by")
    page = forms.IntegerField(required=False, min_value=1, max_value=1000)

    CHOICES = {"type": TYPE_CHOICES, "role": ROLE_CHOICES, "sort": SORT_CHOICES}
    VALUES = {name: {value for value, _ in choices} for name, choices in CHOICES.items()}

    def clean(self) -> dict:
        data = super().clean() or {}
        for name, values in self.VALUES.items():
            if data.get(name) not in values:
                self.add_error(name, "Choose one of the options offered.")
        return data

    def cleaned(self) -> dict:
        """Return the valid values, falling back to defaults for anything malformed."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "search": (data.get("q") or "").strip(),
            "media_type": data.get("type") or "",
            "role": data.get("role") or "",
            "sort": data.get("sort") or "-updated",
            "page": data.get("page") or 1,
        }


class MediaDetailsForm(forms.ModelForm):
    class Meta:
        model = MediaEntry
        fields = ["name", "description", "tags"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 5}),
            "tags": forms.TextInput(),
        }
        error_messages = {"name": {"required": "Give the media a name."}}

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the media a name.", code="required")
        return name


class MediaStatusForm(forms.Form):
    status = forms.ChoiceField(choices=MediaEntry.Status.choices)


MOST_PRINCIPALS = 50
# A user or group as the combobox names it: the kind and an id a 64-bit key can hold.
PRINCIPAL_KEY = re.compile(r"(user|group):([0-9]{1,18})")


def principal_key(value: object) -> tuple[str, int] | None:
    """Return ("user" or "group", id) for a value such as "user:12"; None if malformed."""
    found = PRINCIPAL_KEY.fullmatch(str(value)) if isinstance(value, str) else None
    if found is None:
        return None
    return found.group(1), int(found.group(2))


class PrincipalsField(forms.Field):
    """Users and groups picked in the Select users combobox, as "user:12" and "group:3".

    Every value is checked on the server: it must name an existing, active user or an
    existing group, and not the entry's owner.
    """

    default_error_messages = {
        "required": "Choose at least one user or group.",
        "invalid": "One of the chosen users or groups is not valid. Remove it and try again.",
        "missing": "{name} no longer exists. Remove it and try again.",
        "inactive": "{name} is inactive and cannot be given access.",
        "owner": "{name} is the owner and already has full control.",
        "too_many": "Choose at most 50 users and groups at a time.",
    }
    widget = forms.MultipleHiddenInput

    def __init__(self, *, entry: MediaEntry | None = None, **kwargs) -> None:
        self.entry = entry
        super().__init__(**kwargs)

    def to_python(self, value) -> list[tuple[str, int]]:
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        keys: list[tuple[str, int]] = []
        for item in value:
            key = principal_key(item)
            if key is None:
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
            if key not in keys:
                keys.append(key)
        if len(keys) > MOST_PRINCIPALS:
            raise forms.ValidationError(self.error_messages["too_many"], code="too_many")
        return keys

    def to_python_safe(self, value) -> list[tuple[str, int]]:
        """Return the well-formed keys among the values, ignoring the rest."""
        keys = []
        for item in value or []:
            key = principal_key(item)
            if key is not None and key not in keys:
                keys.append(key)
        return keys[:MOST_PRINCIPALS]

    def clean(self, value) -> list[User | Group]:
        keys = self.to_python(value)
        if not keys:
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return []
        users = User.objects.in_bulk([pk for kind, pk in keys if kind == "user"])
        groups = Group.objects.in_bulk([pk for kind, pk in keys if kind == "group"])
        principals: list[User | Group] = []
        errors = []
        for kind, pk in keys:
            principal = (users if kind == "user" else groups).get(pk)
            if principal is None:
                name = "That user" if kind == "user" else "That group"
                errors.append(self._error("missing", name))
                continue
            if isinstance(principal, User) and not principal.is_active:
                errors.append(self._error("inactive", principal.name))
            elif isinstance(principal, User) and self.entry and pk == self.entry.owner_id:
                errors.append(self._error("owner", principal.name))
            principals.append(principal)
        if errors:
            raise forms.ValidationError(errors)
        return principals

    def _error(self, code: str, name: str) -> forms.ValidationError:
        return forms.ValidationError(
            self.error_messages[code].format(name=name), code=code, params={"name": name}
        )


class RolesField(forms.TypedMultipleChoiceField):
    """The permission checkboxes of the access dialogs."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, *, roles: tuple[Role, ...], required: bool = True, **kwargs) -> None:
        super().__init__(
            choices=[(role.value, role.label) for role in roles],
            coerce=Role,
            required=required,
            error_messages={"required": "Choose at least one permission."},
            **kwargs,
        )


ROLE_HELP = {
    Role.CO_EDITOR: "Edit details and manage moderators; a host in the room",
    Role.CO_PUBLISHER: "Change the publishing status",
    Role.CO_VIEWER: "See the media even when it is private",
    Role.ROOM_MODERATOR: "Full room moderation permissions",
    Role.CHAT_MODERATOR: "Manage chat during sessions",
}


class AccessAddForm(forms.Form):
    """Add users or groups with some permissions: the Add moderators/collaborators dialogs."""

    principals = PrincipalsField(label="Select users")
    roles = RolesField(roles=(), label="Select permissions")

    def __init__(self, *args, entry: MediaEntry, roles: tuple[Role, ...], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.principals_field.entry = entry
        self.fields["roles"] = RolesField(roles=roles, label="Select permissions")

    @property
    def principals_field(self) -> PrincipalsField:
        field = self.fields["principals"]
        assert isinstance(field, PrincipalsField)
        return field

    def selected(self) -> list[dict[str, str]]:
        """Return the chips chosen so far (key and name), even when the form has errors."""
        chosen = self.data.getlist("principals") if isinstance(self.data, QueryDict) else []
        keys = self.principals_field.to_python_safe(chosen)
        users = User.objects.in_bulk([pk for kind, pk in keys if kind == "user"])
        groups = Group.objects.in_bulk([pk for kind, pk in keys if kind == "group"])
        chips = []
        for kind, pk in keys:
            principal = (users if kind == "user" else groups).get(pk)
            if principal is not None:
                chips.append({"key": f"{kind}:{pk}", "name": str(principal)})
        return chips


class AccessEditForm(forms.Form):
    """Change which permissions one user or group holds: the Edit permissions dialog."""

    roles = RolesField(roles=(), label="Permissions", required=False)

    def __init__(self, *args, roles: tuple[Role, ...], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["roles"] = RolesField(roles=roles, label="Permissions", required=False)


class RoomCreateForm(forms.ModelForm):
    class Meta:
        model = MediaEntry
        fields = ["name", "description", "tags"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4}), "tags": forms.TextInput()}
        error_messages = {"name": {"required": "Give the room a name."}}

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the room a name.", code="required")
        return name
