"""Background work: the real worker (django-tasks-db's db_worker) runs a queued task."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.tasks import TaskResultStatus

from accounts.tasks import mail_send


def run_worker() -> None:
    """Run the worker until the queue is empty, as `manage.py db_worker` does (on the test
    database: the tests' default backend runs tasks at once)."""
    call_command(
        "db_worker",
        "--backend=database",
        "--batch",
        "--no-startup-delay",
        "--no-reload",
        stdout=StringIO(),
        stderr=StringIO(),
    )


# The worker manages its own transactions and connections (it closes one left in a
# transaction), as it does in production: these tests run outside the test's transaction.
@pytest.mark.django_db(transaction=True)
def test_a_queued_mail_waits_for_the_worker_and_goes_out():
    queued = mail_send.using(backend="database").enqueue(
        subject="Reset your MediaSpace password",
        body="Open this link: http://127.0.0.1:8000/accounts/password/reset/x/y/",
        to=["olivia@example.com"],
    )

    assert queued.status == TaskResultStatus.READY
    assert mail.outbox == []

    run_worker()

    queued.refresh()
    assert queued.status == TaskResultStatus.SUCCESSFUL
    [sent] = mail.outbox
    assert (sent.subject, sent.to) == ("Reset your MediaSpace password", ["olivia@example.com"])


@pytest.mark.django_db(transaction=True)
def test_a_task_that_fails_is_recorded_as_failed(settings):
    settings.MAILERS = {"default": {"BACKEND": "accounts.tests_missing.Backend"}}
    queued = mail_send.using(backend="database").enqueue(subject="x", body="y", to=["a@b.c"])

    run_worker()

    queued.refresh()
    assert queued.status == TaskResultStatus.FAILED
    assert mail.outbox == []
