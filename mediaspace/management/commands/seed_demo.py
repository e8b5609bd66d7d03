"""Create the demo data: personas, a group and a few more people. Safe to run again."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.services import user_ensure

DEMO_PASSWORD = "mediaspace-demo"

# username, display name, email; the personas of the style guide come first.
PEOPLE = [
    ("olivia", "Olivia Owens", "olivia@example.com"),
    ("evan", "Evan Edwards", "evan@example.com"),
    ("rita", "Rita Reyes", "rita@example.com"),
    ("chad", "Chad Chen", "chad@example.com"),
    ("paula", "Paula Park", "paula@example.com"),
    ("oscar", "Oscar Ortiz", "oscar@example.com"),
    ("tara", "Tara Thompson", "tara@example.com"),
    ("tom", "Tom Baker", "tom@example.com"),
    ("maya", "Maya Lopez", "maya@example.com"),
    ("noah", "Noah Kim", "noah@example.com"),
    ("sofia", "Sofia Rossi", "sofia@example.com"),
    ("liam", "Liam Walsh", "liam@example.com"),
]

GROUPS = {
    "Teaching Assistants": ["tara", "tom", "maya"],
    "Media Team": ["noah", "sofia"],
}

OPERATOR = ("opal", "Opal Operator", "opal@example.com")


class Command(BaseCommand):
    help = "Create the demo accounts and data (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        users = {
            username: user_ensure(
                username=username, display_name=name, email=email, password=DEMO_PASSWORD
            )
            for username, name, email in PEOPLE
        }
        username, name, email = OPERATOR
        user_ensure(
            username=username,
            display_name=name,
            email=email,
            password=DEMO_PASSWORD,
            is_staff=True,
            is_superuser=True,
        )
        for group_name, members in GROUPS.items():
            group, _ = Group.objects.get_or_create(name=group_name)
            group.user_set.add(*(users[member] for member in members))
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: sign in as olivia, evan, rita, chad, paula or oscar "
                f"(operator: opal), password {DEMO_PASSWORD!r}."
            )
        )
