from __future__ import annotations

from django import template

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
