from __future__ import annotations

from django import forms

from mediaspace.models import MediaEntry
from mediaspace.selectors import ROLE_FILTERS, SORTS


class MyMediaFilterForm(forms.Form):
    """The search, filters, sort and page of My Media, read from the URL."""

    q = forms.CharField(required=False, max_length=200, label="Search")
    type = forms.ChoiceField(
        required=False,
        label="Type",
        choices=[("", "All types"), *MediaEntry.Type.choices],
    )
    role = forms.ChoiceField(
        required=False,
        label="My role",
        choices=[
            ("", "Any role"),
            ("owner", "Owner"),
            ("co-editor", "Co-editor"),
            ("co-publisher", "Co-publisher"),
            ("co-viewer", "Co-viewer"),
            ("moderator", "Moderator"),
        ],
    )
    sort = forms.ChoiceField(
        required=False,
        label="Sort by",
        choices=[
            ("-updated", "Recently updated"),
            ("updated", "Least recently updated"),
            ("-created", "Newest"),
            ("created", "Oldest"),
            ("name", "Name A to Z"),
            ("-name", "Name Z to A"),
        ],
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=1000)

    def cleaned(self) -> dict:
        """Return the valid values, falling back to defaults for anything malformed."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        sort = data.get("sort") or "-updated"
        role = data.get("role") or ""
        return {
            "search": (data.get("q") or "").strip(),
            "media_type": data.get("type") or "",
            "role": role if role in ROLE_FILTERS else "",
            "sort": sort if sort in SORTS else "-updated",
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
