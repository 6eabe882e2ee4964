"""The dashboard and its CSV files: who may read them, what they answer, and at what cost."""

import csv
import io
import sys
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from stats import services as stats_services
from stats.models import RebuildJob
from stats.report import CSV_TABLES
from tests.stats.conftest import build
from tickets import services
from tickets.models import Channel, Queue, Status

URL = reverse("stats:dashboard")
RANGE = {"start": "2025-03-01", "end": "2025-03-31"}
HTMX = {"HTTP_HX_REQUEST": "true"}
# Session, user, dashboard settings (cached in production, cold here), queues, agents, tag
# lookup, six rollup reads (series, backlog before the range, histograms, agents, channels,
# tags), tag names, ticket facts for the percentiles (at most three), refresh state, rebuild
# job, live counts, KB deflection (two). The most measured on SQLite and Postgres, for one
# ticket and for sixty across agents, queues, channels and tags, with every kind of filter.
DASHBOARD_QUERIES = 21


def client_for(user):
    c = Client()
    c.force_login(user)
    return c


def export_url(table):
    return reverse("stats:export", args=[table])


def populate(clock, customer, agents, queues, n):
    for i in range(n):
        clock.set(2025, 3, 1 + i % 28, 8 + i % 9, 0)
        t = services.create_ticket(
            requester=customer,
            subject=f"Ticket {i}",
            body="Help",
            queue=queues[i % len(queues)],
            channel=list(Channel.values)[i % 5],
            tags=[f"tag-{i % 7}", f"area-{i % 3}"],
        )
        agent = agents[i % len(agents)]
        services.assign_ticket(ticket=t, actor=agent, assignee=agent)
        clock.advance(minutes=7 * i + 1)
        services.post_reply(
            ticket=t,
            author=agent,
            body="Hi",
            new_status=Status.SOLVED if i % 2 else None,
            time_spent=i % 4,
        )
    build()


@pytest.fixture
def allow_agents(admin):
    stats_services.save_dashboard_settings(actor=admin, agents_can_view=True)


# Who may read it ------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for url in (URL, export_url("daily")):
        response = client.get(url)
        assert response.status_code == 302 and "/account/login/" in response["Location"]


@pytest.mark.parametrize("table", CSV_TABLES)
def test_customers_never_reach_the_dashboard_or_any_csv(customer_client, table):
    assert customer_client.get(URL).status_code == 404
    assert customer_client.get(export_url(table), RANGE).status_code == 404
    assert customer_client.post(reverse("stats:rebuild")).status_code == 404


def test_agents_are_kept_out_unless_allowed(agent_client):
    assert agent_client.get(URL).status_code == 404
    assert agent_client.get(export_url("agents")).status_code == 404


def test_allowed_agents_read_without_admin_controls(allow_agents, agent):
    c = client_for(agent)
    response = c.get(URL, RANGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Response-time statistics" in html and "Rebuild" not in html
    assert c.get(export_url("daily"), RANGE).status_code == 200
    assert c.post(reverse("stats:rebuild")).status_code == 404
    assert RebuildJob.objects.count() == 0


def test_admin_reads_the_dashboard(clock, admin, customer, agent, queue):
    populate(clock, customer, [agent], [queue], 3)
    response = client_for(admin).get(URL, RANGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        'role="img"' in html
        and '<desc id="volume-desc">2025-03-01 to 2025-03-31: 3 created' in html
    )
    assert 'data-stat="created">3<' in html
    assert "Rebuild" in html


def test_admin_starts_a_rebuild(admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(admin).post(reverse("stats:rebuild"))
    assert response.status_code == 302
    job = RebuildJob.objects.get()
    assert job.requested_by == admin and job.status == RebuildJob.Status.DONE


# What it answers ------------------------------------------------------------------------------


def test_htmx_gets_the_partial_for_a_new_range(admin):
    response = client_for(admin).get(URL, {"start": "2025-03-01", "end": "2025-03-07"}, **HTMX)
    assert response.status_code == 200
    assert "<html" not in response.content.decode()
    assert 'data-points="7"' in response.content.decode()
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2025-03-10", "end": "2025-03-01"}, "start date must be on or before"),
        ({"start": "2019-01-01", "end": "2025-03-01"}, "at most three years"),
        ({"start": "yesterday"}, "Enter a valid date"),
        ({"queue": "999999"}, "Select a valid choice"),
        ({"channel": "pigeon"}, "Select a valid choice"),
    ],
)
def test_bad_filters_answer_400_with_a_message(admin, params, message):
    c = client_for(admin)
    response = c.get(URL, params)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert c.get(export_url("daily"), params).status_code == 400


