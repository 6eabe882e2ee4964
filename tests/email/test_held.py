"""Agents decide about held mail in the app: add it to the ticket it named, open it as a new
ticket, or ignore it. Customers and strangers never reach it."""

import pytest
from django.urls import reverse

from tests.email.helpers import build_mail
from tickets.models import InboundEmail, Ticket

LIST = reverse("tickets:held")


@pytest.fixture
def held(ingest, support_queue):
    ticket = ingest(build_mail(), support_queue).ticket
    row = ingest(
        build_mail(sender="Dana <dana@partner.example>", subject=f"[#{ticket.pk}] our order"),
        support_queue,
    )
    assert row.status == InboundEmail.Status.HELD
    return row


def decide(client, row, decision):
    return client.post(reverse("tickets:held-decide", args=[row.pk]), {"decision": decision})


def test_agents_see_held_mail_with_its_reason(client, agent, held, django_assert_max_num_queries):
    client.force_login(agent)
    with django_assert_max_num_queries(4):  # session, user, rows (with ticket and queue)
        response = client.get(LIST)
    html = response.content.decode()
    assert response.status_code == 200
    assert "dana@partner.example" in html and f"Add to #{held.ticket_id}" in html
    assert held.reason[:30] in html
    original = client.get(reverse("tickets:held-original", args=[held.pk]))
    assert original.status_code == 200 and b"our order" in original.content


def test_accept_adds_it_to_the_named_ticket(client, agent, held):
    client.force_login(agent)
    response = decide(client, held, "accept")
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.status == InboundEmail.Status.PROCESSED
    assert held.ticket.messages.count() == 2
    assert held.ticket.followers.filter(email="dana@partner.example").exists()
    assert "Nothing is held." in client.get(LIST).content.decode()


def test_new_ticket_opens_one_for_the_sender(client, agent, held):
    client.force_login(agent)
    named = held.ticket_id
    decide(client, held, "new")
    held.refresh_from_db()
    assert held.status == InboundEmail.Status.PROCESSED and held.ticket_id != named
    assert Ticket.objects.get(pk=held.ticket_id).requester.email == "dana@partner.example"
    assert Ticket.objects.get(pk=named).messages.count() == 1


def test_ignore_keeps_the_mail_and_adds_nothing(client, agent, held):
    client.force_login(agent)
    decide(client, held, "ignore")
    held.refresh_from_db()
    assert held.status == InboundEmail.Status.IGNORED
    assert held.reason.startswith("Ignored by")
    assert held.raw  # still stored
    assert held.ticket.messages.count() == 1


def test_deciding_twice_says_so(client, agent, held):
    client.force_login(agent)
    decide(client, held, "ignore")
    again = decide(client, held, "accept")
    assert again.status_code == 409
    assert "not held" in again.content.decode()


def test_a_bad_decision_is_refused(client, agent, held):
    client.force_login(agent)
    assert decide(client, held, "delete").status_code == 400
    held.refresh_from_db()
    assert held.status == InboundEmail.Status.HELD


@pytest.mark.parametrize("who", ["anonymous", "customer"])
def test_customers_and_strangers_never_reach_held_mail(client, customer, held, who):
    if who == "customer":
        client.force_login(customer)
    for response in (
        client.get(LIST),
        client.get(reverse("tickets:held-original", args=[held.pk])),
        decide(client, held, "accept"),
    ):
        assert response.status_code in (302, 403, 404)
    held.refresh_from_db()
    assert held.status == InboundEmail.Status.HELD
