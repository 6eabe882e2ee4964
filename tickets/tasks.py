"""Celery doors into tickets' services. Pass IDs; every task is safe to run twice."""

import logging
import smtplib

from celery import shared_task
from django.db import DatabaseError

from helpdesk.celery import FrontlineTask
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
    for pk in ids:
        process_inbound_email.delay(pk)
    return len(ids)


@shared_task(base=MailTask)
def send_acknowledgement(ticket_id: int) -> int:
    return notifications.acknowledgement(ticket_id)