def test_unknown_csv_table_is_404(admin):
    assert client_for(admin).get(export_url("everything")).status_code == 404


def read_csv(response):
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment;" in response["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_every_table_exports_as_csv(clock, admin, customer, agent, other_agent, queue):
    populate(clock, customer, [agent, other_agent], [queue], 8)
    c = client_for(admin)
    daily = read_csv(c.get(export_url("daily"), RANGE))
    assert daily[0][:3] == ["day", "created", "solved"] and len(daily) == 32
    assert sum(int(r[1]) for r in daily[1:]) == 8
    agents = read_csv(c.get(export_url("agents"), RANGE))
    assert {r[0] for r in agents[1:]} == {"Alex Agent", "Sam Support"}
    assert sum(int(r[1]) for r in agents[1:]) == 8  # replies
    channels = read_csv(c.get(export_url("channels"), RANGE))
    assert sum(int(r[1]) for r in channels[1:]) == 8
    tags = read_csv(c.get(export_url("tags"), RANGE))
    assert tags[0] == ["tag", "created", "previous_period", "change", "growth", "solved"]
    summary = dict(read_csv(c.get(export_url("summary"), RANGE))[1:])
    assert summary["created"] == "8" and float(summary["frt_p50"]) > 0


def test_csv_cells_cannot_become_spreadsheet_formulas(clock, admin, customer, agent, queue):
    services.create_ticket(
        requester=customer, subject="x", body="y", queue=queue, tags=["=cmd|'/c calc'!a1"]
    )
    build()
    rows = read_csv(client_for(admin).get(export_url("tags"), RANGE))
    assert rows[1][0].startswith("'=")


# At what cost ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 60])
@pytest.mark.parametrize(
    "filters",
    [{}, {"queue": "Q"}, {"agent": "A"}, {"channel": "email"}, {"tag": "tag-1"}, {"agent": "none"}],
    ids=["none", "queue", "agent", "channel", "tag", "unassigned"],
)
def test_dashboard_runs_a_fixed_number_of_queries(
    size, filters, clock, admin, customer, agent, other_agent, queue, django_assert_max_num_queries
):
    other_queue = Queue.objects.create(name="Billing", slug="billing")
    populate(clock, customer, [agent, other_agent], [queue, other_queue], size)
    params = dict(RANGE)
    for key, value in filters.items():
        params[key] = {"Q": queue.pk, "A": agent.pk}.get(value, value)
    c = client_for(admin)
    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        response = c.get(URL, params)
    assert response.status_code == 200


def test_year_view_reads_rollups_not_tickets(
    clock, admin, customer, agent, queue, django_assert_max_num_queries
):
    populate(clock, customer, [agent], [queue], 5)
    c = client_for(admin)
    with django_assert_max_num_queries(DASHBOARD_QUERIES) as captured:
        response = c.get(URL, {"start": "2024-04-01", "end": "2025-03-31"})
    assert response.status_code == 200
    ticket_reads = [
        q["sql"] for q in captured.captured_queries if 'FROM "tickets_ticket"' in q["sql"]
    ]
    # The one live count, by the status index.
    assert len(ticket_reads) == 1 and "status" in ticket_reads[0]


# Numbers from other apps -----------------------------------------------------------------------


def test_missing_kb_and_search_numbers_say_not_available_yet(admin, monkeypatch):
    import kb.queries

    monkeypatch.delattr(kb.queries, "deflection_counts", raising=False)
    monkeypatch.setattr("stats.queries.no_result_searches", lambda filters, limit=20: None)
    c = client_for(admin)
    html = c.get(URL, RANGE).content.decode()
    assert 'data-unavailable="deflection"' in html and 'data-unavailable="searches"' in html
    assert "Not available yet" in html
    # Not available: 404 rather than an empty file that reads as "no data".
    assert c.get(export_url("deflection"), RANGE).status_code == 404
    assert c.get(export_url("searches"), RANGE).status_code == 404


