"""Celery doors into tickets' services. Pass IDs; every task is safe to run twice."""

import logging
import smtplib
from contextlib import contextmanager

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import DatabaseError, transaction

from helpdesk.celery import FrontlineTask
from helpdesk.together import Collector
from tickets import notifications, services

logger = logging.getLogger(__name__)


class MailTask(FrontlineTask):
    """Retries SMTP trouble with backoff; when retries run out, the ticket shows the failure."""

    autoretry_for = (smtplib.SMTPException, OSError, TimeoutError)

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        from tickets.models import TicketEvent

        ticket_id = None
        try:
            ticket_id = notifications.ticket_id_for_task(self.name, tuple(args))
            if not ticket_id:
                return
            TicketEvent.objects.create(
                ticket_id=ticket_id,
                actor=None,
                kind=TicketEvent.Kind.MAIL_FAILED,
                data={
                    "task": self.name.rsplit(".", 1)[-1],
                    "error": f"{exc.__class__.__name__}: {exc}"[:500],
                },
            )
        except DatabaseError:
            # The failure handler runs outside the task body: an error here would stop a solo
            # worker. The task's own failure is already in the log; keep the worker serving.
            logger.exception("could not record the mail failure on ticket %s", ticket_id)


@shared_task(base=MailTask)
def notify_new_ticket(ticket_id: int) -> int:
    return notifications.new_ticket(ticket_id)


@shared_task(base=MailTask)
def notify_customer_of_reply(message_id: int) -> int:
    return notifications.customer_reply_from_staff(message_id)


@shared_task(base=MailTask)
def notify_assignee_of_customer_reply(message_id: int) -> int:
    return notifications.assignee_customer_replied(message_id)


@shared_task(base=MailTask)
def notify_customer_solved(ticket_id: int) -> int:
    return notifications.customer_ticket_solved(ticket_id)


@shared_task(base=MailTask)
def send_ticket_link(ticket_id: int) -> int:
    return notifications.anonymous_ticket_link(ticket_id)


@shared_task(base=MailTask)
def send_acknowledgement(ticket_id: int) -> int:
    return notifications.acknowledgement(ticket_id)


NOTIFICATION_TASKS = {
    task.name: task
    for task in (
        notify_new_ticket,
        notify_customer_of_reply,
        notify_assignee_of_customer_reply,
        notify_customer_solved,
        send_ticket_link,
        send_acknowledgement,
    )
}
_together = Collector()


def notify_on_commit(task, object_id: int) -> None:
    """Queue a notification task once the transaction commits (never for a rolled-back
    change, savepoints included). Inside `notifications_together()` it waits for the block's
    other notifications and goes out with them as one task."""
    pending = _together.pending
    if pending is None:
        transaction.on_commit(lambda: task.delay(object_id))
    else:
        transaction.on_commit(lambda: pending.append([task.name, object_id]))


@contextmanager
def notifications_together():
    """Use inside transaction.atomic(): the notifications the block queues are sent by one
    `send_notifications` task after the commit instead of one task each (a batch of inbound
    mail opens dozens of tickets). Each one still counts only if its own savepoint commits."""
    with _together.block() as pending:
        yield
    transaction.on_commit(lambda: _queue_together(pending))


def _queue_together(pending: list) -> None:
    if len(pending) == 1:
        name, object_id = pending[0]
        NOTIFICATION_TASKS[name].delay(object_id)
    elif pending:
        send_notifications.delay(pending)


@shared_task
def send_notifications(calls: list) -> int:
    """Notifications queued together (`notifications_together`), sent one after the other.
    One that fails is queued as its own task, which retries with backoff and records "could
    not send mail" on its ticket when retries run out; the others go on."""
    with notifications.references_together():
        return _send_calls(calls)


