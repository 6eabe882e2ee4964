"""Keeping rollups current: the incremental refresh agrees with a full rebuild, every time."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from stats import services as stats_services
from stats import tasks
from stats.models import DailyRollup, QueueSettings, RebuildJob, StatsState, TicketFact
from tests.stats.conftest import build, report_for
from tickets import services
from tickets.models import Status


def snapshot():
    """Every rollup row as comparable data, without ids."""
    fields = [f.name for f in DailyRollup._meta.fields if f.name != "id"]
    return sorted(
        tuple(repr(row[f]) for f in fields) for row in DailyRollup.objects.values(*fields)
    )


def new_ticket(customer, queue, **kw):
    return services.create_ticket(
        requester=customer, subject="Help", body="Please.", queue=queue, **kw
    )


@pytest.fixture
def busy_week(clock, customer, other_customer, agent, other_agent, queue):
    """A few tickets through the week, in several states."""
    tickets = []
    for i in range(6):
        clock.set(2025, 3, 3 + i % 3, 9 + i, 0)
        t = new_ticket(customer if i % 2 else other_customer, queue, tags=[f"t{i % 3}"])
        tickets.append(t)
    clock.set(2025, 3, 5, 15, 0)
    services.assign_ticket(ticket=tickets[0], actor=agent, assignee=agent)
    services.post_reply(ticket=tickets[0], author=agent, body="On it.")
    services.post_reply(
        ticket=tickets[1], author=other_agent, body="Solved.", new_status=Status.SOLVED
    )
    services.log_time(ticket=tickets[2], agent=agent, minutes=15)
    return tickets


def test_incremental_refresh_equals_a_full_rebuild(
    clock, busy_week, customer, agent, other_agent, queue
):
    build()
    tickets = busy_week
    clock.set(2025, 3, 6, 10, 0)
    services.change_status(ticket=tickets[1], actor=customer, status=Status.OPEN)  # reopen
    services.assign_ticket(ticket=tickets[0], actor=agent, assignee=other_agent)  # moves old days
    services.set_tags(ticket=tickets[3], actor=agent, tags=["new-tag"])
    services.log_time(ticket=tickets[4], agent=agent, minutes=30)  # leaves updated_at alone
    services.post_reply(ticket=tickets[5], author=agent, body="Note", internal=True)
    services.merge_tickets(source=tickets[2], target=tickets[0], actor=agent)
    clock.advance(minutes=2)
    result = stats_services.refresh_stats()
    assert result["tickets"] >= 6
    incremental = snapshot()

    build()
    assert snapshot() == incremental
    assert report_for(date(2025, 3, 3), date(2025, 3, 9)).summary()["reopened"] == 1


def test_refresh_is_idempotent(clock, busy_week):
    build()
    before = snapshot()
    clock.advance(minutes=1)
    stats_services.refresh_stats()
    stats_services.refresh_stats()
    assert snapshot() == before


def test_refresh_picks_up_time_logged_without_a_ticket_update(clock, busy_week, agent):
    build()
    clock.set(2025, 3, 7, 9, 0)
    services.log_time(ticket=busy_week[5], agent=agent, minutes=45)
    stats_services.refresh_stats()
    agents = report_for(date(2025, 3, 7), date(2025, 3, 7)).agents()
    assert [(a["name"], a["minutes"]) for a in agents] == [("Alex Agent", 45)]


def test_first_refresh_starts_a_full_rebuild_job(
    clock, busy_week, django_capture_on_commit_callbacks
):
    assert StatsState.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        result = tasks.refresh_stats()
    job = RebuildJob.objects.get(pk=result["job"])
    assert job.status == RebuildJob.Status.DONE and job.percent == 100
    assert TicketFact.objects.count() == 6
    assert report_for(date(2025, 3, 3), date(2025, 3, 9)).summary()["created"] == 6


def test_rebuild_advances_in_resumable_steps(clock, busy_week):
    job = RebuildJob.objects.create(reason="test")
    seen = []
    while job.is_active:
        job = stats_services.advance_rebuild(job.pk, max_seconds=0, batch_size=2)
        seen.append((job.phase, job.percent))
    assert seen[0] == ("facts", 16)  # 2 of 6 tickets: a third of the first half
    assert [p for _phase, p in seen] == sorted(p for _phase, p in seen)
    assert seen[-1] == ("rollups", 100)
    fresh = snapshot()
    build()
    assert snapshot() == fresh


def test_a_failing_step_marks_the_job_failed(clock, busy_week, monkeypatch):
    job = RebuildJob.objects.create(reason="test")

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("stats.services.facts.compute", broken)
    with pytest.raises(RuntimeError):
        stats_services.advance_rebuild(job.pk)
    job.refresh_from_db()
    assert job.status == RebuildJob.Status.FAILED and "disk full" in job.error


def test_changing_queue_targets_rebuilds_that_queue(
    clock, busy_week, admin, queue, django_capture_on_commit_callbacks
):
    build()
    week = (date(2025, 3, 3), date(2025, 3, 9))
    assert report_for(*week).summary()["frt_targeted"] == 0
    QueueSettings.objects.create(
        queue=queue, first_response_target=30 * 60
    )  # 30 h: one of 29 h and 54 h
    with django_capture_on_commit_callbacks(execute=True):
        stats_services.queue_settings_changed(actor=admin, queue_ids=[queue.pk])
    s = report_for(*week).summary()
    assert (s["frt_targeted"], s["frt_share"]) == (2, 0.5)


def test_only_admins_change_measuring(agent, queue):
    from helpdesk.services import ServiceError

    with pytest.raises(ServiceError):
        stats_services.queue_settings_changed(actor=agent, queue_ids=[queue.pk])


def test_rebuild_command_shows_progress(clock, busy_week):
    out = StringIO()
    call_command("rebuild_stats", stdout=out)
    text = out.getvalue()
    assert "100%" in text and "Rebuilt statistics: 6 tickets" in text
    out = StringIO()
    call_command("rebuild_stats", "--since", "2025-03-05", stdout=out)
    assert "Rebuilt statistics" in out.getvalue()
    assert report_for(date(2025, 3, 3), date(2025, 3, 9)).summary()["created"] == 6


def test_rebuild_since_repairs_only_later_days(clock, busy_week):
    build()
    full = snapshot()
    DailyRollup.objects.filter(day__gte=date(2025, 3, 5)).delete()
    stats_services.rebuild(since=date(2025, 3, 5))
    assert snapshot() == full


@pytest.mark.parametrize(
    "args", [["--since", "yesterday"], ["--queue", "nope"], ["--batch-size", "0"]]
)
def test_rebuild_command_refuses_bad_arguments(db, args):
    with pytest.raises(CommandError):
        call_command("rebuild_stats", *args, stdout=StringIO())


def test_monthly_rollups_sum_their_days(clock, customer, agent, queue):
    from stats.models import Cube, MonthlyRollup
    from stats.queries import Filters, _full_months, period_rows

    for month, day in [(1, 31), (2, 1), (2, 14), (3, 1), (3, 31), (4, 1)]:
        clock.set(2025, month, day, 12, 0)
        t = new_ticket(customer, queue, tags=["x"])
        clock.advance(hours=month)
        services.post_reply(ticket=t, author=agent, body="Hi")
    build()
    assert MonthlyRollup.objects.filter(cube=Cube.TOTAL).count() == 4
    assert _full_months(date(2025, 1, 31), date(2025, 4, 1)) == (
        date(2025, 2, 1),
        date(2025, 3, 31),
    )
    assert _full_months(date(2025, 2, 2), date(2025, 2, 27)) is None
    f = Filters(start=date(2025, 1, 31), end=date(2025, 4, 1))
    rows = list(period_rows(f, "agent", fields=["frt_count", "frt_hist"]))
    assert sum(r["frt_count"] for r in rows) == 6
    s = report_for(date(2025, 1, 31), date(2025, 4, 1)).summary()
    assert (s["created"], s["frt_p50"], s["frt_p90"]) == (6, 2.5 * 3600, 3.5 * 3600)
