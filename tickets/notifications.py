"""Outbound ticket mail.

Every mail about a ticket carries the `[#123]` token in its subject, a Reply-To address signed for
that ticket, a Message-ID that is remembered (MailReference) and In-Reply-To/References to the
ticket's earlier messages, so that mail clients thread it and replies find their way back.
Plain text with an HTML alternative. Internal notes are never mailed.

A redelivered task sends at worst once more; the repeat carries the same Message-ID for staff
replies (stored on the message), which mail clients collapse.
"""

from contextlib import contextmanager
from email.utils import formataddr, make_msgid, parseaddr

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db.models import Min
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from helpdesk.together import Collector
from tickets.models import MailReference, Message, Ticket
from tickets.queries import notified_agents


def _domain() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"


def _thread_ids(ticket: Ticket, exclude: str | None = None) -> list[str]:
    ids = list(
        MailReference.objects.filter(ticket=ticket)
        .exclude(message_id=exclude or "")
        .order_by("created_at", "id")
        .values_list("message_id", flat=True)
    )
    return ids


def _send(
    *,
    ticket: Ticket,
    to: list[str],
    subject: str,
    template: str,
    context: dict,
    message_id: str | None = None,
    auto: bool = True,
) -> int:
    from tickets.services.email import queue_address, reply_address

    to = [address for address in dict.fromkeys(to) if address]
    if not to:
        return 0
    message_id = message_id or make_msgid(domain=_domain())
    earlier = _thread_ids(ticket, exclude=message_id) + [
        r.message_id
        for r in _references.pending or []
        if r.ticket_id == ticket.pk and r.message_id != message_id
    ]
    headers = {"Message-ID": message_id, "Reply-To": reply_address(ticket)}
    if auto:
        # Tells well-behaved auto-responders not to answer notifications (RFC 3834).
        headers["Auto-Submitted"] = "auto-generated"
        headers["X-Auto-Response-Suppress"] = "All"
    if earlier:
        headers["In-Reply-To"] = earlier[-1]
        headers["References"] = " ".join(earlier[-20:])
    context = {
        **context,
        "ticket": ticket,
        "SITE_NAME": settings.SITE_NAME,
        "SITE_URL": settings.SITE_URL,
    }
    with translation.override(settings.LANGUAGE_CODE):
        text = render_to_string(f"tickets/email/{template}.txt", context)
        html = render_to_string("tickets/email/base.html", {**context, "text": text})
    sender_name = parseaddr(settings.DEFAULT_FROM_EMAIL)[0] or settings.SITE_NAME
    mail = EmailMultiAlternatives(
        subject=f"[#{ticket.pk}] {subject}",
        body=text,
        from_email=formataddr((sender_name, queue_address(ticket.queue))),
        to=to,
        headers=headers,
    )
    mail.attach_alternative(html, "text/html")
    sent = mail.send()
    reference = MailReference(message_id=message_id, ticket=ticket)
    pending = _references.pending
    if pending is not None:
        pending.append(reference)
    else:
        # One statement; an id already known (a redelivered staff reply) keeps its ticket.
        MailReference.objects.bulk_create([reference], ignore_conflicts=True)
    return sent


_references = Collector()


@contextmanager
def references_together():
    """The Message-IDs of the mail sent inside the block are remembered with one statement at
    its end (whatever happens), not one commit per mail (on Postgres each commit waits for
    the disk). Until then a reply to one of them still finds its ticket by the signed
    Reply-To address and the subject token."""
    with _references.block() as pending:
        try:
            yield
        finally:
            if pending:
                MailReference.objects.bulk_create(pending, ignore_conflicts=True)


def ticket_url(ticket: Ticket) -> str:
    return settings.SITE_URL + reverse("tickets:detail", args=[ticket.pk])


def magic_link(ticket: Ticket) -> str:
    """A signed sign-in link for a customer without a password (valid for 14 days)."""
    token = signing.dumps({"u": ticket.requester_id, "t": ticket.pk}, salt="ticket-access")
    return settings.SITE_URL + reverse("tickets:magic", args=[token])


def _customer_recipients(ticket: Ticket) -> list[str]:
    return [ticket.requester.email, *ticket.followers.values_list("email", flat=True)]


def _nothing() -> int:
    return 0


def new_ticket(ticket_id: int) -> int:
    """Tell the queue's agents (or, for a queue without any, all staff) about a new ticket."""
    return prepare_new_tickets([ticket_id])[ticket_id]()


