"""`manage.py bench` seeds, times and reports; a tiny data set keeps this test quick."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from mediaspace.management.commands import bench


@pytest.mark.django_db(transaction=True)
def test_it_times_the_floor_and_my_media_and_writes_json(tmp_path, monkeypatch):
    not_built = bench.Page("not built", bench.OWNER_USERNAME, "no_such_page")
    monkeypatch.setattr(bench, "PAGES", [*bench.PAGES, not_built])
    path = tmp_path / "b.json"

    call_command(
        "bench",
        "--quick",
        "--scale",
        "0.01",
        "--samples",
        "5",
        "--in-current-db",
        "--json",
        str(path),
        stdout=StringIO(),
    )

    results = json.loads(path.read_text())
    pages = {page["label"]: page for page in results["pages"]}
    for label in ["floor", "my-media owner", "my-media member", "my-media owner search"]:
        assert pages[label]["p50_ms"] > 0
        assert type(pages[label]["queries"]) is int
    assert pages["floor"]["ratio"] == 1.0
    # Each page's ratio is to the floor timed alongside it.
    owner = pages["my-media owner"]
    assert owner["floor_p50_ms"] > 0
    assert owner["ratio"] == round(owner["p50_ms"] / owner["floor_p50_ms"], 2)
    assert pages["floor"]["queries"] >= 2  # the session and the signed-in user
    assert pages["not built"]["skipped"] is True
    assert results["sizes"]["users"] == 200
    assert results["samples"] == 5


def test_it_refuses_to_seed_a_database_that_is_not_for_tests(monkeypatch):
    monkeypatch.setattr(bench, "is_test_database", lambda: False)

    with pytest.raises(CommandError, match="test database"):
        call_command("bench", "--in-current-db", "--scale", "0.01", stdout=StringIO())


@pytest.mark.django_db
def test_the_seeded_entries_keep_their_spread_out_dates():
    """bulk_create would stamp every entry with now; the bench's orders need spread dates."""
    from datetime import timedelta

    from django.utils import timezone

    from mediaspace import bench_data
    from mediaspace.models import MediaEntry

    bench_data.seed(0.01)

    entries = MediaEntry.objects.all()
    assert entries.count() == 500
    assert entries.values("updated_at").distinct().count() > 400
    assert not entries.filter(created_at__gte=timezone.now() - timedelta(days=1)).exists()
    field = MediaEntry._meta.get_field("updated_at")
    assert field.auto_now and MediaEntry._meta.get_field("created_at").auto_now_add
