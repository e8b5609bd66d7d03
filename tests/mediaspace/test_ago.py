"""The Activity list's "how long ago": the same words as Django's timesince, faster."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from django.utils.timesince import timesince

from mediaspace.templating import ago

NOW = datetime(2026, 12, 7, 20, 0, tzinfo=UTC)


def test_ago_says_what_timesince_says_for_any_delay():
    rng = random.Random(7)
    delays = [rng.randint(0, 70 * 86400) for _ in range(5000)]
    delays += [59, 60, 61, 3599, 3600, 86399, 86400, 604799, 604800, 28 * 86400 - 1, 28 * 86400]
    for seconds in delays:
        value = NOW - timedelta(seconds=seconds, microseconds=rng.randint(0, 999_999))
        expected = (
            "just now" if NOW - value < timedelta(minutes=1) else f"{timesince(value, NOW)} ago"
        )
        assert ago(value, NOW) == expected, seconds
