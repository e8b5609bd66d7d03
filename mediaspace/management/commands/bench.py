"""Time the main pages in-process against a large, deterministic data set: `make bench`.

The data goes into a throwaway test database, never the developer's: a temporary file
on SQLite (so timings resemble a deployment, not memory), `test_<name>` on PostgreSQL.
Each page gets warm-up requests, then timed samples through the whole middleware stack
with `django.test.Client`; one more request, outside the samples, counts its queries.

A page's ratio is its p50 over the floor's p50. The floor is a signed-in page that
renders only the base template. It is timed alongside each page, one floor request
before each of the page's (after the same warm-up), so that the two meet the same
machine: on a shared machine the speed drifts by more than the targets' margins within
a run, and a floor timed minutes apart compares unlike with unlike. The report's floor
line takes all the floor samples together. Percentiles are nearest-rank.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from math import ceil
from pathlib import Path
from time import perf_counter, perf_counter_ns
from typing import Any
from urllib.parse import urlencode

import django
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.db.backends.base.creation import TEST_DATABASE_PREFIX
from django.http import HttpResponse
from django.test import Client, override_settings
from django.test.utils import (
    CaptureQueriesContext,
)
from django.urls import NoReverseMatch, reverse

from mediaspace import bench_data
from mediaspace.bench_data import MEMBER_USERNAME, OWNER_USERNAME, SEARCH_WORD, BenchData
from rooms import selectors as room_selectors

SAMPLES = 300
QUICK_SAMPLES = 30
QUICK_SCALE = 0.1
WARMUP = 20
PAGE_TARGET = 3.0


@dataclass(frozen=True)
class Page:
    """One page to time: who asks for what, and how many floors its p50 may cost."""

    label: str
    user: str | None  # a bench username; None asks anonymously
    url: str | Callable[[BenchData], str]  # a URL name, or a function of the bench data
    method: str = "get"
    # The form data, or a function of the bench data and the request's number, so that
    # each POST can do real work (grant someone new) rather than repeat a no-op.
    data: Mapping[str, object] | Callable[[BenchData, int], Mapping[str, object]] | None = None
    target: float | None = None
    headers: Mapping[str, str] | None = None  # extra request headers, e.g. HX-Request
    status: int = 200  # the answer expected: 204 for a poll with nothing new


def entry_url(name: str) -> Callable[[BenchData], str]:
    """Return a URL builder for one of the timed entry's pages."""
    return lambda bench: reverse(name, kwargs={"entry_id": bench.entry_id})


FLOOR = Page("floor", OWNER_USERNAME, "bench_floor")

# The room's pages (rooms, issue 5): htmx requests, as the room page sends them.
HTMX = {"HTTP_HX_REQUEST": "true"}
FORM_ENCODED = "application/x-www-form-urlencoded"
ROOM_POST_TARGET = 2.0


def room_poll_url(bench: BenchData) -> str:
    """Return the member's poll URL with the cursor as their page holds it now."""
    view = room_selectors.standing_for_user(bench.member, bench.entry_id)
    return f"{reverse('room_poll', kwargs={'entry_id': bench.entry_id})}?after={view.cursor}"


# Later work adds its pages here.
PAGES = [
    Page("sign-in", None, "login"),
    Page("my-media owner", OWNER_USERNAME, "my_media", target=PAGE_TARGET),
    Page(
        "my-media owner search",
        OWNER_USERNAME,
        "my_media",
        data={"q": SEARCH_WORD},
        target=PAGE_TARGET,
    ),
    Page("my-media member", MEMBER_USERNAME, "my_media", target=PAGE_TARGET),
    Page(
        "my-media member search",
        MEMBER_USERNAME,
        "my_media",
        data={"q": SEARCH_WORD},
        target=PAGE_TARGET,
    ),
    Page("media page", OWNER_USERNAME, entry_url("media_detail"), target=PAGE_TARGET),
    Page("edit details", OWNER_USERNAME, entry_url("media_edit"), target=PAGE_TARGET),
    # The room (rooms, issue 5): the member is one of the live session's 300 participants.
    Page(
        "room join",
        MEMBER_USERNAME,
        entry_url("participant_join"),
        method="post",
        headers=HTMX,
        target=ROOM_POST_TARGET,
    ),
    Page(
        "room poll, nothing new",
        MEMBER_USERNAME,
        room_poll_url,
        headers=HTMX,
        status=204,
        target=1.5,
    ),
    Page(
        "room post message",
        MEMBER_USERNAME,
        entry_url("message_post"),
        method="post",
        data={"body": "A question from the benchmark"},
        headers=HTMX,
        status=204,
        target=ROOM_POST_TARGET,
    ),
    Page("room page", MEMBER_USERNAME, entry_url("room_detail")),
    # Roles & permissions (issue 4): the timed room has 500 user and group grants.
    Page("roles & permissions tab", OWNER_USERNAME, entry_url("media_roles"), target=3.0),
    Page(
        "suggestions",
        OWNER_USERNAME,
        entry_url("principals_suggest"),
        data={"q": bench_data.SUGGEST_QUERY},
        target=2.0,
    ),
    Page(
        "add moderators (POST)",
        OWNER_USERNAME,
        entry_url("moderators_add"),
        method="post",
        data=lambda bench, index: {
            "principals": f"user:{bench.newcomers[index % len(bench.newcomers)]}",
            "roles": ["room-moderator"],
        },
        headers=HTMX,
        target=3.0,
    ),
]


