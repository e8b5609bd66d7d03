from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from django import forms
from django.contrib.auth.models import Group
from django.http import QueryDict

from accounts.models import User
from mediaspace import terms
from mediaspace.access import SESSION_END, End, Until
from mediaspace.models import AccessChange, ExpiryPolicy, MediaEntry
from mediaspace.permissions import Role
from mediaspace.services import KEEP, Ends

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


class EndsForm(forms.Form):
    """When the permissions a dialog grants end: a preset term, a last day, or never (and,
    in Edit permissions, as they do now). Checked against the operators' ExpiryPolicy for
    the roles chosen; `cleaned_data["ends_at"]` is the instant, None, or KEEP."""

    ends = forms.ChoiceField(label="Access ends", required=False)
    ends_on = forms.DateField(
        label="Last day",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a date such as 2027-01-12."},
    )

    def ends_setup(
        self,
        roles: tuple[Role, ...],
        *,
        current: Mapping[Role, datetime | Until] | None = None,
        session: bool = False,
    ) -> None:
        """Offer the terms for a dialog granting `roles`; `current` (Edit permissions):
        the ends of what the row holds now, which "Keep" leaves as they are; `session`:
        offer the end of the room's session (moderators)."""
        self.policies: list[ExpiryPolicy] = terms.policies(roles)
        days = terms.default_days(self.policies)
        presets = dict(terms.PRESETS)
        if days and days not in presets:
            presets[days] = f"{days} days"
        choices = [("never", "No expiry")]
        choices += [(str(term), label) for term, label in sorted(presets.items())]
        choices += [("date", "Until the end of a day you pick")]
        if session:
            choices += [("session", "Until the room’s session ends (this one or the next)")]
        initial = str(days) if days else "never"
        if current:
            ends = set(current.values())
            kept = terms.until_label(ends.pop()) if len(ends) == 1 else "as they are now"
            choices.insert(0, ("keep", f"Keep: {kept}"))
            initial = "keep"
        field = self.fields["ends"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices
        field.initial = initial
        self.fields["ends_on"].widget.attrs["min"] = terms.today().isoformat()

    def ends_clean(self, roles: list[Role]) -> Ends:
        """Return the end chosen for `roles`, or add the error to its field (None then)."""
        if "ends" in self.errors:
            return KEEP
        # Left out (a page from before terms existed): what the dialog preselects.
        choice = self.ends_choice = self.cleaned_data.get("ends") or self.fields["ends"].initial
        if choice == "keep":
            return KEEP
        ends: End = None
        if choice == "session":
            return SESSION_END  # no operator's limit can be checked against it
        if choice == "date":
            day = self.cleaned_data.get("ends_on")
            if day is None:
                if "ends_on" not in self.errors:
                    self.add_error("ends_on", "Pick the last day of access.")
                return KEEP
            if day < terms.today():
                self.add_error("ends_on", "Pick today or a later day: that day has passed.")
                return KEEP
            ends = terms.end_of_day(day)
        elif choice != "never":
            ends = terms.end_after(int(choice))
        limit = terms.longest(self.policies, roles)
        if limit is not None:
            days, role = limit
            latest = terms.end_after(days)
            field = "ends_on" if choice == "date" else "ends"
            if ends is None:
                self.add_error(
                    "ends",
                    f"{role.label} access must end within {days} days: choose a term.",
                )
            elif isinstance(ends, datetime) and ends > latest:
                self.add_error(
                    field,
                    f"{role.label} access can last at most {days} days:"
                    f" pick {terms.last_day(latest):%-d %b %Y} or earlier.",
                )
        return ends


class AccessAddForm(EndsForm):
    """Add users or groups with some permissions: the Add moderators/collaborators dialogs."""

    principals = PrincipalsField(label="Select users")
    roles = RolesField(roles=(), label="Select permissions")

    field_order = ["principals", "roles", "ends", "ends_on"]

    def __init__(self, *args, entry: MediaEntry, roles: tuple[Role, ...], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.principals_field.entry = entry
        self.fields["roles"] = RolesField(roles=roles, label="Select permissions")
        self.ends_setup(roles, session=entry.is_room and all(role.is_moderator for role in roles))

    def clean(self) -> dict:
        data = super().clean() or {}
        data["ends_at"] = self.ends_clean(data.get("roles") or [])
        return data

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


class AccessEditForm(EndsForm):
    """Change which permissions one user or group holds, and when they end: the Edit
    permissions dialog."""

    roles = RolesField(roles=(), label="Permissions", required=False)

    field_order = ["roles", "ends", "ends_on"]

    def __init__(
        self,
        *args,
        roles: tuple[Role, ...],
        current: Mapping[Role, datetime | Until],
        room: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["roles"] = RolesField(roles=roles, label="Permissions", required=False)
        self.current = current
        self.ends_setup(roles, current=current, session=room)

    def clean(self) -> dict:
        data = super().clean() or {}
        chosen = data.get("roles") or []
        ends = self.ends_clean(chosen)
        if getattr(self, "ends_choice", "") == "keep":
            # Keeping: only a role newly ticked is held to the operators' maximum.
            limit = terms.longest(self.policies, [r for r in chosen if r not in self.current])
            if limit is not None:
                days, role = limit
                self.add_error(
                    "ends", f"{role.label} access must end within {days} days: choose a term."
                )
        data["ends_at"] = ends
        return data


class TransferForm(forms.Form):
    """Give the entry to another person: the Transfer ownership dialog (owner only)."""

    principals = PrincipalsField(label="New owner")
    keep = forms.BooleanField(
        required=False, initial=True, label="Keep Co-editor access for me after the transfer"
    )

    def __init__(self, *args, entry: MediaEntry, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["principals"]
        assert isinstance(field, PrincipalsField)
        field.entry = entry
        field.error_messages = field.error_messages | {
            "required": "Choose the person who will own it.",
            "owner": "You own it already: choose someone else.",
            "inactive": "{name} is inactive and cannot own media.",
        }

    def clean_principals(self) -> User:
        principals = self.cleaned_data["principals"]
        if len(principals) != 1:
            raise forms.ValidationError("Choose one person: media has a single owner.")
        if isinstance(principals[0], Group):
            raise forms.ValidationError("Ownership goes to a person, not a group.")
        return principals[0]

    def selected(self) -> list[dict[str, str]]:
        return AccessAddForm.selected(self)  # type: ignore[arg-type]

    @property
    def principals_field(self) -> PrincipalsField:
        field = self.fields["principals"]
        assert isinstance(field, PrincipalsField)
        return field


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


class ActivityFilterForm(forms.Form):
    """The audit log's filters on an entry's Activity page: person or group, role, kind of
    change and dates, read from the URL."""

    who = forms.CharField(required=False, max_length=100, label="Person or group")
    role = forms.ChoiceField(
        required=False,
        label="Role",
        choices=[("", "Any role"), *((role.value, role.label) for role in Role)],
    )
    reason = forms.ChoiceField(
        required=False,
        label="Kind of change",
        choices=[("", "Any change"), *AccessChange.Reason.choices],
    )
    since = forms.DateField(
        required=False,
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a date such as 2027-01-12."},
    )
    until = forms.DateField(
        required=False,
        label="To",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a date such as 2027-01-12."},
    )

    def clean(self) -> dict:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", "Pick a day on or after the From day.")
        return data
