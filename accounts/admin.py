"""The Django admin for people and groups, built to stay usable at 100,000 users.

Also home to two pieces the other apps' admins share: `UserPicker`, a searchable
person picker that never renders every user, and `ChosenObjectFilter`, a list filter
that shows the chosen owner, group or entry instead of listing thousands of them.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.contrib.auth import admin as auth_admin
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Func, Model, OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString

from accounts.models import NameKey, User, search_words
from mediaspace import access, services

# The autocomplete endpoint finds the admin that answers a search through a foreign key
# to the model searched. Groups have no field pointing at users, so person pickers name
# this one: the search itself is the User admin's (`UserAdmin.get_search_results`).
USER_LOOKUP_FIELD = NameKey._meta.get_field("user")
GROUP_LOOKUP_FIELD = User._meta.get_field("groups")

USER_SEARCH_HELP = "Finds people by the start of any word of their name, username or email address."


class UserPicker(AutocompleteSelectMultiple):
    """Choose several people by searching, without rendering every user as an option."""

    def __init__(self, admin_site: admin.AdminSite, attrs: dict[str, Any] | None = None):
        super().__init__(USER_LOOKUP_FIELD, admin_site, attrs=attrs)


class OneUserPicker(AutocompleteSelect):
    """Choose one person by searching."""

    def __init__(self, admin_site: admin.AdminSite, attrs: dict[str, Any] | None = None):
        super().__init__(USER_LOOKUP_FIELD, admin_site, attrs=attrs)


class OneGroupPicker(AutocompleteSelect):
    """Choose one group by searching."""

    def __init__(self, admin_site: admin.AdminSite, attrs: dict[str, Any] | None = None):
        super().__init__(GROUP_LOOKUP_FIELD, admin_site, attrs=attrs)


def users_matching(queryset: QuerySet[User], text: str) -> QuerySet[User]:
    """Return the users whose name, username or email has a word starting with each word.

    Goes through the indexed NameKey table (see accounts.models), the way the product's
    own people suggestions do, instead of a substring scan of every user's five names.
    """
    for word in search_words(text):
        upper = word[:-1] + chr(ord(word[-1]) + 1)
        keys = NameKey.objects.filter(key__gte=word, key__lt=upper)
        queryset = queryset.filter(pk__in=keys.values("user_id"))
    return queryset


class ChosenObjectFilter(admin.SimpleListFilter):
    """Filter by one related object without listing every possible one.

    Django's related-field filter renders a link for every owner, group or entry: tens of
    thousands of them. This one lists only the chosen object, next to "All". Operators
    choose by clicking the object in a row of the list (see `filter_link`).
    """

    template = "admin/chosen_filter.html"
    # The lookup to filter on, the model chosen from, and what to tell the operator.
    field_path: str = ""
    model: type[Model]
    hint: str = ""

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        chosen = self.chosen()
        return [(str(chosen.pk), str(chosen))] if chosen is not None else []

    def has_output(self) -> bool:
        return True

    def chosen_id(self) -> int | None:
        """Return the chosen id, or None when nothing (or nothing valid) is chosen."""
        value = self.value()
        if value is None or not ID.fullmatch(value):
            return None
        return int(value)

    def chosen(self) -> Model | None:
        """Return the chosen object, or None when nothing (or nothing valid) is chosen."""
        chosen_id = self.chosen_id()
        if chosen_id is None:
            return None
        return self.model._default_manager.filter(pk=chosen_id).first()

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() is None:
            return queryset
        chosen_id = self.chosen_id()
        if chosen_id is None:
            raise IncorrectLookupParameters(f"{self.parameter_name} must be a number.")
        return queryset.filter(**{self.field_path: chosen_id})


# An id a 64-bit primary key can hold: anything else chooses nothing.
ID = re.compile(r"[0-9]{1,18}")


def operator(request: HttpRequest) -> User:
    """Return the operator making a change in the admin (it lets in only signed-in staff)."""
    user = request.user
    assert isinstance(user, User)
    return user


def admin_link(href: str, label: object, *, title: str = "", before: str = "") -> SafeString:
    """Return a link for an admin list's column (templates/admin/_link.html), after
    `before` when given."""
    context = {"href": href, "label": label, "title": title, "before": before}
    return render_to_string("admin/_link.html", context)


def filter_link(parameter: str, pk: int | None, label: str, title: str) -> SafeString | str:
    """Return a link that filters the current list down to one object."""
    if pk is None:
        return label
    return admin_link(f"?{urlencode({parameter: pk})}", label, title=title)


class UserGroupFilter(ChosenObjectFilter):
    title = "group"
    parameter_name = "group"
    field_path = "groups"
    model = Group
    hint = "To see one group's members, click its member count in the Groups list."


class AuditedDeletionMixin(admin.ModelAdmin):
    """Log the removal of a user's or group's roles before deleting them.

    Their permission rows go with them (cascade); removing the roles first through the
    service puts every removal in the audit log, as any other removal is.
    """

    def delete_model(self, request: HttpRequest, obj: User | Group) -> None:
        with transaction.atomic():
            services.access_remove_all(actor=operator(request), principal=obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        with transaction.atomic():
            for principal in queryset:
                services.access_remove_all(actor=operator(request), principal=principal)
            super().delete_queryset(request, queryset)


class UserAdmin(AuditedDeletionMixin, auth_admin.UserAdmin):
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("display_name", "first_name", "last_name", "email")}),
        (
            "Permissions",
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                ),
            },
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "display_name",
                    "email",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    list_display = ("username", "name", "email", "is_active", "is_staff", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser", UserGroupFilter)
    search_fields = ("username", "display_name", "first_name", "last_name", "email")
    search_help_text = USER_SEARCH_HELP
    ordering = ("username",)
    # Groups are thousands: search them. Permissions are a few dozen: the two panes suit.
    autocomplete_fields = ("groups",)
    filter_horizontal = ("user_permissions",)
    list_per_page = 100
    show_full_result_count = False

    @admin.display(description="name", ordering="display_name")
    def name(self, user: User) -> str:
        return user.name

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[User], search_term: str
    ) -> tuple[QuerySet[User], bool]:
        """Search through the name keys; also answers the admin's person pickers."""
        return users_matching(queryset, search_term), False


