"""When grants end: the terms the access dialogs offer, operators' limits, and how an end
reads ("until 12 Jan", "expires in 2 days").

A term ends at the end of a day in the site's time zone (midnight after it): "1 week" is
through the same weekday next week, and "until 12 Jan" means through 12 Jan. The rule
itself (mediaspace.access) knows only instants.
"""

from __future__ import annotations

import time as clock
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta

from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from mediaspace.access import Until, end_parse
from mediaspace.models import ExpiryPolicy, Role

# The preset terms, in days, as the dialogs name them.
PRESETS = {7: "1 week", 30: "30 days"}
SOON = timedelta(days=7)  # an end nearer than this also says how near it is
SESSION_END_LABEL = "until the session ends"


def today() -> date:
    return timezone.localdate()


def end_of_day(day: date) -> datetime:
    """Return the instant a term through `day` ends: midnight after it, in the site's zone."""
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def end_after(days: int) -> datetime:
    """Return the end of a term of `days` days from today."""
    return end_of_day(today() + timedelta(days=days))


def last_day(end: datetime) -> date:
    """Return the last day a term ending at `end` covers."""
    local = timezone.localtime(end)
    return (local - timedelta(microseconds=1)).date() if local.time() == time.min else local.date()


def until_label(end: datetime | Until, now: datetime | None = None) -> str:
    """Return "until 12 Jan" (with the year when it is not this year's, and the time when
    the end is not at a day's end), or "until the session ends"."""
    if isinstance(end, Until):
        return SESSION_END_LABEL
    now = now or timezone.now()
    local = timezone.localtime(end)
    day = last_day(end)
    text = f"until {day.day} {day:%b}"
    if day.year != timezone.localtime(now).year:
        text += f" {day.year}"
    if local.time() != time.min:
        text += f", {local:%H:%M}"
    return text


def soon_label(end: datetime | Until, now: datetime | None = None) -> str:
    """Return "expires in 2 days" (hours, minutes) when the end is near; "" otherwise."""
    if isinstance(end, Until):
        return ""
    now = now or timezone.now()
    left = end - now
    if left >= SOON or left <= timedelta(0):
        return ""
    if left >= timedelta(days=1):
        amount, unit = left.days, "day"
    elif left >= timedelta(hours=1):
        amount, unit = left.seconds // 3600, "hour"
    else:
        amount, unit = max(1, left.seconds // 60), "minute"
    return f"expires in {amount} {unit}{'' if amount == 1 else 's'}"


# The operators' policies, read at most once a minute per process (every dialog asks, and
# operators change them rarely): a change applies at once in the process that made it,
# within POLICY_SECONDS elsewhere.
POLICY_SECONDS = 60
_policies: tuple[float, list[ExpiryPolicy]] | None = None


def policies(roles: Iterable[Role]) -> list[ExpiryPolicy]:
    """Return the operators' expiry policies of these roles."""
    global _policies
    now = clock.monotonic()
    if _policies is None or now - _policies[0] > POLICY_SECONDS:
        _policies = (now, list(ExpiryPolicy.objects.all()))
    wanted = {role.value for role in roles}
    return [policy for policy in _policies[1] if policy.role in wanted]


def policies_forget(**kwargs: object) -> None:
    """Read the policies afresh next time (one was saved or deleted)."""
    global _policies
    _policies = None


post_save.connect(policies_forget, sender=ExpiryPolicy, dispatch_uid="terms.policies.saved")
post_delete.connect(policies_forget, sender=ExpiryPolicy, dispatch_uid="terms.policies.deleted")


def default_days(found: Iterable[ExpiryPolicy]) -> int | None:
    """Return the term to preselect: the shortest default among the policies; None if none."""
    days = [policy.default_days for policy in found if policy.default_days]
    return min(days) if days else None


def longest(found: Iterable[ExpiryPolicy], roles: Iterable[Role]) -> tuple[int, Role] | None:
    """Return the tightest maximum among these roles' policies, in days, and its role."""
    chosen = {role.value for role in roles}
    limits = [
        (policy.longest_days, Role(policy.role))
        for policy in found
        if policy.longest_days and policy.role in chosen
    ]
    return min(limits, key=lambda limit: limit[0]) if limits else None


def role_label(role: str, ends: Mapping[str, str]) -> str:
    """Return a role's label with when it ends, from an audit record's ends (ISO 8601 by
    role): "Chat moderator (until 12 Jan)"; the label alone when it lasts."""
    label = Role(role).label
    end = ends.get(role)
    if not end:
        return label
    return f"{label} ({until_label(end_parse(end))})"
