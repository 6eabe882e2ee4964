"""A batch of stored messages is processed together: its lookups are read once, and what one
message adds (a ticket, its Message-ID) is seen by the next, unless that message failed."""

from django.core.files.storage import default_storage

from tests.email.helpers import build_mail
from tickets.models import InboundEmail, Message, Ticket
from tickets.services import email as email_service
from tickets.services.email import process_inbound_batch, store_inbound


def _store(queue, **mail):
    row, created = store_inbound(
        raw=build_mail(**mail), source="pipe", queue=queue, queue_processing=False
    )
    assert created
    return row


def _store_again(queue, first, **mail):
    """The same Message-ID stored a second time (another source that keyed it otherwise)."""
    InboundEmail.objects.filter(pk=first.pk).update(dedupe_key=f"other:{first.pk}")
    return _store(queue, **mail)


def _opened_answered_and_resent(queue, subject, tag):
    """A new mail, a reply to it, and the new mail again from another source (the same
    Message-ID), stored for one batch."""
    first = _store(queue, subject=subject, message_id=f"<{tag}1@example.com>")
    reply = _store(
        queue,
        subject=f"Re: {subject}",
        message_id=f"<{tag}2@example.com>",
        in_reply_to=f"<{tag}1@example.com>",
        references=f"<{tag}1@example.com>",
    )
    again = _store_again(
        queue, first, subject=subject, message_id=f"<{tag}1@example.com>", sender="x@example.com"
    )
    return first, reply, again


def _statuses(rows):
    return [InboundEmail.objects.get(pk=r.pk).status for r in rows]


def test_a_reply_in_the_same_batch_joins_the_ticket_opened_before_it(support_queue):
    first, reply, again = _opened_answered_and_resent(support_queue, "Printer", "p")
    process_inbound_batch([first.pk, reply.pk, again.pk])
    assert _statuses([first, reply, again]) == ["processed", "processed", "ignored"]
    ticket = Ticket.objects.get()
    assert list(ticket.messages.order_by("id").values_list("message_id", flat=True)) == [
        "<p1@example.com>",
        "<p2@example.com>",
    ]
    assert InboundEmail.objects.get(pk=again.pk).reason == "This message is already on a ticket."


def test_what_a_failed_message_added_is_forgotten_by_the_rest_of_the_batch(
    support_queue, monkeypatch
):
    first, reply, resent = _opened_answered_and_resent(support_queue, "Broken", "b")
    real = email_service._add_followers
    calls = []

    def fails_once(*args, **kwargs):
        # Runs after the ticket, its message and its reference were written.
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(email_service, "_add_followers", fails_once)
    process_inbound_batch([first.pk, reply.pk, resent.pk])
    assert _statuses([first, reply, resent]) == ["failed", "processed", "processed"]
    assert "disk full" in InboundEmail.objects.get(pk=first.pk).reason
    # The reply found no ticket (the first one's was rolled back) and opened its own; the
    # resent message was not taken for a duplicate of the rolled-back one.
    assert Ticket.objects.count() == 2
    assert Message.objects.filter(message_id="<b1@example.com>").count() == 1
    resent_ticket = InboundEmail.objects.get(pk=resent.pk).ticket
    assert resent_ticket.messages.get().message_id == "<b1@example.com>"


def test_an_unreadable_message_fails_alone(support_queue):
    good = _store(support_queue, subject="Fine")
    lost = _store(support_queue, subject="Lost")
    default_storage.delete(lost.raw.name)
    later = _store(support_queue, subject="Also fine")
    process_inbound_batch([good.pk, lost.pk, later.pk])
    assert _statuses([good, lost, later]) == ["processed", "failed", "processed"]
    assert Ticket.objects.count() == 2


def test_a_reply_to_a_ticket_from_an_earlier_batch_is_found(support_queue):
    first = _store(support_queue, subject="Old", message_id="<o1@example.com>")
    process_inbound_batch([first.pk])
    reply = _store(
        support_queue,
        subject="Re: Old",
        message_id="<o2@example.com>",
        references="<unknown@example.com> <o1@example.com>",
    )
    process_inbound_batch([reply.pk])
    assert InboundEmail.objects.get(pk=reply.pk).ticket == Ticket.objects.get()


def test_queries_per_message_stay_few(support_queue, django_assert_max_num_queries):
    rows = []
    for i in range(25):
        rows.append(
            _store(
                support_queue,
                subject=f"Case {i}",
                message_id=f"<c{i}@example.com>",
                sender=f"c{i}@example.com",
            )
        )
        rows.append(
            _store(
                support_queue,
                subject=f"Re: Case {i}",
                message_id=f"<r{i}@example.com>",
                in_reply_to=f"<c{i}@example.com>",
                sender=f"c{i}@example.com",
            )
        )
    # About nine a message: a new customer, the ticket or reply, its event, four savepoints.
    with django_assert_max_num_queries(50 * 9):
        process_inbound_batch([r.pk for r in rows])
    assert set(_statuses(rows)) == {"processed"}
    assert Ticket.objects.count() == 25
