from __future__ import annotations

from html import escape
from typing import Any

from django import template
from django.utils.safestring import mark_safe

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


# A row of My Media: see media_rows.
MEDIA_ROW = (
    '<tr id="media-row-{id}">\n'
    '  <td class="col-thumb"><a href="{url}" tabindex="-1" aria-hidden="true">{thumb}{overlay}'
    "</a></td>\n"
    '  <td><a class="media-name" href="{url}">{name}</a>{shared_by}</td>\n'
    "  <td>{type_label}{spoken_duration}</td>\n"
    '  <td><time datetime="{updated_iso}">{updated}</time></td>\n'
    '  <td><span class="badge status-{status}">{status_label}</span></td>\n'
    '  <td><span class="badge{primary}">{role_label}</span></td>\n'
    '  <td class="col-actions">\n'
    '    <details class="menu" data-menu data-row-menu="{actions}" data-status="{status}">\n'
    '      <summary class="kebab" aria-label="Actions for {name}">⋮</summary>\n'
    '      <div class="menu-items"><a class="menu-item" href="{url}">View</a></div>\n'
    "    </details>\n"
    "  </td>\n"
    "</tr>"
)
MEDIA_ROW_THUMBNAIL = '<img class="thumb" src="{src}" alt="" width="96" height="54">'
MEDIA_ROW_ICON = (
    '<span class="thumb thumb-icon thumb-{media_type}">'
    '<img src="{src}" alt="" width="28" height="28"></span>'
)


@register.simple_tag
def media_rows(rows: list[dict[str, Any]]) -> str:
    """Return rows of My Media (MediaRow.as_context) as HTML.

    Made here for the reason the Roles & permissions rows are (access_rows): twenty rows of
    some twenty values each cost the template engine about five times as much. Every value
    is escaped.
    """
    return mark_safe("\n".join(_media_row(row) for row in rows))  # escaped below


def _media_row(row: dict[str, Any]) -> str:
    duration = escape(row["duration"])
    media_type = escape(row["media_type"])
    thumb = (
        MEDIA_ROW_THUMBNAIL.format(src=escape(row["thumbnail"]))
        if row["thumbnail"]
        else MEDIA_ROW_ICON.format(media_type=media_type, src=escape(row["icon"]))
    )
    owner_name = escape(row["owner_name"])
    return MEDIA_ROW.format(
        id=escape(str(row["id"])),
        url=escape(row["url"]),
        thumb=thumb,
        overlay=f'<span class="thumb-duration">{duration}</span>' if duration else "",
        name=escape(row["name"]),
        shared_by=f'<div class="muted small">Shared by {owner_name}</div>' if owner_name else "",
        type_label=escape(row["type_label"]),
        spoken_duration=f'<span class="visually-hidden">, {duration}</span>' if duration else "",
        updated_iso=escape(row["updated_iso"]),
        updated=escape(row["updated"]),
        status=escape(row["status"]),
        status_label=escape(row["status_label"]),
        primary=" badge-primary" if row["is_owner"] else "",
        role_label=escape(row["role_label"]),
        actions=escape(row["actions"]),
    )