class GroupForm(forms.ModelForm):
    """The group with its members, chosen with a searchable picker."""

    members = forms.ModelMultipleChoiceField(
        queryset=User.objects.all(),
        required=False,
        widget=UserPicker(admin.site, attrs={"data-width": "min(100%, 40rem)"}),
        help_text=f"Type to add people. {USER_SEARCH_HELP}",
    )

    class Meta:
        model = Group
        fields = ("name", "members", "permissions")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["members"].initial = list(
                self.instance.user_set.values_list("pk", flat=True)
            )


class GroupAdmin(AuditedDeletionMixin, auth_admin.GroupAdmin):
    form = GroupForm
    list_display = ("name", "member_count")
    search_fields = ("name",)
    list_per_page = 100

    def get_queryset(self, request: HttpRequest) -> QuerySet[Group]:
        # A subquery per shown row, rather than a GROUP BY over every membership.
        memberships = User.groups.through.objects.filter(group=OuterRef("pk")).order_by()
        counted = Subquery(memberships.values(count=Func("pk", function="COUNT")))
        return super().get_queryset(request).annotate(member_count=counted)

    @admin.display(description="members", ordering="member_count")
    def member_count(self, group: Any) -> SafeString:  # a Group with its member_count
        url = reverse(f"{self.admin_site.name}:accounts_user_changelist")
        query = urlencode({UserGroupFilter.parameter_name: group.pk})
        return admin_link(
            f"{url}?{query}", group.member_count, title=f"Show the members of {group.name}"
        )

    def save_model(self, request: HttpRequest, obj: Group, form: GroupForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "name" in form.changed_data:
            access.holder_renamed(obj)  # the Roles & permissions tab sorts by the name

    def save_related(self, request: HttpRequest, form: GroupForm, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        form.instance.user_set.set(form.cleaned_data["members"])


admin.site.register(User, UserAdmin)
admin.site.unregister(Group)
admin.site.register(Group, GroupAdmin)
