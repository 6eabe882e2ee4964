"""Percentiles: Python, the database (percentile_cont on Postgres, ranked rows elsewhere) and the
dashboard's located method must give the same numbers on the same data."""

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection

from stats import percentiles as pct
from stats import queries
from stats.models import TicketFact
from stats.queries import Filters, Group
from tickets.models import Queue, Ticket

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
    """rows: (first_response_seconds, resolution_seconds, assignee, channel[, queue]) per
    ticket; the queue is `queue` unless the row names one."""
    created = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
    tickets = Ticket.objects.bulk_create(
        [
            Ticket(subject=f"t{i}", requester=customer, queue=queue, created_at=created)
            for i in range(len(rows))
        ]
    )
    facts = []
    for t, (frt, res, assignee, channel, *in_queue) in zip(tickets, rows, strict=True):
        facts.append(
            TicketFact(
                ticket=t,
                queue_id=(in_queue or [queue])[0].pk,
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


def hist(vals):
    return dict(Counter(pct.bucket_of(v) for v in vals))


@pytest.mark.parametrize("limit", [0, 10**9], ids=["located", "database"])
def test_dashboard_percentiles_equal_python_per_group(
    limit, customer, queue, agent, other_agent, monkeypatch
):
    monkeypatch.setattr(queries, "EXACT_SQL_LIMIT", limit)
    billing = Queue.objects.create(name="Billing", slug="billing")
    rng = random.Random(3)
    rows = []
    for i in range(400):
        frt = rng.choice([None, rng.randint(0, 3 * 86400), rng.choice([60, 600, 601])])
        res = rng.choice([None, rng.randint(0, 30 * 86400)])
        who = [agent.pk, other_agent.pk, None][i % 3]
        rows.append((frt, res, who, ["web", "email"][i % 2], [queue, billing][i % 5 == 0]))
    facts_with(customer, queue, rows)

    groups, expected = [], {}
    selections = {("all", "all"): lambda r: True}
    for a in (agent.pk, other_agent.pk, None):
        selections[("agent", a)] = lambda r, a=a: r[2] == a
    for c in ("web", "email"):
        selections[("channel", c)] = lambda r, c=c: r[3] == c
    for q in (queue, billing):
        selections[("queue", q.pk)] = lambda r, q=q: r[4] == q
    for (kind, key), pick in selections.items():
        for metric, idx in (("frt", 0), ("res", 1)):
            vals = [r[idx] for r in rows if pick(r) and r[idx] is not None]
            groups.append(Group(key, kind, metric, hist(vals)))
            expected[(kind, key, metric)] = {p: sorted_python(vals, p) for p in (0.5, 0.9)}

    found = queries.percentiles(Filters(start=DAY, end=DAY), groups)
    assert found == expected


def spread_facts(customer, queue, agent) -> list[int]:
    """A thousand first responses from 0 to 27 hours (resolutions three times as long), all
    the agent's, by web: the values, in order."""
    values = list(range(0, 100_000, 97))
    facts_with(customer, queue, [(v, v * 3, agent.pk, "web") for v in values])
    return values


def test_located_percentiles_read_one_query(
    customer, queue, agent, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(queries, "EXACT_SQL_LIMIT", 0)
    values = spread_facts(customer, queue, agent)
    groups = [
        Group("all", "all", "frt", hist(values)),
        Group("all", "all", "res", hist([v * 3 for v in values])),
        Group(agent.pk, "agent", "frt", hist(values)),
    ]
    with django_assert_num_queries(1):
        found = queries.percentiles(Filters(start=DAY, end=DAY), groups)
    assert found[("all", "all", "res")][0.9] == sorted_python([v * 3 for v in values], 0.9)


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="reads Postgres's EXPLAIN; SQLite has no INCLUDE indexes (Django builds them without)",
)
def test_located_rows_are_read_from_the_covering_indexes_alone(
    customer, queue, agent, monkeypatch, django_assert_num_queries
):
    """Every branch of the located read is an index-only scan (no table rows fetched):
    the facts of a bucket lie all over the table, and fetching them was most of the time.
    With scans of the table ruled out the planner must still find an index that holds
    every column a branch reads, including the breakdown filters."""
    monkeypatch.setattr(queries, "EXACT_SQL_LIMIT", 0)
    values = spread_facts(customer, queue, agent)
    groups = [
        Group("all", "all", "frt", hist(values)),
        Group("all", "all", "res", hist([v * 3 for v in values])),
        # Buckets only these groups need are read for them alone: filters on the index.
        Group(agent.pk, "agent", "frt", hist(values[:40])),
        Group("web", "channel", "res", hist([v * 3 for v in values[-40:]])),
    ]
    with django_assert_num_queries(1) as captured:
        queries.percentiles(Filters(start=DAY, end=DAY), groups)
    sql = captured.captured_queries[0]["sql"]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    scans = [line for line in plan.splitlines() if " on stats_ticketfact" in line]
    assert "Filter: (assignee_id = " in plan and "Filter: ((channel)::text = " in plan, plan
    assert scans and all("Index Only Scan" in line for line in scans), plan


def test_each_metric_counts_only_its_own_days(
    customer, queue, agent, monkeypatch, django_assert_num_queries
):
    """One query reads both metrics: a ticket answered in the range but resolved before it
    counts for the first response only, and the other way round."""
    monkeypatch.setattr(queries, "EXACT_SQL_LIMIT", 0)
    # Few buckets, so that the tickets of the other day fall into the buckets being read.
    rows = [(3600 + 3 * i, 86400 + 97 * i, agent.pk, "web") for i in range(40)]
    facts_with(customer, queue, rows)
    before = DAY - timedelta(days=1)
    TicketFact.objects.filter(first_response_seconds__gte=3600 + 3 * 30).update(resolved_day=before)
    TicketFact.objects.filter(first_response_seconds__lt=3600 + 3 * 8).update(
        first_response_day=before
    )
    frt = [r[0] for r in rows[8:]]
    res = [r[1] for r in rows[:30]]
    assert len(hist(frt)) <= 2 and len(hist(res)) <= 2
    groups = [
        Group("all", "all", "frt", hist(frt)),
        Group("all", "all", "res", hist(res)),
        Group(agent.pk, "agent", "frt", hist(frt)),
        Group("web", "channel", "res", hist(res)),
    ]
    with django_assert_num_queries(1) as captured:
        found = queries.percentiles(Filters(start=DAY, end=DAY), groups)
    sql = captured.captured_queries[0]["sql"]
    assert "first_response_bucket" in sql and "resolution_bucket" in sql
    for g in groups:
        vals = frt if g.metric == "frt" else res
        assert found[(g.kind, g.key, g.metric)] == {p: sorted_python(vals, p) for p in (0.5, 0.9)}


@pytest.mark.parametrize("facts_have", [3, 5], ids=["more-facts", "fewer-facts"])
def test_stale_histograms_fall_back_to_an_exact_answer(
    facts_have, customer, queue, agent, monkeypatch
):
    """While a rebuild is half way the rollups and the facts disagree: never a wrong number.
    The rollups say four values; the facts have one more (the bucket's size differs) or one
    fewer (a needed rank is not there at all)."""
    monkeypatch.setattr(queries, "EXACT_SQL_LIMIT", 0)
    values = [60, 120, 180, 240, 300][:facts_have]
    facts_with(customer, queue, [(v, None, agent.pk, "web") for v in values])
    stale = {pct.bucket_of(60): 4}
    found = queries.percentiles(
        Filters(start=DAY, end=DAY),
        [Group("all", "all", "frt", stale), Group(agent.pk, "agent", "frt", stale)],
    )
    assert found[("all", "all", "frt")] == {p: sorted_python(values, p) for p in (0.5, 0.9)}
    assert found[("agent", agent.pk, "frt")] == {0.5: None, 0.9: None}


def test_one_stale_group_leaves_the_others_exact(customer, queue, agent, other_agent, monkeypatch):
    monkeypatch.setattr(queries, "EXACT_SQL_LIMIT", 0)
    billing = Queue.objects.create(name="Billing", slug="billing")
    rows = [(60 * i, 600 * i, agent.pk, "web", queue) for i in range(1, 30)]
    rows += [(61 * i, 610 * i, other_agent.pk, "email", billing) for i in range(1, 20)]
    facts_with(customer, queue, rows)

    def group(kind, key, metric, pick):
        vals = [r[0 if metric == "frt" else 1] for r in rows if pick(r)]
        return Group(key, kind, metric, hist(vals)), {p: sorted_python(vals, p) for p in (0.5, 0.9)}

    fine = [
        group("all", "all", "frt", lambda r: True),
        group("all", "all", "res", lambda r: True),
        group("agent", agent.pk, "frt", lambda r: r[2] == agent.pk),
        group("channel", "email", "res", lambda r: r[3] == "email"),
        group("queue", queue.pk, "res", lambda r: r[4] == queue),
    ]
    # The other agent's rollups still count a response the facts no longer have, in the
    # bucket of its median.
    stale, _right = group("agent", other_agent.pk, "frt", lambda r: r[2] == other_agent.pk)
    median_bucket, _offset = pct.locate(stale.hist, 9)
    stale.hist[median_bucket] += 1
    found = queries.percentiles(Filters(start=DAY, end=DAY), [g for g, _e in fine] + [stale])
    for g, expected in fine:
        assert found[(g.kind, g.key, g.metric)] == expected
    assert found[("agent", other_agent.pk, "frt")] == {0.5: None, 0.9: None}
