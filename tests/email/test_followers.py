"""Cc'd addresses become followers: on a new ticket and on a participant's reply."""

from tests.email.helpers import build_mail
from tickets.models import InboundEmail, TicketEvent


def _followers(ticket):
    return sorted(ticket.followers.values_list("email", flat=True))


def test_cc_on_a_customer_reply_adds_followers(support_queue, ingest):
    ticket = ingest(build_mail(message_id="<f1@example.com>"), support_queue).ticket
    row = ingest(
        build_mail(
            in_reply_to="<f1@example.com>",
            subject="Re: Help",
            cc="Boss <boss@example.com>, support@frontline.localhost",
        ),
        support_queue,
    )
    assert row.ticket == ticket
    assert _followers(ticket) == ["boss@example.com"]
    event = TicketEvent.objects.get(ticket=ticket, kind="followers")
    assert event.data == {"added": ["boss@example.com"]}


def test_cc_of_existing_followers_adds_no_event(support_queue, ingest):
    ticket = ingest(
        build_mail(message_id="<f2@example.com>", cc="boss@example.com"), support_queue
    ).ticket
    ingest(
        build_mail(in_reply_to="<f2@example.com>", cc="boss@example.com, carla@example.com"),
        support_queue,
    )
    assert _followers(ticket) == ["boss@example.com"]
    assert TicketEvent.objects.filter(ticket=ticket, kind="followers").count() == 1


def test_cc_on_a_followers_subject_token_reply_adds_followers(support_queue, ingest):
    ticket = ingest(build_mail(cc="boss@example.com"), support_queue).ticket
    ingest(
        build_mail(
            sender="boss@example.com", subject=f"Re: [#{ticket.pk}] Help", cc="cfo@example.com"
        ),
        support_queue,
    )
    assert _followers(ticket) == ["boss@example.com", "cfo@example.com"]


def test_cc_on_a_non_participants_reply_adds_nobody(support_queue, ingest):
    ticket = ingest(build_mail(message_id="<f3@example.com>"), support_queue).ticket
    row = ingest(
        build_mail(
            sender="forwarded-to@elsewhere.example",
            in_reply_to="<f3@example.com>",
            cc="stranger@elsewhere.example",
        ),
        support_queue,
    )
    assert row.status == InboundEmail.Status.PROCESSED and row.ticket == ticket
    assert _followers(ticket) == []


def test_cc_on_held_mail_adds_nobody(support_queue, ingest):
    ticket = ingest(build_mail(), support_queue).ticket
    row = ingest(
        build_mail(
            sender="mallory@evil.example",
            subject=f"[#{ticket.pk}] hi",
            cc="accomplice@evil.example",
        ),
        support_queue,
    )
    assert row.status == InboundEmail.Status.HELD
    assert _followers(ticket) == []
