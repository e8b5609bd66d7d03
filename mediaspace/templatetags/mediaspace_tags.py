from __future__ import annotations

from typing import Any

from django import template
from django.template import engines
from markupsafe import Markup

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