def _send_calls(calls: list) -> int:
    try:
        prepared = _prepared(calls)
    except SoftTimeLimitExceeded:
        for name, object_id in calls:
            NOTIFICATION_TASKS[name].delay(object_id)
        return 0
    sent = 0
    for position, (name, object_id) in enumerate(calls):
        task = NOTIFICATION_TASKS[name]
        try:
            send = prepared.get((name, object_id))
            sent += (send() if send else task.run(object_id)) or 0
        except SoftTimeLimitExceeded:
            for rest_name, rest_id in calls[position:]:
                NOTIFICATION_TASKS[rest_name].delay(rest_id)
            break
        except Exception:  # noqa: BLE001 - its own task retries it and records the failure
            logger.warning("%s(%s) failed; queued on its own", name, object_id, exc_info=True)
            task.delay(object_id)
    return sent


def _prepared(calls: list) -> dict:
    """{(task name, id): sender} for the kinds that read their rows together (new tickets,
    customer replies): a batch of inbound mail then costs a few queries, not a few per mail.
    A kind whose reading fails is sent one by one instead."""
    batched = {
        notify_new_ticket.name: notifications.prepare_new_tickets,
        notify_assignee_of_customer_reply.name: notifications.prepare_assignee_replies,
    }
    ids: dict[str, list[int]] = {}
    for name, object_id in calls:
        if name in batched:
            ids.setdefault(name, []).append(object_id)
    out = {}
    for name, object_ids in ids.items():
        if len(object_ids) < 2:
            continue
        try:
            senders = batched[name](object_ids)
        except SoftTimeLimitExceeded:
            raise
        except Exception:  # noqa: BLE001 - each is then read and sent on its own
            logger.warning("could not prepare %s together; one by one", name, exc_info=True)
            continue
        out.update(((name, object_id), send) for object_id, send in senders.items())
    return out


@shared_task
def auto_close_solved_tickets() -> int:
    return services.auto_close_solved_tickets()


@shared_task
def process_inbound_email(inbound_id: int) -> str:
    """The service raises TransientError for a busy database; FrontlineTask retries that."""
    from tickets.services.email import process_inbound

    row = process_inbound(inbound_id)
    return row.status if row else "missing"


@shared_task
def process_inbound_batch(inbound_ids: list[int]) -> int:
    """Stored messages queued together by a mailbox poll, in one transaction (a savepoint
    each); the service raises TransientError for a busy database. Returns how many rows it
    handled."""
    from tickets.services.email import process_inbound_batch as process

    return len(process(inbound_ids))


@shared_task
def poll_mailbox(mailbox_id: int) -> int:
    from tickets.mailsources import poll_mailbox as poll
    from tickets.models import Mailbox

    box = Mailbox.objects.filter(pk=mailbox_id, is_active=True).first()
    return poll(box) if box else 0


@shared_task
def poll_embedded_inbox() -> int:
    from tickets.mailsources import poll_embedded_inbox as poll

    return poll()


@shared_task
def poll_mailboxes() -> int:
    """Beat: one task per configured mailbox and one for the embedded Maildir, so a source
    that fails (a server down, a file we cannot move) never holds up the others. Returns how
    many mailbox polls were queued."""
    from tickets.models import Mailbox

    ids = list(Mailbox.objects.filter(is_active=True).values_list("pk", flat=True))
    for pk in ids:
        poll_mailbox.delay(pk)
    poll_embedded_inbox.delay()
    return len(ids)


@shared_task
def requeue_stuck_inbound(older_than_seconds: int = 300) -> int:
    """Beat: messages stored but never processed get another task. Their first task can be
    lost when a worker dies holding it (the filesystem broker does not redeliver; Redis only
    after its visibility timeout); processing is idempotent, so a duplicate task is harmless."""
    from datetime import timedelta

    from django.utils import timezone

    from tickets.models import InboundEmail

    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = list(
        InboundEmail.objects.filter(status="received", received_at__lt=cutoff).values_list(
            "pk", flat=True
        )[:1000]
    )
    from tickets.services.email import queue_batch_processing

    queue_batch_processing(ids)
    return len(ids)
