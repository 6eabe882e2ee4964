"""Mail from a staff address: a public reply (or `#note`) only when it answers our own mail.

Anyone can write `From: agent@…`; a `[#123]` subject token is a guessable number. So staff mail
joins a ticket only when it threads by In-Reply-To/References or by the signed reply address,
and never when the receiving server recorded a DMARC failure for it.
"""

from tests.email.helpers import build_mail
from tickets.models import InboundEmail, TicketEvent
from tickets.services.email import accept_held_email, reply_address


def _ticket_with_customer_mail(ingest, queue, message_id="<c1@example.com>"):
    return ingest(build_mail(message_id=message_id), queue).ticket


def test_forged_staff_address_with_subject_token_is_held_not_mailed(
    support_queue, agent, ingest, mailoutbox
):
    ticket = _ticket_with_customer_mail(ingest, support_queue)
    mailoutbox.clear()
    row = ingest(
        build_mail(
            sender=f"Alex Agent <{agent.email}>",
            subject=f"Re: [#{ticket.pk}] Help",
            body="Please send your password to mallory@evil.example",
        ),
        support_queue,
    )
    assert row.status == InboundEmail.Status.HELD
    assert "staff address" in row.reason
    assert ticket.messages.count() == 1
    assert mailoutbox == []
    assert TicketEvent.objects.filter(ticket=ticket, kind="mail_held").exists()


def test_forged_staff_note_by_subject_token_writes_no_internal_note(support_queue, agent, ingest):
    ticket = _ticket_with_customer_mail(ingest, support_queue)
    row = ingest(
        build_mail(
            sender=agent.email,
            subject=f"[#{ticket.pk}]",
            body="#note\nRefund approved, no need to check.",
        ),
        support_queue,
    )
    assert row.status == InboundEmail.Status.HELD
    assert not ticket.messages.filter(is_internal=True).exists()


def test_staff_reply_to_the_signed_reply_address_is_a_public_reply(
    support_queue, agent, ingest, mailoutbox
):
    ticket = _ticket_with_customer_mail(ingest, support_queue)
    mailoutbox.clear()
    row = ingest(
        build_mail(sender=agent.email, to=reply_address(ticket), body="On it."), support_queue
    )
    assert row.status == InboundEmail.Status.PROCESSED
    reply = ticket.messages.order_by("id").last()
    assert reply.is_from_staff and not reply.is_internal and reply.body == "On it."
    assert [m.to for m in mailoutbox] == [["carla@example.com"]]


def test_staff_reply_with_dmarc_failure_is_held_even_when_threaded(support_queue, agent, ingest):
    ticket = _ticket_with_customer_mail(ingest, support_queue)
    row = ingest(
        build_mail(
            sender=agent.email,
            in_reply_to="<c1@example.com>",
            headers={
                "Authentication-Results": "mx.frontline.localhost; spf=fail "
                "smtp.mailfrom=evil.example; dmarc=fail (p=NONE) header.from=example.com"
            },
        ),
        support_queue,
    )
    assert row.status == InboundEmail.Status.HELD
    assert "DMARC" in row.reason
    assert ticket.messages.count() == 1


def test_staff_reply_with_dmarc_pass_threads(support_queue, agent, ingest):
    ticket = _ticket_with_customer_mail(ingest, support_queue)
    row = ingest(
        build_mail(
            sender=agent.email,
            in_reply_to="<c1@example.com>",
            headers={"Authentication-Results": "mx.frontline.localhost; dmarc=pass"},
        ),
        support_queue,
    )
    assert row.status == InboundEmail.Status.PROCESSED
    assert row.ticket == ticket


def test_held_staff_mail_accepted_by_an_agent_joins_without_making_staff_a_follower(
    support_queue, agent, other_agent, ingest
):
    ticket = _ticket_with_customer_mail(ingest, support_queue)
    row = ingest(
        build_mail(sender=agent.email, subject=f"[#{ticket.pk}] update", body="Shipped today."),
        support_queue,
    )
    accept_held_email(row=row, actor=other_agent)
    row.refresh_from_db()
    assert row.status == InboundEmail.Status.PROCESSED
    assert ticket.messages.order_by("id").last().body == "Shipped today."
    assert not ticket.followers.filter(pk=agent.pk).exists()


def test_customer_subject_token_reply_still_threads(support_queue, ingest):
    ticket = _ticket_with_customer_mail(ingest, support_queue)
    row = ingest(build_mail(subject=f"Re: [#{ticket.pk}] Help", body="Any news?"), support_queue)
    assert row.status == InboundEmail.Status.PROCESSED
    assert row.ticket == ticket
