"""The dashboard and its CSV files: who may read them, what they answer, and at what cost."""

import csv
import io
from datetime import UTC, datetime

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
# lookup, seven rollup reads (series, backlog before the range, histograms, agents, channels,
# tags in the range and in the period before), tag names, ticket facts for the percentiles
# (at most three), refresh state, rebuild job, live counts, KB deflection (two), searches
# without results. The most measured on SQLite and Postgres, for one ticket and for sixty
# across agents, queues, channels and tags, with every kind of filter.
DASHBOARD_QUERIES = 23


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


def test_kb_and_search_numbers_come_from_what_customers_did(admin, agent):
    from helpdesk.models import SearchLog
    from kb import services as kb_services
    from kb.models import SuggestionOpen
    from kb.services import readers as kb_readers

    inside = datetime(2025, 3, 10, 12, tzinfo=UTC)
    for query, n in [("refund policy", 3), ("dark mode", 1)]:
        for _ in range(n):
            SearchLog.objects.create(
                query=query, result_count=0, role="customer", created_at=inside
            )
    SearchLog.objects.create(query="password", result_count=4, role="customer", created_at=inside)
    before = datetime(2025, 2, 27, 12, tzinfo=UTC)  # outside the range: not counted
    SearchLog.objects.create(query="old gap", result_count=0, role="customer", created_at=before)
    article = kb_services.create_article(
        author=agent,
        category=kb_services.create_category(name="Billing"),
        title="Refunds",
        body="How refunds work.",
        publish=True,
    )
    for key in ["s1", "s2", "s3"]:
        kb_readers.record_suggestion_open(session_key=key, article=article)
    kb_readers.mark_suggestions_followed(session_key="s3")
    SuggestionOpen.objects.update(opened_at=inside)

    c = client_for(admin)
    html = c.get(URL, RANGE).content.decode()
    assert 'data-stat="deflection">67%<' in html
    assert "refund policy" in html and "old gap" not in html
    assert read_csv(c.get(export_url("searches"), RANGE))[1:] == [
        ["refund policy", "3"],
        ["dark mode", "1"],
    ]
    rows = read_csv(c.get(export_url("deflection"), RANGE))
    assert dict(rows[1:]) == {
        "opened": "3",
        "without_ticket": "2",
        "with_ticket": "1",
        "opens": "3",
    }


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
