"""Percentiles: Python, the database (percentile_cont on Postgres, ranked rows elsewhere) and the
dashboard's located method must give the same numbers on the same data."""

import random
from collections import Counter
from datetime import UTC, date, datetime

import pytest
from django.db import connection

from stats import percentiles as pct
from stats import queries
from stats.models import TicketFact
from stats.queries import Filters, Group
from tickets.models import Ticket

DAY = date(2025, 3, 3)


def sorted_python(values, p):
    return pct.percentile_cont(sorted(values), p)


def test_python_reference_matches_known_answers():
    assert pct.percentile_cont([1, 2, 3, 4], 0.5) == 2.5
    assert pct.percentile_cont([1, 2, 3, 4], 0.9) == pytest.approx(3.7)
    assert pct.percentile_cont([7], 0.9) == 7.0
    assert pct.percentile_cont([], 0.5) is None
    assert pct.percentile_cont([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110], 0.9) == 100.0


def test_buckets_are_monotonic_and_narrow():
    values = [0, 1, 59, 60, 61, 3600, 86400, 10**7, 10**9]
    buckets = [pct.bucket_of(v) for v in values]
    assert buckets == sorted(buckets)
    assert pct.bucket_of(59) == 0 and pct.bucket_of(60) == 1
    # Each bucket is at most ~5% wider than where it starts.
    for lo, hi in zip(pct.BUCKET_BOUNDS[1:], pct.BUCKET_BOUNDS[2:], strict=False):
        assert hi - lo <= max(1, lo * 0.05 + 1)


def facts_with(customer, queue, rows):
    """rows: (first_response_seconds, resolution_seconds, assignee, channel) per ticket."""
    created = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
    tickets = Ticket.objects.bulk_create(
        [
            Ticket(subject=f"t{i}", requester=customer, queue=queue, created_at=created)
            for i in range(len(rows))
        ]
    )
    facts = []
    for t, (frt, res, assignee, channel) in zip(tickets, rows, strict=True):
        facts.append(
            TicketFact(
                ticket=t,
                queue_id=queue.pk,
                channel=channel,
                assignee_id=assignee,
                created_at=created,
                created_day=DAY,
                first_response_day=DAY if frt is not None else None,
                first_response_seconds=frt,
                first_response_bucket=pct.bucket_of(frt) if frt is not None else None,
                resolved_day=DAY if res is not None else None,
                resolution_seconds=res,
                resolution_bucket=pct.bucket_of(res) if res is not None else None,
            )
        )
    TicketFact.objects.bulk_create(facts)


DATASETS = {
    "one": [42],
    "two": [42, 4200],
    "ties": [600] * 7 + [60] * 3 + [86400] * 2,
    "spread": [random.Random(1).randint(0, 40 * 86400) for _ in range(500)],
    "clustered": [random.Random(2).choice([30, 3600, 3601, 3700, 7200]) for _ in range(301)],
}


@pytest.mark.parametrize("name", DATASETS)
def test_database_percentiles_equal_python(name, customer, queue):
    values = DATASETS[name]
    facts_with(customer, queue, [(v, None, None, "web") for v in values])
    qs = TicketFact.objects.all()
    expected = {p: sorted_python(values, p) for p in (0.5, 0.9)}
    # percentile_cont on Postgres; ranked rows on SQLite.
    assert pct.exact_sql(qs, "first_response_seconds") == expected
    # The ranked method runs on both, so Postgres compares all three on the same rows.
    assert pct.exact_sql(qs, "first_response_seconds", method="window") == expected
    assert pct.exact_sql(qs, "first_response_seconds", n=len(values), method="window") == expected


def test_postgres_uses_percentile_cont(customer, queue, django_assert_num_queries):
    facts_with(customer, queue, [(v, None, None, "web") for v in (1, 2, 3)])
    with django_assert_num_queries(1) as captured:
        pct.exact_sql(TicketFact.objects.all(), "first_response_seconds", n=3)
    sql = captured.captured_queries[0]["sql"].lower()
    if connection.vendor == "postgresql":
        assert "percentile_cont" in sql
    else:
        assert "row_number" in sql


@pytest.mark.parametrize("limit", [0, 10**9], ids=["located", "database"])
def test_dashboard_percentiles_equal_python_per_group(
    limit, customer, queue, agent, other_agent, monkeypatch
):
    monkeypatch.setattr(queries, "EXACT_SQL_LIMIT", limit)
    rng = random.Random(3)
    rows = []
    for i in range(400):
        frt = rng.choice([None, rng.randint(0, 3 * 86400), rng.choice([60, 600, 601])])
        res = rng.choice([None, rng.randint(0, 30 * 86400)])
        rows.append((frt, res, [agent.pk, other_agent.pk, None][i % 3], ["web", "email"][i % 2]))
    facts_with(customer, queue, rows)

    def hist(vals):
        return dict(Counter(pct.bucket_of(v) for v in vals))

    groups, expected = [], {}
    selections = {("all", "all"): lambda r: True}
    for a in (agent.pk, other_agent.pk, None):
        selections[("agent", a)] = lambda r, a=a: r[2] == a
    for c in ("web", "email"):
        selections[("channel", c)] = lambda r, c=c: r[3] == c
    for (kind, key), pick in selections.items():
        for metric, idx in (("frt", 0), ("res", 1)):
            vals = [r[idx] for r in rows if pick(r) and r[idx] is not None]
            groups.append(Group(key, kind, metric, hist(vals)))
            expected[(kind, key, metric)] = {p: sorted_python(vals, p) for p in (0.5, 0.9)}

    found = queries.percentiles(Filters(start=DAY, end=DAY), groups)
    assert found == expected


def test_located_percentiles_read_one_query(
    customer, queue, agent, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(queries, "EXACT_SQL_LIMIT", 0)
    values = list(range(0, 100_000, 97))
    facts_with(customer, queue, [(v, v * 3, agent.pk, "web") for v in values])
    hist = dict(Counter(pct.bucket_of(v) for v in values))
    hist3 = dict(Counter(pct.bucket_of(v * 3) for v in values))
    groups = [
        Group("all", "all", "frt", hist),
        Group("all", "all", "res", hist3),
        Group(agent.pk, "agent", "frt", hist),
    ]
    with django_assert_num_queries(1):
        found = queries.percentiles(Filters(start=DAY, end=DAY), groups)
    assert found[("all", "all", "res")][0.9] == sorted_python([v * 3 for v in values], 0.9)


def test_stale_histograms_fall_back_to_an_exact_answer(customer, queue, agent, monkeypatch):
    """While a rebuild is half way the rollups and the facts disagree: never a wrong number."""
    monkeypatch.setattr(queries, "EXACT_SQL_LIMIT", 0)
    facts_with(customer, queue, [(v, None, agent.pk, "web") for v in (60, 120, 180)])
    stale = {pct.bucket_of(60): 2}  # one value short
    found = queries.percentiles(
        Filters(start=DAY, end=DAY),
        [Group("all", "all", "frt", stale), Group(agent.pk, "agent", "frt", stale)],
    )
    assert found[("all", "all", "frt")] == {0.5: 120.0, 0.9: 168.0}
    assert found[("agent", agent.pk, "frt")] == {0.5: None, 0.9: None}
