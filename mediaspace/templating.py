"""The Jinja2 environment of the hot lists' rows (templates/**/*.jinja).

Django's template engine renders the pages; a row a list repeats twenty or fifty times
(My Media, Roles & permissions, Activity) renders several times faster from Jinja2, which
compiles templates to Python. Autoescaping is on, as in Django's templates.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from django.templatetags.static import static as static_url
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince
from jinja2 import Environment

from mediaspace.models import MediaEntry


@lru_cache(maxsize=256)
def static(path: str) -> str:
    """Return the URL of a static file, as `{% static %}` does; a list asks the same few
    files row after row (the type icons, the thumbnails)."""
    return static_url(path)


def url(name: str, *args: Any) -> str:
    """Return the URL named `name` with these arguments, as `{% url %}` does."""
    return reverse(name, args=args)


def local(value: datetime) -> datetime:
    """Return a datetime in the current time zone."""
    return timezone.localtime(value)


def short_date(value: datetime) -> str:
    """Return a date as My Media writes it: "Dec 3, 2026"."""
    return f"{value:%b} {value.day}, {value.year}"


def environment(**options: Any) -> Environment:
    """Return the Jinja2 environment Django's Jinja2 backend renders with (settings)."""
    env = Environment(**options)
    env.globals.update(
        url=url,
        static=static,
        now=timezone.now,
        # Choice labels by value: a look-up rather than get_FOO_display() per row.
        type_labels=dict(MediaEntry.Type.choices),
        status_labels=dict(MediaEntry.Status.choices),
    )
    env.filters.update(local=local, short_date=short_date, timesince=timesince)
    return env
