"""The dashboard's "right now" counts: read from the tickets table, kept half a minute per
filter (any range), and shown with the moment they were read."""

from datetime import date

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from stats import cache as stats_cache
from tests.stats.conftest import report_for
from tickets import services
from tickets.models import Queue


def counts(report):
    return {k: report.live[k] for k in ("open", "unanswered", "unassigned")}


def ticket_reads(ctx):
    return [q for q in ctx.captured_queries if 'FROM "tickets_ticket"' in q["sql"]]


def test_live_counts_are_kept_for_any_range_and_read_again_when_they_expire(customer, queue):
    services.create_ticket(requester=customer, subject="One", body="B", queue=queue)
    with CaptureQueriesContext(connection) as ctx:
        first = report_for(date(2025, 1, 1), date(2025, 1, 31))
        assert counts(first) == {"open": 1, "unanswered": 1, "unassigned": 1}
    assert len(ticket_reads(ctx)) == 1
    services.create_ticket(requester=customer, subject="Two", body="B", queue=queue)
    with CaptureQueriesContext(connection) as ctx:
        other_range = report_for(date(2024, 1, 1), date(2024, 12, 31))
        assert counts(other_range)["open"] == 1  # as read a moment ago
        assert other_range.live["as_of"] == first.live["as_of"]
    assert ticket_reads(ctx) == []
    # What expiry does: the next view reads the table again.
    cache.delete("stats:live:" + stats_cache.dims_key(first.filters))
    again = report_for(date(2025, 1, 1), date(2025, 1, 31))
    assert counts(again)["open"] == 2
    assert again.live["as_of"] > first.live["as_of"]


def test_each_filter_has_its_own_live_counts(customer, queue):
    billing = Queue.objects.create(name="Billing", slug="billing")
    services.create_ticket(requester=customer, subject="One", body="B", queue=queue)
    services.create_ticket(requester=customer, subject="Two", body="B", queue=billing)
    everything = report_for(date(2025, 1, 1), date(2025, 1, 31))
    only_billing = report_for(date(2025, 1, 1), date(2025, 1, 31), queue=billing.pk)
    assert counts(everything)["open"] == 2
    assert counts(only_billing)["open"] == 1


def test_dashboard_says_when_the_counts_were_read(admin, client, customer, queue):
    services.create_ticket(requester=customer, subject="One", body="B", queue=queue)
    client.force_login(admin)
    page = client.get("/stats/").content.decode()
    assert 'data-stat="open-now">1<' in page
    assert "as of " in page and '<time datetime="' in page
