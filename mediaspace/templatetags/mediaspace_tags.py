from __future__ import annotations

from datetime import tzinfo
from functools import cache
from html import escape
from typing import Any

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.timezone import get_current_timezone, localtime

from mediaspace.forms import ROLE_HELP
from mediaspace.models import MediaEntry, Role
from mediaspace.selectors import MediaRow

register = template.Library()


@register.filter
def role_help(value: str) -> str:
    """Return the one-line explanation of a role, for the permission checkboxes."""
    try:
        return ROLE_HELP[Role(value)]
    except ValueError:
        return ""


@register.simple_tag
def select_options(choices: list[tuple[str, str]], selected: str) -> str:
    """Return a select's options with `selected` chosen, escaped.

    A template loop costs some ten times as much, on the page opened most (My Media).
    """
    return mark_safe(  # escaped here
        "".join(
            f'<option value="{escape(str(value))}"{" selected" if value == selected else ""}>'
            f"{escape(str(label))}</option>"
            for value, label in choices
        )
    )


# A row of the Roles & permissions list: see access_rows.
ACCESS_ROW = (
    '<tr id="access-row-{id}"{oob}>\n'
    '  <td><span class="person"><span class="avatar {avatar}" aria-hidden="true">{initials}'
    '</span><span><span class="person-name">{name}</span>{you}<br>'
    '<span class="muted small">{detail}</span></span></span></td>\n'
    '  <td><ul class="badges" aria-label="Permissions of {name}">{badges}</ul></td>\n'
    '  <td class="row-actions">{edit}{remove}</td>\n'
    "</tr>"
)
ACCESS_ROW_BADGE = '<li><span class="badge {style}">{label}</span></li>'
ACCESS_ROW_EDIT = (
    '<a class="button button-link" href="{url}" hx-get="{url}" hx-target="#dialog-host"'
    ' aria-label="Edit permissions of {name}">Edit permissions</a>'
)
ACCESS_ROW_REMOVE = (
    '<a class="button button-link button-link-danger" href="{url}" hx-get="{url}"'
    ' hx-target="#dialog-host" aria-label="Remove {name}">Remove</a>'
)


@register.simple_tag
def access_rows(rows: list[dict[str, Any]], oob: bool = False) -> str:
    """Return rows of the Roles & permissions list (AccessRow.as_context) as HTML.

    Made here rather than by a partial of edit_roles.html: a page shows twenty rows of some
    twenty values each, and the template engine takes five times as long over them. Every
    value is escaped, with the standard library's `html.escape` (what Django's `escape`
    calls, less its checks for lazy strings). `oob` swaps each row in for the one with its
    id (hx-swap-oob).
    """
    return mark_safe("\n".join(_access_row(row, oob) for row in rows))  # escaped below


def _access_row(row: dict[str, Any], oob: bool) -> str:
    name = escape(row["name"])
    edit_url, remove_url = escape(row["edit_url"]), escape(row["remove_url"])
    badges = "".join(
        ACCESS_ROW_BADGE.format(style=escape(style), label=escape(label))
        for label, style in row["badges"]
    )
    return ACCESS_ROW.format(
        id=escape(row["id"]),
        oob=' hx-swap-oob="true"' if oob else "",
        avatar=escape(row["avatar"]),
        initials=escape(row["initials"]),
        name=name,
        you=' <span class="badge">You</span>' if row["is_you"] else "",
        detail=escape(row["detail"]),
        badges=badges,
        edit=ACCESS_ROW_EDIT.format(url=edit_url, name=name) if edit_url else "",
        remove=ACCESS_ROW_REMOVE.format(url=remove_url, name=name) if remove_url else "",
    )


# An item of the Roles & permissions tab's Activity list: see activity_items.
ACTIVITY_ITEM = (
    "<li>\n"
    '  <span class="activity-text"><strong>{actor}</strong>\n'
    "  {what}</span>\n"
    '  <time class="muted small" datetime="{iso}" title="{title}">{ago} ago</time>\n'
    "</li>"
)
ACTIVITY_GAVE = "gave <strong>{name}</strong> {after}"
ACTIVITY_REMOVED = "removed <strong>{name}</strong> ({before})"
ACTIVITY_CHANGED = "changed <strong>{name}</strong> from {before} to {after}"


@register.simple_tag
def activity_items(items: list[dict[str, Any]]) -> str:
    """Return items of the Activity list (ActivityItem.as_context) as HTML.

    Made here for the reason the rows are (access_rows), and escaped the same way.
    """
    return mark_safe("\n".join(_activity_item(item) for item in items))  # escaped below


def _activity_item(item: dict[str, Any]) -> str:
    before, after = escape(item["before"]), escape(item["after"])
    what = ACTIVITY_GAVE if not before else ACTIVITY_REMOVED if not after else ACTIVITY_CHANGED
    return ACTIVITY_ITEM.format(
        actor=escape(item["actor"]),
        what=what.format(name=escape(item["principal_name"]), before=before, after=after),
        iso=escape(item["iso"]),
        title=escape(item["title"]),
        ago=escape(item["ago"]),
    )


