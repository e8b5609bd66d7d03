"""The test suite's settings: the project's, with a random secret key unless one is given,
and background tasks run at once (django.tasks' ImmediateBackend), so that a test sees
what a task did. The "database" backend is the real queue, for the tests of the worker.
"""

from __future__ import annotations

import os
import secrets

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(64))

from mediaspace.settings import *  # noqa: F403

TASKS = {
    "default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"},
    "database": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]},
}
