"""Hand-built scenarios with known answers, through the services and the dashboard's reader."""

from datetime import date, time

import pytest

from helpdesk.models import Role
from stats import services as stats_services
from stats.models import BusinessHours, BusinessHoursInterval, Holiday, QueueSettings
from tests.conftest import make_user
from tests.stats.conftest import build, report_for
from tickets import services
from tickets.models import Channel, Queue, Status

HOUR = 3600


def new_ticket(customer, queue, subject="Help", **kw):
    return services.create_ticket(
        requester=customer, subject=subject, body="Please.", queue=queue, **kw
    )


def reply(ticket, author, **kw):
    return services.post_reply(ticket=ticket, author=author, body="Answer.", **kw)


def day_row(report, day):
    return next(d for d in report.daily() if d["day"] == day)


def office_hours(name="Office", tz="Europe/Berlin", days=range(5), opens=time(9), closes=time(17)):
    schedule = BusinessHours.objects.create(name=name, time_zone=tz)
    for weekday in days:
        BusinessHoursInterval.objects.create(
            schedule=schedule, weekday=weekday, opens=opens, closes=closes
        )
    return schedule


# First response ------------------------------------------------------------------------------


def test_first_response_is_the_first_public_staff_reply_not_a_note(clock, customer, agent, queue):
    ticket = new_ticket(customer, queue)  # Monday 09:00 UTC
    clock.advance(minutes=30)
    reply(ticket, agent, internal=True)
    clock.advance(minutes=90)
    reply(ticket, agent)  # 11:00: two hours after creation
    clock.advance(hours=1)
    reply(ticket, agent)
    build()

    r = report_for(date(2025, 3, 3), date(2025, 3, 3))
    s = r.summary()
    assert s["first_responses"] == 1
    assert s["frt_p50"] == s["frt_p90"] == 2 * HOUR
    assert s["replies"] == 2
    assert r.agents()[0]["notes"] == 1


def test_ticket_with_internal_notes_only_has_no_first_response(clock, customer, agent, queue):
    ticket = new_ticket(customer, queue)
    clock.advance(hours=1)
    reply(ticket, agent, internal=True)
    clock.advance(hours=1)
    reply(ticket, agent, internal=True)
    build()

    r = report_for(date(2025, 3, 3), date(2025, 3, 3))
    s = r.summary()
    assert s["created"] == 1
    assert s["first_responses"] == 0
    assert s["frt_p50"] is None and s["frt_p90"] is None
    assert s["backlog_end"] == 1
    assert {k: r.live[k] for k in ("open", "unanswered", "unassigned")} == {
        "open": 1,
        "unanswered": 1,
        "unassigned": 1,
    }
    assert [(a["name"], a["notes"], a["replies"]) for a in r.agents()] == [("Alex Agent", 2, 0)]


# Business hours --------------------------------------------------------------------------------


def test_business_hours_skip_the_weekend(clock, customer, agent, queue):
    calendar_queue = Queue.objects.create(name="Calendar", slug="calendar")
    QueueSettings.objects.create(
        queue=queue, business_hours=office_hours(), first_response_target=3 * 60
    )
    QueueSettings.objects.create(queue=calendar_queue, first_response_target=3 * 60)
    # Friday 16:00 in Berlin (15:00 UTC); answered Monday 10:00 in Berlin.
    clock.set(2025, 3, 7, 16, 0, tz="Europe/Berlin")
    office = new_ticket(customer, queue)
    plain = new_ticket(customer, calendar_queue)
    clock.set(2025, 3, 10, 10, 0, tz="Europe/Berlin")
    reply(office, agent)
    reply(plain, agent)
    build()

    week = (date(2025, 3, 3), date(2025, 3, 16))
    office_report = report_for(*week, queue=queue.pk).summary()
    plain_report = report_for(*week, queue=calendar_queue.pk).summary()
    # One hour on Friday (16-17) and one on Monday (9-10).
    assert office_report["frt_p50"] == 2 * HOUR
    assert office_report["frt_share"] == 1.0
    assert plain_report["frt_p50"] == 66 * HOUR
    assert plain_report["frt_share"] == 0.0
    both = report_for(*week).summary()
    assert both["frt_targeted"] == 2 and both["frt_share"] == 0.5