def test_kb_and_search_numbers_show_when_provided(admin, monkeypatch):
    import kb.queries

    seen = {}

    def deflection_counts(start, end):
        seen["range"] = (start, end)
        return {"opened": 8, "without_ticket": 6, "with_ticket": 2, "opens": 11}

    monkeypatch.setattr(kb.queries, "deflection_counts", deflection_counts, raising=False)
    monkeypatch.setattr(
        kb.queries, "most_deflecting_articles", lambda s, e, limit: [], raising=False
    )
    monkeypatch.setattr(
        "stats.queries.no_result_searches",
        lambda filters, limit=20: [{"query": "refund policy", "count": 4}],
    )
    c = client_for(admin)
    html = c.get(URL, RANGE).content.decode()
    assert 'data-stat="deflection">75%<' in html
    assert "refund policy" in html
    start, end = seen["range"]
    assert (start.isoformat(), end.isoformat()) == (
        "2025-03-01T00:00:00+00:00",
        "2025-04-01T00:00:00+00:00",
    )
    rows = read_csv(c.get(export_url("deflection"), RANGE))
    assert rows[1:] == [
        ["opened", "8"],
        ["without_ticket", "6"],
        ["with_ticket", "2"],
        ["opens", "11"],
    ]
    assert read_csv(c.get(export_url("searches"), RANGE))[1:] == [["refund policy", "4"]]


def test_search_queries_are_read_from_a_search_query_model_when_one_exists(db, monkeypatch):
    from stats import queries
    from stats.queries import Filters

    class FakeManager:
        def __init__(self):
            self.calls = []

        def filter(self, **kw):
            self.calls.append(kw)
            return self

        def values(self, *a):
            return self

        def annotate(self, **kw):
            return self

        def order_by(self, *a):
            return [{"query": "dark mode", "n": 3}]

    class Field:
        def __init__(self, name):
            self.name = name

    class Meta:
        @staticmethod
        def get_fields():
            return [Field("query"), Field("result_count"), Field("created_at")]

    class SearchQuery:
        _meta = Meta()
        objects = FakeManager()

    monkeypatch.setattr(queries.apps, "get_models", lambda: [SearchQuery])
    monkeypatch.setitem(sys.modules, "helpdesk.search", None)  # import fails: no provider
    f = Filters(start=date(2025, 3, 1), end=date(2025, 3, 2))
    assert queries.no_result_searches(f) == [{"query": "dark mode", "count": 3}]
    assert SearchQuery.objects.calls[0]["result_count"] == 0


# Small parts ------------------------------------------------------------------------------------


def test_durations_and_shares_read_naturally():
    from stats.templatetags.stats_tags import duration, hours_minutes, share

    assert [duration(v) for v in (None, 40, 60, 5400, 7200, 90000, 86400 * 3)] == [
        "—",
        "40 s",
        "1 min",
        "1 h 30 min",
        "2 h",
        "1 d 1 h",
        "3 d",
    ]
    assert (share(None), share(0.875), hours_minutes(135)) == ("—", "88%", "2:15")


@pytest.mark.parametrize(
    ("who", "allowed", "shown"),
    [
        ("admin", False, True),
        ("agent", False, False),
        ("agent", True, True),
        ("customer", True, False),
    ],
)
def test_nav_link_only_for_those_who_may_read(request, admin, who, allowed, shown, rf):
    from django.template import Context, Template

    user = request.getfixturevalue(who)
    stats_services.save_dashboard_settings(actor=admin, agents_can_view=allowed)
    req = rf.get("/")
    req.user = user
    html = Template("{% load stats_tags %}{% stats_nav_link %}").render(Context({"request": req}))
    assert ('href="/stats/"' in html) is shown


def test_opening_hours_must_close_after_they_open(db):
    from datetime import time

    from django.core.exceptions import ValidationError

    from stats.models import BusinessHours, BusinessHoursInterval

    schedule = BusinessHours.objects.create(name="Shop")
    BusinessHoursInterval(schedule=schedule, weekday=0, opens=time(9), closes=time(0)).full_clean()
    with pytest.raises(ValidationError):
        BusinessHoursInterval(
            schedule=schedule, weekday=0, opens=time(9), closes=time(8)
        ).full_clean()