MEDIA_ROW_THUMBNAIL = '<img class="thumb" src="{src}" alt="" width="96" height="54">'
MEDIA_ROW_ICON = (
    '<span class="thumb thumb-icon thumb-{media_type}">'
    '<img src="{src}" alt="" width="28" height="28"></span>'
)


@register.simple_tag
def media_rows(rows: list[MediaRow]) -> str:
    """Return rows of My Media as HTML, dates in the current time zone.

    Made here for the reason the Roles & permissions rows are (access_rows): twenty rows of
    some twenty values each cost the template engine about five times as much. Built
    straight from the rows: the values people type (name, owner, thumbnail) are escaped
    here, the labels once below, and the rest are numbers, dates and fixed words.
    """
    zone = get_current_timezone()
    url = entry_url_pattern()
    return mark_safe("\n".join(_media_row(row, url, zone) for row in rows))  # escaped below


# Where the rows' artwork lives, resolved once rather than per row. The plain (unhashed)
# names: WhiteNoise serves them too, and a folder has no manifest entry.
ROW_ASSETS = {
    "thumbnails": f"{settings.STATIC_URL}mediaspace/thumbnails/",
    "icons": f"{settings.STATIC_URL}mediaspace/icons/",
}
TYPE_LABELS_HTML = {value: escape(label) for value, label in MediaEntry.Type.choices}
STATUS_LABELS_HTML = {value: escape(label) for value, label in MediaEntry.Status.choices}
ROLE_LABELS_HTML = {value: escape(label) for value, label in Role.choices}
TYPE_ICONS_HTML = {
    value: MEDIA_ROW_ICON.format(media_type=value, src=escape(f"{ROW_ASSETS['icons']}{value}.svg"))
    for value in MediaEntry.Type.values
}
THUMBNAILS_HTML = escape(ROW_ASSETS["thumbnails"])
# The months as `%b` writes them (the site is in English), without strftime's cost per row.
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@cache
def entry_url_pattern() -> str:
    """Return the media page's URL with `{}` for the id: one reverse() for a whole list."""
    marker = 918273645
    return reverse("media_detail", kwargs={"entry_id": marker}).replace(str(marker), "{}")


def _media_row(row: MediaRow, url_pattern: str, zone: tzinfo) -> str:
    """Return one row of My Media (see media_rows)."""
    entry, access = row.entry, row.access
    url = url_pattern.format(entry.pk)
    name = escape(entry.name)
    thumb = (
        MEDIA_ROW_THUMBNAIL.format(src=THUMBNAILS_HTML + escape(entry.thumbnail))
        if entry.thumbnail
        else TYPE_ICONS_HTML[entry.media_type]
    )
    overlay = spoken_duration = ""
    if duration := entry.duration_display:
        overlay = f'<span class="thumb-duration">{duration}</span>'
        spoken_duration = f'<span class="visually-hidden">, {duration}</span>'
    shared_by = ""
    if row.owner_name:
        shared_by = f'<div class="muted small">Shared by {escape(row.owner_name)}</div>'
    updated = localtime(entry.updated_at, zone)
    role = access.main_role
    primary = " badge-primary" if role == Role.OWNER else ""
    status = entry.status
    # What the row's ⋮ menu offers besides View (static/mediaspace/app.js builds it).
    actions = " ".join(
        action
        for action, allowed in (
            ("edit", access.can_edit),
            ("publish", access.can_publish),
            ("delete", access.can_delete),
        )
        if allowed
    )
    return (
        f'<tr id="media-row-{entry.pk}">\n'
        f'  <td class="col-thumb"><a href="{url}" tabindex="-1" aria-hidden="true">{thumb}'
        f"{overlay}</a></td>\n"
        f'  <td><a class="media-name" href="{url}">{name}</a>{shared_by}</td>\n'
        f"  <td>{TYPE_LABELS_HTML[entry.media_type]}{spoken_duration}</td>\n"
        f'  <td><time datetime="{updated.isoformat()}">'
        f"{MONTHS[updated.month - 1]} {updated.day}, {updated.year}</time></td>\n"
        f'  <td><span class="badge status-{status}">{STATUS_LABELS_HTML[status]}</span></td>\n'
        f'  <td><span class="badge{primary}">{ROLE_LABELS_HTML[role] if role else ""}</span></td>\n'
        '  <td class="col-actions">\n'
        f'    <details class="menu" data-menu data-row-menu="{actions}" data-status="{status}">\n'
        f'      <summary class="kebab" aria-label="Actions for {name}">⋮</summary>\n'
        f'      <div class="menu-items"><a class="menu-item" href="{url}">View</a></div>\n'
        "    </details>\n"
        "  </td>\n"
        "</tr>"
    )