@dataclass
class Timing:
    """The samples and query count of one page, and the floor's samples taken alongside.

    No URL means the page is not built yet.
    """

    page: Page
    url: str | None = None
    samples_ns: list[int] = field(default_factory=list)
    floor_ns: list[int] = field(default_factory=list)
    queries: int | None = None

    def percentile_ms(self, fraction: float) -> float:
        """Return the nearest-rank percentile of the samples, in milliseconds."""
        return percentile_ms(self.samples_ns, fraction)


def percentile_ms(samples_ns: list[int], fraction: float) -> float:
    """Return the nearest-rank percentile of samples in nanoseconds, in milliseconds."""
    ordered = sorted(samples_ns)
    return ordered[max(0, ceil(fraction * len(ordered)) - 1)] / 1e6


@contextmanager
def throwaway_database() -> Iterator[None]:
    """Run the block against a new test database, destroyed afterwards."""
    test_settings = connection.settings_dict["TEST"]
    old_test_name = test_settings.get("NAME")
    temporary = None
    if connection.vendor == "sqlite":
        # A real file, not Django's default in-memory test database.
        temporary = Path(tempfile.mkdtemp(prefix="mediaspace-bench-"))
        test_settings["NAME"] = str(temporary / "bench.sqlite3")
    # No setup_test_environment(): it instruments every template render for the test
    # client's benefit, which production does not pay and which would skew the timings.
    try:
        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
        try:
            yield
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)
    finally:
        test_settings["NAME"] = old_test_name
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)


def is_test_database() -> bool:
    """Return whether the current database is a test database, safe to fill."""
    if connection.vendor == "sqlite" and connection.is_in_memory_db():  # type: ignore[attr-defined]
        return True
    return Path(str(connection.settings_dict["NAME"])).name.startswith(TEST_DATABASE_PREFIX)


def signed_in_clients(bench: BenchData) -> dict[str | None, Client]:
    """Return one test client per bench user, plus an anonymous one."""
    clients: dict[str | None, Client] = {None: Client()}
    for username, user in bench.users.items():
        clients[username] = Client()
        clients[username].force_login(user)
    return clients


def resolve(page: Page, bench: BenchData) -> str | None:
    """Return the page's URL, or None when its URL name does not exist yet."""
    try:
        return page.url(bench) if callable(page.url) else reverse(page.url)
    except NoReverseMatch:
        return None


def timed_request(
    page: Page, client: Client, url: str, bench: BenchData | None = None, index: int = 0
) -> int:
    """Send the page's request and return its duration in ns; fail loudly unless expected."""
    send = getattr(client, page.method)
    data: Any = page.data(bench, index) if callable(page.data) and bench else page.data
    extra: dict[str, Any] = dict(page.headers or {})
    if page.method == "post":
        # As a browser and htmx send a form: URL-encoded (the test client's default is
        # multipart, which costs the server more to parse).
        data, extra["content_type"] = urlencode(data or {}, doseq=True), FORM_ENCODED
    started = perf_counter_ns()
    try:
        response: HttpResponse = send(url, data, **extra)
    except Exception as error:
        raise CommandError(f"{page.label}: {page.method.upper()} {url} raised {error!r}") from error
    elapsed = perf_counter_ns() - started
    if response.status_code != page.status:
        where = f" to {response['Location']}" if response.has_header("Location") else ""
        raise CommandError(
            f"{page.label}: {page.method.upper()} {url} answered "
            f"{response.status_code}{where}, expected {page.status}"
        )
    return elapsed


