"""'My tickets' shows and sorts by the last change the customer can see: staff-only work
(internal notes, assignment, priority, tags, on hold) never moves a ticket or its time."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from tickets import services
from tickets.models import Priority, Status, Ticket


def later(monkeypatch, minutes):
    moment = timezone.now() + timedelta(minutes=minutes)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    return moment


def seen(ticket) -> object:
    return Ticket.objects.values_list("customer_updated_at", flat=True).get(pk=ticket.pk)


def test_staff_only_changes_leave_the_customer_time(monkeypatch, ticket, agent):
    created = seen(ticket)
    later(monkeypatch, 5)
    services.post_reply(ticket=ticket, author=agent, body="Looks like the cache", internal=True)
    services.assign_ticket(ticket=ticket, actor=agent, assignee=agent)
    services.change_priority(ticket=ticket, actor=agent, priority=Priority.HIGH)
    services.set_tags(ticket=ticket, actor=agent, tags=["billing"])
    ticket.refresh_from_db()
    services.change_status(ticket=ticket, actor=agent, status=Status.OPEN)
    ticket.refresh_from_db()
    services.change_status(
        ticket=ticket, actor=agent, status=Status.ON_HOLD
    )  # reads "We're on it" too
    assert seen(ticket) == created
    ticket.refresh_from_db()
    assert ticket.updated_at > created  # the agents' queue still sees the activity


def test_public_replies_and_visible_status_changes_move_it(monkeypatch, ticket, agent, customer):
    reply_at = later(monkeypatch, 5)
    services.post_reply(ticket=ticket, author=agent, body="Try again please")
    assert seen(ticket) == reply_at
    ticket.refresh_from_db()
    solved_at = later(monkeypatch, 10)
    services.change_status(ticket=ticket, actor=agent, status=Status.SOLVED)
    assert seen(ticket) == solved_at
    ticket.refresh_from_db()
    answer_at = later(monkeypatch, 15)
    services.post_reply(ticket=ticket, author=customer, body="Still broken")
    assert seen(ticket) == answer_at


def test_an_internal_note_that_solves_the_ticket_shows(monkeypatch, ticket, agent):
    at = later(monkeypatch, 5)
    services.post_reply(
        ticket=ticket, author=agent, body="Fixed upstream", internal=True, new_status=Status.SOLVED
    )
    assert seen(ticket) == at


def test_my_tickets_orders_by_what_the_customer_saw(
    monkeypatch, customer_client, customer, agent, queue
):
    older = services.create_ticket(requester=customer, subject="Older", body="a", queue=queue)
    later(monkeypatch, 1)
    newer = services.create_ticket(requester=customer, subject="Newer", body="b", queue=queue)
    later(monkeypatch, 2)
    services.post_reply(ticket=older, author=agent, body="note", internal=True)
    html = customer_client.get(reverse("tickets:mine")).content.decode()
    assert html.index("Newer") < html.index("Older")
    later(monkeypatch, 3)
    services.post_reply(ticket=older, author=agent, body="We are on it")
    html = customer_client.get(reverse("tickets:mine")).content.decode()
    assert html.index("Older") < html.index("Newer")
    assert newer.pk != older.pk
