"""Remove every grant whose end has come, recording "expired": `manage.py grants_expire`.

The background worker does this at each end; this is for an operator after the worker was
down, or for a cron job where no worker runs. Grants stop counting at their end anyway.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from mediaspace import services


class Command(BaseCommand):
    help = "Remove the grants whose end has come, recording each as expired."

    def handle(self, *args, **options) -> None:
        expired = services.grants_expire()
        self.stdout.write(f"{expired} user(s) or group(s) lost roles that had ended.")
