from __future__ import annotations

from typing import Any

from django import template
from django.template import engines
from markupsafe import Markup

from mediaspace import permissions, terms
from mediaspace.forms import ROLE_HELP
from mediaspace.models import Role

register = template.Library()


@register.filter
def role_help(value: str) -> str:
    """Return the one-line explanation of a role, for the permission checkboxes."""
    try:
        return ROLE_HELP[Role(value)]
    except ValueError:
        return ""


@register.simple_tag(takes_context=True)
def jinja(context: template.Context, template_name: str, **values: Any) -> Markup:
    """Render one of the hot lists' row templates (a `.jinja` file) with these values.

    Jinja2 escapes every value it writes, as Django does; its output is markup already,
    which the page takes as it is.
    """
    rows = engines["jinja2"].get_template(template_name)
    return Markup(rows.render(values, request=context.get("request")))


@register.filter
def sorted_roles(roles: Any) -> list[Role]:
    """Return roles strongest first (Role's order)."""
    return permissions.sorted_roles(roles)


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """Return mapping[key], or None."""
    return mapping.get(key) if mapping else None


@register.filter
def until_label(end: Any) -> str:
    """Return when a grant ends, in words: "until 12 Jan"."""
    return terms.until_label(end)


@register.filter
def add_error_attrs(field: Any, auto_id: str) -> Any:
    """Render a bound field marked invalid and described by its error."""
    return field.as_widget(attrs={"aria-invalid": "true", "aria-describedby": f"{auto_id}-error"})