def test_holidays_and_a_schedule_in_another_time_zone(clock, customer, agent, queue):
    schedule = office_hours(tz="America/New_York")
    Holiday.objects.create(schedule=schedule, date=date(2025, 3, 10), name="Closed Monday")
    QueueSettings.objects.create(queue=queue, business_hours=schedule)
    # Friday 16:30 in New York; answered Tuesday 09:15 in New York (Monday is a holiday).
    clock.set(2025, 3, 7, 16, 30, tz="America/New_York")
    ticket = new_ticket(customer, queue)
    clock.set(2025, 3, 11, 9, 15, tz="America/New_York")
    reply(ticket, agent)
    build()

    s = report_for(date(2025, 3, 1), date(2025, 3, 31)).summary()
    assert s["frt_p50"] == 30 * 60 + 15 * 60


def test_a_day_with_a_dst_change_has_23_business_hours(clock, customer, agent, queue):
    sundays = office_hours(name="Sundays", days=[6], opens=time(0), closes=time(0))
    QueueSettings.objects.create(queue=queue, business_hours=sundays)
    # Berlin moves its clocks forward on Sunday 30 March 2025: that day has 23 hours.
    clock.set(2025, 3, 29, 12, 0, tz="Europe/Berlin")
    ticket = new_ticket(customer, queue)
    clock.set(2025, 3, 31, 12, 0, tz="Europe/Berlin")
    reply(ticket, agent)
    build()

    s = report_for(date(2025, 3, 1), date(2025, 3, 31)).summary()
    assert s["frt_p50"] == 23 * HOUR


# Resolution and reopening ------------------------------------------------------------------------


def test_reopened_ticket_is_resolved_once_at_its_last_solve(clock, customer, agent, queue):
    ticket = new_ticket(customer, queue)  # Monday 3 March, 09:00
    clock.set(2025, 3, 4, 9, 0)
    reply(ticket, agent, new_status=Status.SOLVED)  # Tuesday
    clock.set(2025, 3, 5, 9, 0)
    services.change_status(ticket=ticket, actor=customer, status=Status.OPEN)  # Wednesday
    clock.set(2025, 3, 7, 9, 0)
    services.change_status(ticket=ticket, actor=agent, status=Status.SOLVED)  # Friday
    build()

    r = report_for(date(2025, 3, 3), date(2025, 3, 9))
    assert [
        (d["day"].day, d["created"], d["solved"], d["reopened"], d["backlog"]) for d in r.daily()
    ] == [
        (3, 1, 0, 0, 1),
        (4, 0, 0, 0, 0),
        (5, 0, 0, 1, 1),
        (6, 0, 0, 0, 1),
        (7, 0, 1, 0, 0),
        (8, 0, 0, 0, 0),
        (9, 0, 0, 0, 0),
    ]
    s = r.summary()
    assert (s["solved"], s["reopened"], s["resolutions"]) == (1, 1, 1)
    assert s["res_p50"] == 4 * 24 * HOUR
    # Measured from creation: the first response came with the first solve, on Tuesday.
    assert s["frt_p50"] == 24 * HOUR


def test_tickets_open_at_the_range_end(clock, customer, agent, queue):
    clock.set(2025, 2, 20, 9, 0)
    old = new_ticket(customer, queue, subject="Before the range")
    clock.set(2025, 3, 4, 12, 0)
    new_ticket(customer, queue, subject="Inside the range")
    clock.set(2025, 3, 12, 9, 0)
    services.change_status(ticket=old, actor=agent, status=Status.SOLVED)  # after the range
    build()

    r = report_for(date(2025, 3, 1), date(2025, 3, 9))
    s = r.summary()
    assert (s["backlog_start"], s["backlog_end"], s["created"], s["solved"]) == (1, 2, 1, 0)
    assert s["res_p50"] is None
    assert [d["backlog"] for d in r.daily()] == [1, 1, 1, 2, 2, 2, 2, 2, 2]
    later = report_for(date(2025, 3, 10), date(2025, 3, 16)).summary()
    assert (later["backlog_start"], later["backlog_end"], later["solved"]) == (2, 1, 1)
    assert later["res_p50"] == 20 * 24 * HOUR


def test_merged_ticket_counts_as_created_but_not_solved(clock, customer, agent, queue):
    first = new_ticket(customer, queue, subject="Printer")
    second = new_ticket(customer, queue, subject="Printer again")
    clock.advance(hours=1)
    services.merge_tickets(source=second, target=first, actor=agent)
    build()

    s = report_for(date(2025, 3, 3), date(2025, 3, 3)).summary()
    assert (s["created"], s["solved"], s["resolutions"], s["backlog_end"]) == (2, 0, 0, 1)


# Time zones ------------------------------------------------------------------------------------


