"""The dashboard's sums are added up by the database (histograms merged bucket by bucket);
they must equal adding up the rollup rows one by one."""

from collections import defaultdict
from datetime import date

import pytest

from stats import percentiles as pct
from stats import queries
from stats.models import MEASURES
from stats.queries import Filters, period_rows
from tests.stats.conftest import build
from tickets import services
from tickets.models import Channel, Queue, Status

# Whole months (monthly rows) and the days around them (daily rows).
RANGE = Filters(start=date(2025, 1, 20), end=date(2025, 4, 10))


@pytest.fixture
def three_months(clock, customer, agent, other_agent, queue):
    billing = Queue.objects.create(name="Billing", slug="billing")
    for i in range(40):
        clock.set(2025, 1 + i % 4, 1 + (i * 7) % 28, 8 + i % 9, 0)
        t = services.create_ticket(
            requester=customer,
            subject=f"Ticket {i}",
            body="Help",
            queue=[queue, billing][i % 2],
            channel=list(Channel.values)[i % 5],
            tags=[f"tag-{i % 3}"],
        )
        if i % 4:
            who = [agent, other_agent][i % 2]
            services.assign_ticket(ticket=t, actor=who, assignee=who)
        clock.advance(minutes=13 * i + 1)
        services.post_reply(
            ticket=t, author=agent, body="Hi", new_status=Status.SOLVED if i % 3 else None
        )
    build()


def merged_in_python(filters, dim, column):
    """The reference: every period row read and merged here."""
    out = defaultdict(queries.Sums)
    for row in period_rows(filters, dim, fields=[column, *MEASURES, "frt_hist", "res_hist"]):
        s = out[row[column]]
        for m in MEASURES:
            s.counts[m] += row[m]
        pct.merge_hist(s.frt_hist, row["frt_hist"])
        pct.merge_hist(s.res_hist, row["res_hist"])
    return dict(out)


@pytest.mark.parametrize(
    "read, dim, column",
    [
        (queries.by_agent, "agent", "agent_id"),
        (queries.by_channel, "channel", "channel"),
        (queries.by_queue, "queue", "queue_id"),
    ],
    ids=["agent", "channel", "queue"],
)
def test_breakdown_sums_equal_merging_the_rows(three_months, read, dim, column):
    expected = merged_in_python(RANGE, dim, column)
    found = read(RANGE)
    assert found.keys() == expected.keys() and len(found) > 1
    for key, s in found.items():
        assert s.counts == expected[key].counts
        assert s.frt_hist == expected[key].frt_hist
        if read is not queries.by_agent:  # agents get a first-response median only
            assert s.res_hist == expected[key].res_hist


def test_overall_histograms_equal_merging_the_rows(three_months):
    total = queries.overview(RANGE)["total"]
    expected = queries.Sums()
    for row in period_rows(RANGE, fields=["frt_hist", "res_hist"]):
        pct.merge_hist(expected.frt_hist, row["frt_hist"])
        pct.merge_hist(expected.res_hist, row["res_hist"])
    assert total.frt_hist == expected.frt_hist and total.frt_hist
    assert total.res_hist == expected.res_hist and total.res_hist


def test_tag_sums_equal_adding_the_rows(three_months):
    expected = defaultdict(lambda: defaultdict(int))
    for row in period_rows(RANGE, "tag", fields=["tag_id", "created", "solved"]):
        expected[row["tag_id"]]["created"] += row["created"]
        expected[row["tag_id"]]["solved"] += row["solved"]
    rows = queries.by_tag(RANGE)
    assert {r["tag_id"]: (r["created"], r["solved"]) for r in rows} == {
        tag: (s["created"], s["solved"]) for tag, s in expected.items()
    }


def test_a_filter_on_a_missing_tag_sums_to_nothing(three_months):
    nothing = Filters(start=RANGE.start, end=RANGE.end, no_tag=True)
    assert queries.by_queue(nothing) == {}
    assert queries.overview(nothing)["total"].frt_hist == {}
