"""The dashboard's sections are cached until the statistics change, never past a change."""

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from stats import cache as stats_cache
from stats import services as stats_services
from tests.stats.test_views import RANGE, URL, client_for, populate
from tickets import services
from tickets.models import Channel


def created_on_page(response) -> str:
    html = response.content.decode()
    start = html.index('data-stat="created">') + len('data-stat="created">')
    return html[start : html.index("<", start)]


def queries_for(client, params=RANGE) -> tuple[int, object]:
    """(rollup and fact reads, response)"""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL, params)
    assert response.status_code == 200
    reads = [
        q
        for q in ctx.captured_queries
        if "stats_dailyrollup" in q["sql"] or "stats_ticketfact" in q["sql"]
    ]
    return len(reads), response


def test_a_repeat_view_reads_no_rollups(clock, admin, customer, agent, queue):
    populate(clock, customer, [agent], [queue], 4)
    c = client_for(admin)
    first, page = queries_for(c)
    again, page_again = queries_for(c)
    assert first > 0 and again == 0
    assert created_on_page(page) == created_on_page(page_again) == "4"


def test_a_refresh_that_changes_something_shows_at_once(clock, admin, customer, agent, queue):
    populate(clock, customer, [agent], [queue], 2)
    c = client_for(admin)
    assert created_on_page(c.get(URL, RANGE)) == "2"
    clock.set(2025, 3, 10, 10, 0)  # inside RANGE, before the session expires
    services.create_ticket(
        requester=customer, subject="One more", body="Help", queue=queue, channel=Channel.WEB
    )
    # not folded into the rollups yet: the cached page is still right
    assert created_on_page(c.get(URL, RANGE)) == "2"
    stats_services.refresh_stats()
    assert created_on_page(c.get(URL, RANGE)) == "3"


def test_other_filters_are_other_entries(clock, admin, customer, agent, queue):
    populate(clock, customer, [agent], [queue], 3)
    c = client_for(admin)
    assert created_on_page(c.get(URL, RANGE)) == "3"
    assert created_on_page(c.get(URL, {**RANGE, "channel": "phone"})) != "3"


def test_a_lost_generation_recomputes_instead_of_serving_old_sections(
    clock, admin, customer, agent, queue
):
    populate(clock, customer, [agent], [queue], 2)
    c = client_for(admin)
    old = stats_cache.generation()
    assert created_on_page(c.get(URL, RANGE)) == "2"
    cache.delete(stats_cache.GENERATION_KEY)
    assert stats_cache.generation() != old
    first, page = queries_for(c)
    again, _page = queries_for(c)
    assert created_on_page(page) == "2" and first > 0 and again == 0


def test_bump_moves_the_generation_on(db):
    before = stats_cache.generation()
    stats_cache.bump()
    assert stats_cache.generation() != before


def _last_days(n: int) -> dict:
    from datetime import timedelta

    from django.utils import timezone

    from stats.services.facts import report_tz

    today = timezone.now().astimezone(report_tz()).date()
    return {"start": (today - timedelta(days=n - 1)).isoformat(), "end": today.isoformat()}


def test_a_refresh_that_changes_something_computes_the_standard_ranges(
    clock, admin, customer, agent, queue
):
    from stats import tasks as stats_tasks

    populate(clock, customer, [agent], [queue], 3)
    clock.set(2025, 3, 20, 9, 0)
    c = client_for(admin)
    services.create_ticket(
        requester=customer, subject="One more", body="Help", queue=queue, channel=Channel.WEB
    )
    result = stats_tasks.refresh_stats.run()
    assert result["warmed"] == 4  # the presets: 7, 30 (also the default), 90 and 365 days
    for days in (7, 30, 90, 365):
        reads, page = queries_for(c, _last_days(days))
        assert reads == 0, days  # the first view reads no rollups or facts
    assert created_on_page(page) == "4"
    # A range no refresh computes is read on request, and shows the same numbers.
    reads, page = queries_for(c, {"start": "2024-03-01", "end": "2025-03-20"})
    assert reads > 0 and created_on_page(page) == "4"


def test_a_refresh_that_changes_nothing_computes_nothing(clock, admin, customer, agent, queue):
    from stats import tasks as stats_tasks

    populate(clock, customer, [agent], [queue], 2)
    stats_tasks.refresh_stats.run()
    assert "warmed" not in stats_tasks.refresh_stats.run()