def test_days_begin_at_midnight_in_the_reporting_time_zone(clock, customer, admin, queue):
    clock.set(2025, 3, 4, 3, 30)  # 22:30 on 3 March in New York
    new_ticket(customer, queue)
    build()
    assert report_for(date(2025, 3, 4), date(2025, 3, 4)).summary()["created"] == 1

    with pytest.MonkeyPatch.context():
        stats_services.save_dashboard_settings(
            actor=admin, agents_can_view=False, time_zone="America/New_York"
        )
    build()
    assert report_for(date(2025, 3, 3), date(2025, 3, 3)).summary()["created"] == 1
    assert report_for(date(2025, 3, 4), date(2025, 3, 4)).summary()["created"] == 0


# Breakdowns ------------------------------------------------------------------------------------


def test_breakdowns_by_agent_channel_and_tag(clock, customer, agent, other_agent, queue):
    minutes = {agent: [10, 20, 30, 40], other_agent: [60]}
    for who, waits in minutes.items():
        for wait in waits:
            clock.set(2025, 3, 3, 9, 0)
            t = new_ticket(
                customer,
                queue,
                channel=Channel.EMAIL if who == agent else Channel.WEB,
                tags=["billing"] if wait >= 30 else ["login"],
            )
            services.assign_ticket(ticket=t, actor=who, assignee=who)
            clock.advance(minutes=wait)
            reply(t, who, time_spent=5)
    build()

    r = report_for(date(2025, 3, 3), date(2025, 3, 3))
    agents = {a["name"]: a for a in r.agents()}
    assert agents["Alex Agent"]["frt_p50"] == 25 * 60
    assert agents["Alex Agent"]["minutes"] == 20
    assert agents["Sam Support"]["frt_p50"] == 60 * 60
    channels = {c["channel"]: c for c in r.channels()}
    assert channels["email"]["created"] == 4 and channels["email"]["frt_p90"] == 37 * 60
    assert channels["web"]["frt_p50"] == 60 * 60
    tags = {t["name"]: t["created"] for t in r.tags}
    assert tags == {"billing": 3, "login": 2}
    # Filtering by a tag and by an agent narrows everything, percentiles included.
    billing = report_for(date(2025, 3, 3), date(2025, 3, 3), tag="billing").summary()
    assert (billing["created"], billing["frt_p50"]) == (3, 40 * 60)
    alex = report_for(date(2025, 3, 3), date(2025, 3, 3), agent=agent.pk).summary()
    assert (alex["created"], alex["frt_p90"]) == (4, 37 * 60)
    nobody = report_for(date(2025, 3, 3), date(2025, 3, 3), tag="no-such-tag").summary()
    assert nobody["created"] == 0


def test_fastest_growing_tags_compare_with_the_period_before(clock, customer, queue):
    for day, tags in [
        (1, ["api"]),
        (2, ["api", "login"]),
        (8, ["api"]),
        (9, ["login"]),
        (10, ["login"]),
        (11, ["login", "export"]),
    ]:
        clock.set(2025, 3, day, 12, 0)
        new_ticket(customer, queue, tags=tags)
    build()

    r = report_for(date(2025, 3, 8), date(2025, 3, 14))
    assert [(t["name"], t["created"], t["previous"], t["change"]) for t in r.growing()] == [
        ("login", 3, 1, 2),
        ("export", 1, 0, 1),
    ]


def test_unassigned_filter(clock, customer, agent, queue):
    t = new_ticket(customer, queue)
    new_ticket(customer, queue)
    services.assign_ticket(ticket=t, actor=agent, assignee=agent)
    build()
    assert report_for(date(2025, 3, 3), date(2025, 3, 3), agent="none").summary()["created"] == 1


def test_agent_role_fixture_is_staff(agent):
    assert agent.role == Role.AGENT


def test_make_user_helper_is_shared(db):
    assert make_user("x@example.com").role == Role.CUSTOMER


def test_breakdown_by_queue_with_percentiles(clock, customer, agent, queue):
    from tickets.models import Queue

    billing = Queue.objects.create(name="Billing", slug="billing")
    for q, waits in [(queue, [10, 50]), (billing, [20, 40, 90])]:
        for wait in waits:
            clock.set(2025, 3, 3, 9, 0)
            t = new_ticket(customer, q)
            clock.advance(minutes=wait)
            reply(t, agent)
    build()

    rows = {r["name"]: r for r in report_for(date(2025, 3, 3), date(2025, 3, 3)).queues()}
    assert [rows[n]["created"] for n in ("General", "Billing")] == [2, 3]
    assert rows["General"]["frt_p50"] == 30 * 60  # halfway between 10 and 50 minutes
    assert rows["Billing"]["frt_p50"] == 40 * 60
    assert rows["Billing"]["frt_p90"] == 80 * 60  # 40 + 0.8 * (90 - 40)
