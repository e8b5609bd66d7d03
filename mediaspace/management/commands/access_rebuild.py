"""Write the access rule's read model anew from guardian's tables: `manage.py access_rebuild`.

For an operator after writing guardian's rows by hand (a restore, a bulk import), or to
check that nothing did: `--check` changes nothing and fails if the model is out of date.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mediaspace import access


class Command(BaseCommand):
    help = "Rebuild EntryAccess (who holds which role on each entry) from guardian's tables."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="change nothing; exit non-zero if EntryAccess differs from guardian's rows",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["check"]:
            differing = access.differences()
            if differing:
                raise CommandError(f"EntryAccess differs from guardian's rows in {differing} rows.")
            self.stdout.write(self.style.SUCCESS("EntryAccess matches guardian's rows."))
            return
        written, differing = access.rebuild()
        self.stdout.write(
            self.style.SUCCESS(f"Wrote {written} rows; {differing} differed from what was there.")
        )
