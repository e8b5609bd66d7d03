"""The Jinja2 environment of the hot lists' rows (templates/**/*.jinja).

Django's template engine renders the pages; a row a list repeats twenty or fifty times
(My Media, Roles & permissions, Activity) renders several times faster from Jinja2, which
compiles templates to Python. Autoescaping is on, as in Django's templates.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.templatetags.static import static as static_url
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.timesince import timesince
from jinja2 import Environment

from mediaspace import terms
from mediaspace.models import MediaEntry


@lru_cache(maxsize=256)
def static(path: str) -> str:
    """Return the URL of a static file, as `{% static %}` does; a list asks the same few
    files row after row (the type icons, the thumbnails)."""
    return static_url(path)


def url(name: str, *args: Any) -> str:
    """Return the URL named `name` with these arguments, as `{% url %}` does.

    A list asks for two or three URLs a row, and `reverse` costs about 12 µs each; the
    same rows come back on every reload and Load more, so the answers are remembered, for
    the URL configuration and script prefix in use.
    """
    return _reversed(get_urlconf() or settings.ROOT_URLCONF, get_script_prefix(), name, args)


@lru_cache(maxsize=8192)
def _reversed(urlconf: str, prefix: str, name: str, args: tuple) -> str:
    return reverse(name, args=args, urlconf=urlconf)


def _forget_urls(**kwargs: object) -> None:
    """Forget the remembered URLs when the URL configuration changes (tests)."""
    _reversed.cache_clear()


setting_changed.connect(_forget_urls, dispatch_uid="mediaspace.templating.forget_urls")


def local(value: datetime) -> datetime:
    """Return a datetime in the current time zone."""
    return timezone.localtime(value)


def short_date(value: datetime) -> str:
    """Return a date as My Media writes it: "Dec 3, 2026"."""
    return f"{value:%b} {value.day}, {value.year}"


# Under four weeks, timesince's units are fixed lengths: the Activity list's ten items
# are said without its calendar arithmetic, which cost as much as the rest of a row.
AGO_UNITS = ((604800, "week"), (86400, "day"), (3600, "hour"), (60, "minute"))
AGO_CALENDAR = 28 * 86400


def ago(value: datetime, now: datetime) -> str:
    """Return how long ago `value` was, in words: "just now" within a minute, then as
    Django's timesince says it ("3 minutes ago", "2 days, 4 hours ago")."""
    seconds = (now - value).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds >= AGO_CALENDAR:
        return f"{timesince(value, now)} ago"
    parts: list[str] = []
    for size, unit in AGO_UNITS:
        count = int(seconds // size)
        seconds -= size * count
        if count:
            parts.append(f"{count}\xa0{unit}{'' if count == 1 else 's'}")
        elif parts:
            break
        if len(parts) == 2:
            break
    return ", ".join(parts) + " ago"


def _now() -> datetime:
    """Return the time now, looked up at each call (a clock moved in tests is followed)."""
    return timezone.now()


def environment(**options: Any) -> Environment:
    """Return the Jinja2 environment Django's Jinja2 backend renders with (settings)."""
    env = Environment(**options)
    env.globals.update(
        url=url,
        static=static,
        now=_now,
        # Choice labels by value: a look-up rather than get_FOO_display() per row.
        type_labels=dict(MediaEntry.Type.choices),
        status_labels=dict(MediaEntry.Status.choices),
    )
    env.filters.update(
        local=local,
        short_date=short_date,
        ago=ago,
        until=terms.until_label,
        soon=terms.soon_label,
    )
    return env
