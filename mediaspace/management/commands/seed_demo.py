"""Create the demo data: personas, groups, a library of media and its sharing. Idempotent."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import user_ensure
from mediaspace import access, services, terms
from mediaspace.models import ExpiryPolicy, MediaEntry, Module
from mediaspace.permissions import Role
from rooms import services as room_services

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

V, A, IMG, R = (
    MediaEntry.Type.VIDEO,
    MediaEntry.Type.AUDIO,
    MediaEntry.Type.IMAGE,
    MediaEntry.Type.ROOM,
)
PRIVATE, UNLISTED, PUBLISHED = MediaEntry.Status.values

# owner, name, type, status, duration (h:mm:ss or m:ss), thumbnail, tags, description; the
# first rows are the newest, so the tour's room leads Olivia's My Media.
CATALOGUE = [
    (
        "olivia",
        "Biology 101 — Live office hours",
        R,
        UNLISTED,
        None,
        "",
        "biology, office hours, live",
        "Weekly live Q&A for Biology 101. Bring your lab questions.",
    ),
    (
        "olivia",
        "Cell structure and function",
        V,
        PUBLISHED,
        "48:12",
        "cells.svg",
        "biology, lecture, week 1",
        "Lecture 1: membranes, organelles and what they do.",
    ),
    (
        "olivia",
        "Photosynthesis explained",
        V,
        PUBLISHED,
        "35:47",
        "forest.svg",
        "biology, lecture, week 2",
        "Light reactions and the Calvin cycle, step by step.",
    ),
    (
        "olivia",
        "Genetics lab walkthrough",
        V,
        UNLISTED,
        "21:38",
        "lab.svg",
        "biology, lab, genetics",
        "A walkthrough of the Punnett-square lab before you start.",
    ),
    (
        "olivia",
        "Microscope safety briefing",
        V,
        PRIVATE,
        "8:54",
        "studio.svg",
        "lab, safety",
        "Required viewing before your first lab session.",
    ),
    (
        "olivia",
        "Evolution — guest lecture",
        V,
        PUBLISHED,
        "54:03",
        "aurora.svg",
        "biology, guest lecture",
        "Dr. Amara Singh on convergent evolution.",
    ),
    (
        "olivia",
        "Biology podcast: episode 4",
        A,
        PUBLISHED,
        "31:26",
        "",
        "podcast, biology",
        "Students discuss the ethics of gene editing.",
    ),
    (
        "olivia",
        "Biology podcast: episode 5",
        A,
        PRIVATE,
        "27:41",
        "",
        "podcast, biology",
        "Draft: field trip recap.",
    ),
    (
        "olivia",
        "Mitosis diagram",
        IMG,
        PUBLISHED,
        None,
        "",
        "diagram, biology",
        "Labelled diagram of the phases of mitosis.",
    ),
    (
        "olivia",
        "Field trip photos",
        IMG,
        UNLISTED,
        None,
        "",
        "field trip, photos",
        "Tide pools at Seal Point.",
    ),
    (
        "olivia",
        "Ecology seminar (live)",
        R,
        PRIVATE,
        None,
        "",
        "ecology, seminar, live",
        "Fortnightly seminar for the ecology reading group.",
    ),
    (
        "olivia",
        "Midterm review session",
        V,
        PRIVATE,
        "1:14:09",
        "lecture.svg",
        "biology, exam, review",
        "Everything on the midterm in one sitting.",
    ),
    (
        "olivia",
        "Protein folding animation",
        V,
        PUBLISHED,
        "3:52",
        "waves.svg",
        "biology, animation",
        "A short animation of a protein folding.",
    ),
    (
        "olivia",
        "Lab report template walkthrough",
        V,
        UNLISTED,
        "12:30",
        "campus.svg",
        "lab, writing",
        "How to structure your lab report.",
    ),
    (
        "evan",
        "Chemistry demo: flame tests",
        V,
        PUBLISHED,
        "13:45",
        "sunset.svg",
        "chemistry, demo",
        "Colours of metal ions in a flame.",
    ),
    (
        "evan",
        "Department town hall",
        R,
        UNLISTED,
        None,
        "",
        "department, live",
        "Open meeting for staff and students.",
    ),
    (
        "evan",
        "Astronomy night recording",
        V,
        UNLISTED,
        "1:35:20",
        "stars.svg",
        "astronomy, outreach",
        "Public stargazing night, with commentary.",
    ),
    (
        "evan",
        "Teaching with video — tips",
        V,
        PRIVATE,
        "17:08",
        "ocean.svg",
        "teaching, tips",
        "Short tips for recording good lectures.",
    ),
    (
        "rita",
        "Campus tour",
        V,
        PUBLISHED,
        "10:59",
        "city.svg",
        "campus, welcome",
        "A tour of the science buildings.",
    ),
    (
        "oscar",
        "Oscar's private notes",
        A,
        PRIVATE,
        "4:31",
        "",
        "notes",
        "Nobody else can see this.",
    ),
]

# Olivia's older lectures, after the rows above: enough for My Media's Load more.
TOPICS = [
    ("Cell respiration", "45:18", "cells.svg"),
    ("DNA replication", "41:02", "lab.svg"),
    ("Transcription and translation", "47:55", "lecture.svg"),
    ("Gene regulation", "38:27", "waves.svg"),
    ("Mendelian inheritance", "43:40", "forest.svg"),
    ("Population genetics", "39:13", "aurora.svg"),
    ("Ecosystems and energy flow", "44:36", "ocean.svg"),
    ("The nervous system", "50:21", "stars.svg"),
    ("The immune system", "46:09", "city.svg"),
    ("Plant biology", "36:58", "sunset.svg"),
]
CATALOGUE += [
    (
        "olivia",
        f"Lecture {week}: {topic}",
        V,
        PUBLISHED,
        duration,
        thumbnail,
        f"biology, lecture, week {week}",
        f"Biology 101, week {week}: {topic.lower()}.",
    )
    for week, (topic, duration, thumbnail) in enumerate(TOPICS, start=3)
]


def seconds(duration: str | None) -> int | None:
    """Return the seconds of a duration written h:mm:ss or m:ss."""
    if duration is None:
        return None
    total = 0
    for part in duration.split(":"):
        total = total * 60 + int(part)
    return total


# entry name, username or group name, roles
# (entry, user or group, roles, days until the grant ends or None)
GRANTS: list[tuple[str, str, list[Role], int | None]] = [
    ("Biology 101 — Live office hours", "evan", [Role.CO_EDITOR], None),
    ("Biology 101 — Live office hours", "rita", [Role.ROOM_MODERATOR], None),
    ("Biology 101 — Live office hours", "chad", [Role.CHAT_MODERATOR], None),
    (
        "Biology 101 — Live office hours",
        "Teaching Assistants",
        [Role.ROOM_MODERATOR, Role.CHAT_MODERATOR],
        None,
    ),
    ("Ecology seminar (live)", "evan", [Role.CO_EDITOR], None),
    ("Cell structure and function", "evan", [Role.CO_EDITOR], None),
    ("Photosynthesis explained", "evan", [Role.CO_EDITOR], None),
    ("Genetics lab walkthrough", "evan", [Role.CO_PUBLISHER], None),
    ("Microscope safety briefing", "paula", [Role.CO_VIEWER], 30),
    ("Microscope safety briefing", "Teaching Assistants", [Role.CO_VIEWER], None),
    ("Midterm review session", "Teaching Assistants", [Role.CO_PUBLISHER], 5),
    ("Midterm review session", "evan", [Role.CO_PUBLISHER], None),
    ("Biology podcast: episode 5", "chad", [Role.CO_EDITOR], None),
    ("Biology podcast: episode 5", "Media Team", [Role.CO_PUBLISHER], None),
    ("Department town hall", "olivia", [Role.CO_EDITOR], None),
    ("Department town hall", "rita", [Role.ROOM_MODERATOR, Role.CHAT_MODERATOR], None),
    ("Teaching with video — tips", "olivia", [Role.CO_VIEWER], None),
]


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
        Module.objects.update_or_create(
            name=Module.Name.CHAT_AND_COLLABORATION, defaults={"enabled": True}
        )
        # Co-viewers see private media: a year at most, unless an operator says otherwise.
        ExpiryPolicy.objects.get_or_create(role=Role.CO_VIEWER, defaults={"longest_days": 365})
        self.seed_catalogue(users)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: sign in as olivia, evan, rita, chad, paula or oscar "
                f"(operator: opal), password {DEMO_PASSWORD!r}."
            )
        )

    def seed_catalogue(self, users: dict[str, User]) -> None:
        entries = {}
        now = timezone.now()
        for age, row in enumerate(CATALOGUE):
            owner, name, kind, status, duration, thumbnail, tags, description = row
            entry = MediaEntry.objects.filter(owner=users[owner], name=name).first()
            created = entry is None
            if entry is None and kind == MediaEntry.Type.ROOM:
                entry = room_services.room_create(
                    owner=users[owner],
                    name=name,
                    status=status,
                    tags=tags,
                    description=description,
                )
            elif entry is None:
                entry = services.media_create(
                    owner=users[owner],
                    name=name,
                    media_type=kind,
                    status=status,
                    duration_seconds=seconds(duration),
                    thumbnail=thumbnail,
                    tags=tags,
                    description=description,
                )
            if created:
                # Spread the library over the past weeks so sorting shows something; the
                # entry's access rows take its new dates.
                when = now - timedelta(days=age * 2, hours=age * 5 % 11, minutes=age * 7 % 60)
                MediaEntry.objects.filter(pk=entry.pk).update(created_at=when, updated_at=when)
                entry.refresh_from_db()
                access.entry_keys_write(entry)
            entries[name] = entry
        for entry_name, holder, roles, days in GRANTS:
            principal = users.get(holder) or Group.objects.get(name=holder)
            entry = entries[entry_name]
            services.access_add(
                actor=entry.owner,
                entry=entry,
                principal=principal,
                roles=roles,
                ends=terms.end_after(days) if days else None,
            )