def prepare_new_tickets(ticket_ids) -> dict:
    """`new_ticket` for many tickets at once: the tickets, each queue's agents and the first
    messages are read together (one query each, the agents one per queue), and only for
    tickets someone is told about. Returns {ticket id: a function that sends its mail}."""
    ids = list(dict.fromkeys(ticket_ids))
    tickets = Ticket.objects.select_related("requester", "queue").in_bulk(ids)
    agents: dict[int, list[str]] = {}
    for ticket in tickets.values():
        if ticket.queue_id not in agents:
            agents[ticket.queue_id] = list(
                notified_agents(ticket.queue).order_by("pk").values_list("email", flat=True)
            )
    told = [pk for pk, ticket in tickets.items() if agents[ticket.queue_id]]
    firsts = {}
    if told:
        first_ids = (
            Message.objects.filter(ticket_id__in=told)
            .order_by()
            .values("ticket_id")
            .annotate(first=Min("id"))
            .values("first")
        )
        firsts = {
            m.ticket_id: m
            for m in Message.objects.select_related("author").filter(pk__in=first_ids)
        }

    def sender(ticket):
        def send() -> int:
            return _send(
                ticket=ticket,
                to=agents[ticket.queue_id],
                subject=_("New in %(queue)s: %(subject)s")
                % {"queue": ticket.queue.name, "subject": ticket.subject},
                template="agent_new_ticket",
                context={"message": firsts.get(ticket.pk), "url": ticket_url(ticket)},
            )

        return send

    return {pk: sender(tickets[pk]) if pk in told else _nothing for pk in ids}


def anonymous_ticket_link(ticket_id: int) -> int:
    ticket = Ticket.objects.select_related("requester", "queue").filter(pk=ticket_id).first()
    if ticket is None:
        return 0
    return _send(
        ticket=ticket,
        to=[ticket.requester.email],
        subject=_("We received your request: %(subject)s") % {"subject": ticket.subject},
        template="customer_ticket_link",
        context={"link": magic_link(ticket)},
    )


def acknowledgement(ticket_id: int) -> int:
    """Sent for tickets that arrived by email (never for auto-replies: those make no ticket)."""
    ticket = Ticket.objects.select_related("requester", "queue").filter(pk=ticket_id).first()
    if ticket is None:
        return 0
    return _send(
        ticket=ticket,
        to=[ticket.requester.email],
        subject=f"Re: {ticket.subject}",
        template="customer_acknowledgement",
        context={"link": magic_link(ticket), "url": ticket_url(ticket)},
    )


def customer_reply_from_staff(message_id: int) -> int:
    message = (
        Message.objects.select_related("ticket__requester", "ticket__queue", "author")
        .filter(pk=message_id, is_internal=False, is_from_staff=True)
        .first()
    )
    if message is None:  # notes are never mailed
        return 0
    ticket = message.ticket
    return _send(
        ticket=ticket,
        to=_customer_recipients(ticket),
        subject=f"Re: {ticket.subject}",
        template="customer_reply",
        context={"message": message, "url": ticket_url(ticket)},
        message_id=message.message_id,
        auto=False,
    )


def assignee_customer_replied(message_id: int) -> int:
    return prepare_assignee_replies([message_id])[message_id]()


def prepare_assignee_replies(message_ids) -> dict:
    """`assignee_customer_replied` for many customer messages, read with one query (an
    unassigned ticket tells nobody). Returns {message id: a function that sends its mail}."""
    ids = list(dict.fromkeys(message_ids))
    messages = (
        Message.objects.select_related("ticket__assignee", "ticket__queue", "author")
        .filter(is_from_staff=False)
        .in_bulk(ids)
    )

    def sender(message):
        ticket = message.ticket
        if ticket.assignee is None:
            return _nothing

        def send() -> int:
            return _send(
                ticket=ticket,
                to=[ticket.assignee.email],
                subject=_("%(author)s replied: %(subject)s")
                % {"author": message.author, "subject": ticket.subject},
                template="agent_customer_reply",
                context={"message": message, "url": ticket_url(ticket)},
            )

        return send

    return {pk: sender(messages[pk]) if pk in messages else _nothing for pk in ids}


def customer_ticket_solved(ticket_id: int) -> int:
    ticket = (
        Ticket.objects.select_related("requester", "queue")
        .filter(pk=ticket_id, status="solved")
        .first()
    )
    if ticket is None:
        return 0
    return _send(
        ticket=ticket,
        to=_customer_recipients(ticket),
        subject=_("Solved: %(subject)s") % {"subject": ticket.subject},
        template="customer_solved",
        context={"url": ticket_url(ticket)},
    )


def ticket_id_for_task(task_name: str, args: tuple) -> int | None:
    """Which ticket a failed notification task was about (for the 'mail failed' event)."""
    if not args:
        return None
    if task_name.endswith(("customer_of_reply", "assignee_of_customer_reply")):
        return Message.objects.filter(pk=args[0]).values_list("ticket_id", flat=True).first()
    return args[0]