class Command(BaseCommand):
    help = "Seed a throwaway database with a large data set and time the main pages in-process."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--samples",
            type=int,
            help=f"timed requests per page (default {SAMPLES}, {QUICK_SAMPLES} with --quick)",
        )
        parser.add_argument(
            "--quick",
            action="store_true",
            help=f"seed a data set {QUICK_SCALE:g} times the size and take fewer samples",
        )
        parser.add_argument(
            "--json",
            type=Path,
            default=settings.BASE_DIR / "bench-results.json",
            help="where to write the results (default: bench-results.json)",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="exit non-zero when a page's p50 ratio to the floor exceeds its target",
        )
        # For tests: shrink the data set further, and seed the test database in use.
        parser.add_argument("--scale", type=float, help=argparse.SUPPRESS)
        parser.add_argument("--in-current-db", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        self.verbosity = options["verbosity"]
        quick = options["quick"]
        scale = options["scale"] if options["scale"] is not None else (QUICK_SCALE if quick else 1)
        samples = options["samples"]
        if samples is None:
            samples = QUICK_SAMPLES if quick else SAMPLES
        if samples < 1 or scale <= 0:
            raise CommandError("--samples and --scale must be positive.")
        if options["in_current_db"]:
            if not is_test_database():
                raise CommandError("--in-current-db only seeds a test database.")
            report = self.run(scale, samples)
        else:
            with throwaway_database():
                report = self.run(scale, samples)
        options["json"].write_text(json.dumps(report, indent=2) + "\n")
        self.stdout.write(f"Results written to {options['json']}")
        if options["check"]:
            self.check_targets(report)

    def run(self, scale: float, samples: int) -> dict[str, Any]:
        """Seed the data set, time every page and return the report."""
        started = perf_counter()
        bench = bench_data.seed(scale)
        seed_seconds = perf_counter() - started
        self.stdout.write(self.describe_data(bench, seed_seconds))
        allowed_hosts = [*settings.ALLOWED_HOSTS, "testserver"]
        # The bench's one poster posts every few milliseconds: a 5 ms window keeps them
        # under the chat's rate limit, so the post is timed with the check an ordinary
        # poster meets (a handful of their recent messages read), not refused.
        with override_settings(
            ROOT_URLCONF="mediaspace.bench_urls",
            DEBUG=False,
            ALLOWED_HOSTS=allowed_hosts,
            CHAT_RATE_SECONDS=0.005,
        ):
            clients = signed_in_clients(bench)
            floor_url = resolve(FLOOR, bench)
            timings = [self.time_page(page, bench, clients, samples, floor_url) for page in PAGES]
            floor = self.floor_timing(bench, clients[FLOOR.user], floor_url, timings)
        report = self.build_report(bench, seed_seconds, samples, [floor, *timings])
        self.print_report(report)
        return report

    def time_page(
        self,
        page: Page,
        bench: BenchData,
        clients: dict[str | None, Client],
        samples: int,
        floor_url: str | None,
    ) -> Timing:
        """Warm the page up, count its queries once, then take its samples and the floor's.

        Each of the page's samples follows one of the floor's: the ratio compares the two
        under the same conditions.
        """
        url = resolve(page, bench)
        if url is None or floor_url is None:
            return Timing(page)
        client, floor_client = clients[page.user], clients[FLOOR.user]
        for index in range(WARMUP):
            timed_request(FLOOR, floor_client, floor_url, bench, index)
            timed_request(page, client, url, bench, index)
        with CaptureQueriesContext(connection) as context:
            timed_request(page, client, url, bench, WARMUP)
        # Read the log now: the next request resets it.
        queries = context.captured_queries
        if self.verbosity >= 2:
            self.print_queries(page, queries)
        gc.collect()
        timing = Timing(page, url, queries=len(queries))
        for index in range(samples):
            timing.floor_ns.append(timed_request(FLOOR, floor_client, floor_url, bench, index))
            timing.samples_ns.append(timed_request(page, client, url, bench, WARMUP + 1 + index))
        return timing

    def floor_timing(
        self, bench: BenchData, client: Client, url: str | None, timings: list[Timing]
    ) -> Timing:
        """Return the floor's line: every floor sample taken alongside the pages, together."""
        queries = None
        if url is not None:
            with CaptureQueriesContext(connection) as context:
                timed_request(FLOOR, client, url, bench)
            queries = len(context.captured_queries)
        samples_ns = [ns for timing in timings for ns in timing.floor_ns]
        return Timing(FLOOR, url, samples_ns, samples_ns, queries)

    def build_report(
        self, bench: BenchData, seed_seconds: float, samples: int, timings: list[Timing]
    ) -> dict[str, Any]:
        """Return the results as plain data, for the table and the JSON file."""
        floor = timings[0]
        return {
            "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": {
                "vendor": connection.vendor,
                "version": ".".join(map(str, connection.get_database_version())),
            },
            "python": platform.python_version(),
            "django": django.get_version(),
            "sizes": {
                **asdict(bench.sizes),
                "rooms": bench.rooms,
                "member_visible_entries": bench.member_visible_entries,
                "permission_rows": bench.permission_rows,
                "grant_terms": bench.grant_terms,
                "ended_terms": bench.ended_terms,
            },
            "seed_seconds": round(seed_seconds, 2),
            "samples": samples,
            "warmup": WARMUP,
            "floor": {
                "p50_ms": round(floor.percentile_ms(0.5), 3),
                "method": "each page's ratio is to the floor timed alternately with it",
            },
            "pages": [self.page_result(timing) for timing in timings],
        }

    def page_result(self, timing: Timing) -> dict[str, Any]:
        """Return one page's line of the report."""
        page = timing.page
        result: dict[str, Any] = {
            "label": page.label,
            "user": page.user,
            "url": timing.url,
            "p50_ms": None,
            "p95_ms": None,
            "floor_p50_ms": None,
            "queries": timing.queries,
            "ratio": None,
            "target": page.target,
            "skipped": timing.url is None,
        }
        if timing.url is not None:
            p50, floor_p50 = timing.percentile_ms(0.5), percentile_ms(timing.floor_ns, 0.5)
            result["p50_ms"] = round(p50, 3)
            result["p95_ms"] = round(timing.percentile_ms(0.95), 3)
            result["floor_p50_ms"] = round(floor_p50, 3)
            result["ratio"] = round(p50 / floor_p50, 2)
        return result

    def describe_data(self, bench: BenchData, seed_seconds: float) -> str:
        """Return the line that says what was seeded and how long it took."""
        sizes = bench.sizes
        return (
            f"Seeding took {seed_seconds:.1f} s ({connection.vendor}): {sizes.users:,} users, "
            f"{sizes.groups:,} groups, {sizes.entries:,} entries ({sizes.owner_entries:,} "
            f"owned by {OWNER_USERNAME}), {bench.rooms:,} rooms, "
            f"{bench.permission_rows:,} permission rows; {MEMBER_USERNAME} sees "
            f"{bench.member_visible_entries:,} entries through {bench_data.MEMBER_GROUPS} groups; "
            f"{bench.grant_terms:,} grants end ({bench.ended_terms:,} ended, not yet swept)."
        )

    def print_report(self, report: dict[str, Any]) -> None:
        """Write the results table."""
        database, floor = report["database"], report["floor"]
        floors = [row["floor_p50_ms"] for row in report["pages"] if not row["skipped"]]
        spread = f"{min(floors):.2f}–{max(floors):.2f} ms" if floors else "-"
        self.stdout.write(
            f"{database['vendor']} {database['version']} · {report['samples']} samples per "
            f"page, each after one of the floor's, after {report['warmup']} warm-up requests "
            f"· floor p50 {floor['p50_ms']} ms overall, {spread} alongside the pages; "
            "a page's ratio is to the floor timed alongside it."
        )
        header = f"{'page':<24}{'user':<14}{'p50 ms':>8}{'p95 ms':>9}{'floor':>8}{'queries':>9}"
        self.stdout.write(f"\n{header}{'ratio':>8}{'target':>8}")
        self.stdout.write("-" * (len(header) + 16))
        for row in report["pages"]:
            self.stdout.write(self.format_row(row))

    def format_row(self, row: dict[str, Any]) -> str:
        """Return one line of the table."""
        start = f"{row['label']:<24}{row['user'] or 'anonymous':<14}"
        if row["skipped"]:
            return f"{start}skipped (not built yet)"
        target = f"{row['target']:.1f}" if row["target"] is not None else "-"
        over = row["target"] is not None and row["ratio"] > row["target"]
        line = (
            f"{start}{row['p50_ms']:>8.2f}{row['p95_ms']:>9.2f}{row['floor_p50_ms']:>8.2f}"
            f"{row['queries']:>9}{row['ratio']:>8.2f}{target:>8}"
        )
        return f"{line}  {self.style.ERROR('over target')}" if over else line

    def print_queries(self, page: Page, captured: list[dict[str, str]]) -> None:
        """Write the queries of the counted request, with their times."""
        self.stdout.write(f"\n{page.label}: {len(captured)} queries")
        for query in captured:
            self.stdout.write(f"  {query['time']} s  {query['sql']}")

    def check_targets(self, report: dict[str, Any]) -> None:
        """Fail when any page is slower, relative to the floor, than its target."""
        over = [
            f"{row['label']} ({row['ratio']:.2f} > {row['target']:.1f})"
            for row in report["pages"]
            if not row["skipped"] and row["target"] is not None and row["ratio"] > row["target"]
        ]
        if over:
            raise CommandError(f"Over target: {', '.join(over)}.")
        self.stdout.write(self.style.SUCCESS("Every page is within its target."))
