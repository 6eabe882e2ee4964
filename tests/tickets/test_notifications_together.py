"""Notifications queued together (a batch of inbound mail) are read together and sent once
each: a batch costs a few queries per kind, and a mail that fails does not resend the rest."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import make_user
from tickets import services, tasks
from tickets.models import Queue
from tickets.services.queues import set_queue_agents


def _opened(customer, queue, n, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        tickets = [
            services.create_ticket(
                requester=customer, subject=f"Case {i}", body=f"Body {i}", queue=queue
            )
            for i in range(n)
        ]
    mailoutbox.clear()
    return tickets


def test_new_tickets_together_tell_each_queues_agents_once(
    customer, agent, admin, queue, django_capture_on_commit_callbacks, mailoutbox
):
    other = Queue.objects.create(name="Billing", slug="billing")
    billing_agent = make_user("bill@example.com", role="agent")
    set_queue_agents(queue=other, actor=admin, agents=[billing_agent])
    first = _opened(customer, queue, 3, django_capture_on_commit_callbacks, mailoutbox)
    second = _opened(customer, other, 2, django_capture_on_commit_callbacks, mailoutbox)
    calls = [[tasks.notify_new_ticket.name, t.pk] for t in first + second]
    with CaptureQueriesContext(connection) as ctx:
        assert tasks.send_notifications.run(calls) == 5
    # Per mail: the thread's earlier ids and the new reference; the rest is read together.
    assert len(ctx) <= 4 + 2 * 5
    by_subject = {m.subject: m.to for m in mailoutbox}
    assert len(mailoutbox) == 5
    billing = [s for s in by_subject if "Billing" in s]
    assert len(billing) == 2 and all(by_subject[s] == ["bill@example.com"] for s in billing)
    for t in first:
        mail = next(m for m in mailoutbox if f"[#{t.pk}]" in m.subject)
        assert f"Body {t.pk - first[0].pk}" in mail.body


def test_customer_replies_together_tell_only_assignees(
    customer, agent, queue, django_capture_on_commit_callbacks, mailoutbox
):
    assigned, unassigned = _opened(
        customer, queue, 2, django_capture_on_commit_callbacks, mailoutbox
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.assign_ticket(ticket=assigned, actor=agent, assignee=agent)
    replies = [
        services.post_reply(ticket=t, author=customer, body=f"More on {t.pk}")
        for t in (assigned, unassigned)
    ]
    mailoutbox.clear()
    calls = [[tasks.notify_assignee_of_customer_reply.name, m.pk] for m in replies]
    assert tasks.send_notifications.run(calls) == 1
    (mail,) = mailoutbox
    assert mail.to == [agent.email] and f"[#{assigned.pk}]" in mail.subject


def test_one_failing_mail_is_queued_alone_and_the_others_go_out_once(
    customer, agent, queue, django_capture_on_commit_callbacks, mailoutbox, monkeypatch
):
    tickets = _opened(customer, queue, 3, django_capture_on_commit_callbacks, mailoutbox)
    from tickets import notifications

    real = notifications._send
    failing = tickets[1].pk

    def send(*, ticket, **kwargs):
        if ticket.pk == failing:
            raise ConnectionError("smtp down")
        return real(ticket=ticket, **kwargs)

    monkeypatch.setattr(notifications, "_send", send)
    queued = []
    monkeypatch.setattr(tasks.notify_new_ticket, "delay", lambda pk: queued.append(pk))
    calls = [[tasks.notify_new_ticket.name, t.pk] for t in tickets]
    assert tasks.send_notifications.run(calls) == 2
    assert queued == [failing]
    assert sorted(m.subject for m in mailoutbox) == sorted(
        m.subject for m in mailoutbox if f"[#{failing}]" not in m.subject
    )
    assert len(mailoutbox) == 2


def test_a_batch_that_cannot_be_read_together_is_sent_one_by_one(
    customer, agent, queue, django_capture_on_commit_callbacks, mailoutbox, monkeypatch
):
    tickets = _opened(customer, queue, 2, django_capture_on_commit_callbacks, mailoutbox)
    from tickets import notifications

    real_prepare = notifications.prepare_new_tickets

    def broken_together(ids):
        if len(ids) > 1:
            raise RuntimeError("cannot read together")
        return real_prepare(ids)

    monkeypatch.setattr(notifications, "prepare_new_tickets", broken_together)
    calls = [[tasks.notify_new_ticket.name, t.pk] for t in tickets]
    assert tasks.send_notifications.run(calls) == 2
    assert len(mailoutbox) == 2


def test_mail_sent_together_is_remembered_for_threading(
    customer, agent, queue, django_capture_on_commit_callbacks, mailoutbox
):
    from tickets.models import MailReference

    tickets = _opened(customer, queue, 2, django_capture_on_commit_callbacks, mailoutbox)
    known = set(MailReference.objects.values_list("message_id", flat=True))
    calls = [[tasks.notify_new_ticket.name, t.pk] for t in tickets]
    assert tasks.send_notifications.run(calls) == 2
    sent = {m.extra_headers["Message-ID"] for m in mailoutbox}
    assert set(MailReference.objects.values_list("message_id", flat=True)) - known == sent


def test_references_are_written_even_when_sending_stops_half_way(
    customer, agent, queue, django_capture_on_commit_callbacks, mailoutbox, monkeypatch
):
    from tickets import notifications
    from tickets.models import MailReference

    tickets = _opened(customer, queue, 2, django_capture_on_commit_callbacks, mailoutbox)
    before = MailReference.objects.count()
    with pytest.raises(RuntimeError), notifications.references_together():
        notifications.new_ticket(tickets[0].pk)
        raise RuntimeError("worker told to stop")
    assert MailReference.objects.count() == before + 1
