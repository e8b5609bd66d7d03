"""Background work for media entries: the expiry sweep."""

from __future__ import annotations

from datetime import datetime

from django.tasks import task


@task
def grants_expire() -> int:
    """Remove the grants whose end has come, recording "expired" (services.grants_expire)."""
    from mediaspace import services  # services schedules this task

    return services.grants_expire()


def expiry_schedule(when: datetime) -> None:
    """Queue the sweep to run at `when`, where the tasks backend can wait (the database's
    can; the immediate one of the tests cannot, and a grant stops counting at its end
    without the sweep anyway)."""
    if grants_expire.get_backend().supports_defer:
        grants_expire.using(run_after=when).enqueue()
