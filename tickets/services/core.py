import mimetypes
import secrets
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk import markup
from helpdesk import search as search_index
from helpdesk.services import ServiceError
from tickets.models import (
    ACTIVE_STATUSES,
    Attachment,
    CannedReply,
    Channel,
    Message,
    Priority,
    Queue,
    Status,
    Tag,
    Ticket,
    TicketEvent,
    TimeEntry,
    customer_sees_change,
)

MAX_SUBJECT = 200
MAX_BODY = 100_000
MAX_TAGS = 20


def _event(ticket, actor, kind, **data) -> TicketEvent:
    # Every change is an event, and every change may alter what search shows for the ticket.
    search_index.schedule("ticket", ticket.pk)
    return TicketEvent.objects.create(ticket=ticket, actor=actor, kind=kind, data=data)


def _locked(ticket: Ticket) -> Ticket:
    """Re-read the ticket row under a lock, so concurrent changes queue up instead of racing."""
    return Ticket.objects.select_for_update().get(pk=ticket.pk)


def _require_agent(actor):
    if not actor.is_agent:
        raise ServiceError(_("Only support staff can do that."))


def new_message_id(ticket_id: int) -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(">").strip() or "frontline"
    return f"<ticket-{ticket_id}.{secrets.token_hex(8)}@{domain}>"


def validate_upload(upload) -> str:
    """Return the content type of an upload, or raise ServiceError with a readable reason."""
    if upload.size > settings.UPLOAD_MAX_BYTES:
        raise ServiceError(
            _("%(name)s is too large (the limit is %(mb)s MB).")
            % {"name": upload.name, "mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024)}
        )
    guessed = mimetypes.guess_type(upload.name)[0] or ""
    declared = (getattr(upload, "content_type", "") or "").split(";")[0].strip().lower()
    # Trust neither alone: both the name and the declared type must be allowed (when present).
    content_type = guessed or declared or "application/octet-stream"
    if guessed and guessed not in settings.UPLOAD_ALLOWED_TYPES:
        raise ServiceError(_("Files of type %(type)s are not accepted.") % {"type": guessed})
    if (
        declared
        and declared not in settings.UPLOAD_ALLOWED_TYPES
        and declared != "application/octet-stream"
    ):
        raise ServiceError(_("Files of type %(type)s are not accepted.") % {"type": declared})
    if content_type not in settings.UPLOAD_ALLOWED_TYPES:
        raise ServiceError(_("Files of type %(type)s are not accepted.") % {"type": content_type})
    return content_type


def _store_attachments(message: Message, uploads: Sequence) -> list[Attachment]:
    stored = []
    for upload in uploads:
        content_type = validate_upload(upload)
        name = (upload.name or "file").replace("/", "_").replace("\\", "_")[:200]
        att = Attachment(
            message=message,
            ticket_id=message.ticket_id,
            token=secrets.token_hex(20),
            filename=name,
            content_type=content_type,
            size=upload.size,
        )
        att.file.save(att.token, upload, save=False)
        att.save()
        stored.append(att)
    return stored


def _render(body: str, plain_text: bool) -> str:
    return markup.render_plain(body) if plain_text else markup.render(body)


def _clean_text(subject: str | None, body: str | None) -> tuple[str, str]:
    subject = " ".join((subject or "").split())
    body = (body or "").replace("\r\n", "\n")
    if not subject:
        raise ServiceError(_("Give the ticket a subject."))
    if len(subject) > MAX_SUBJECT:
        raise ServiceError(_("The subject is too long (200 characters at most)."))
    if not body.strip():
        raise ServiceError(_("Describe the problem in the message."))
    if len(body) > MAX_BODY:
        raise ServiceError(_("The message is too long."))
    return subject, body


def create_ticket(
    *,
    requester,
    subject: str,
    body: str,
    queue: Queue,
    actor=None,
    channel: str = Channel.WEB,
    priority: int = Priority.NORMAL,
    diagnostics: str = "",
    attachments: Sequence = (),
    tags: Iterable[str] = (),
    submission_key: str | None = None,
    message_id: str | None = None,
    plain_text: bool = False,
) -> Ticket:
    """Open a ticket with its first message. `actor` is the agent logging it for a customer.
    `plain_text` bodies (email) are shown as written, not read as Markdown.

    Idempotent by `submission_key` for the same requester: the key returns the ticket already
    created for them. A key that belongs to another requester's ticket is refused with a
    ServiceError that names nothing of that ticket.
    """
    actor = actor or requester
    if actor != requester:
        _require_agent(actor)
    subject, body = _clean_text(subject, body)
    if submission_key:
        existing = _submitted_with(submission_key, requester)
        if existing:
            return existing
    for upload in attachments:
        validate_upload(upload)
    now = timezone.now()
    try:
        # Inside a caller's transaction no savepoint of its own is needed (nothing below is
        # caught and carried on from), except to recover from a double submit's IntegrityError.
        with transaction.atomic(savepoint=bool(submission_key)):
            ticket = Ticket.objects.create(
                subject=subject,
                requester=requester,
                queue=queue,
                channel=channel,
                priority=priority,
                diagnostics=(diagnostics or "")[:MAX_BODY],
                created_at=now,
                updated_at=now,
                customer_updated_at=now,
                last_customer_activity_at=now,
                submission_key=submission_key or None,
                message_count=1,
            )
            message = Message.objects.create(
                ticket=ticket,
                author=requester,
                body=body,
                body_html=_render(body, plain_text),
                channel=channel,
                created_at=now,
                message_id=message_id,
            )
            _store_attachments(message, attachments)
            _event(ticket, actor, TicketEvent.Kind.CREATED, channel=channel)
            if tags:
                _apply_tags(ticket, actor, tags, replace=True)
            from tickets import tasks

            tasks.notify_on_commit(tasks.notify_new_ticket, ticket.pk)
        ticket.first_message = message  # callers that store more on it need not read it back
    except IntegrityError:
        if submission_key:
            existing = _submitted_with(submission_key, requester)
            if existing:
                return existing
        raise
    return ticket


def _submitted_with(submission_key: str, requester) -> Ticket | None:
    """The requester's ticket made from this form before (a double submit), if any.

    The key column is unique across all tickets, so another requester's key cannot make a new
    ticket either; returning their ticket would show it to the wrong person (redirect, ticket
    number in the flash), so it is refused.
    """
    existing = Ticket.objects.filter(submission_key=submission_key).first()
    if existing is not None and existing.requester_id != requester.pk:
        raise ServiceError(
            _("This form was already sent. Reload the page to send a new request."),
            "conflict",
        )
    return existing


def post_reply(
    *,
    ticket: Ticket,
    author,
    body: str,
    internal: bool = False,
    attachments: Sequence = (),
    time_spent: int = 0,
    new_status: str | None = None,
    channel: str = Channel.WEB,
    message_id: str | None = None,
    seen_message_id: int | None = None,
    confirmed: bool = False,
    plain_text: bool = False,
    canned_ids: Sequence[int] = (),
) -> Message:
    """Add a public reply or an internal note and keep the ticket's state in step.
    `plain_text` bodies (email) are shown as written, not read as Markdown.
    `canned_ids`: canned replies the agent inserted into this message; each counts one use
    when it is sent (inserting one and throwing the draft away counts nothing).

    Staff: the first public reply sets first_response_at; the status moves to `new_status`
    (pending, waiting on the customer, by default). Customers: a reply reopens the ticket.
    Internal notes change no status and are never mailed to the customer.
    If `seen_message_id` is given and someone else replied after it, nothing is saved and
    ServiceError is raised with code "collision", so the agent can read it first (unless
    `confirmed`: they read it and send anyway). With `seen_message_id`, the same author's
    identical message already saved after it is a double submit: it is returned, and nothing
    is saved, changed or mailed again.
    """
    body = (body or "").replace("\r\n", "\n")
    if not body.strip():
        raise ServiceError(_("Write a message first."))
    if len(body) > MAX_BODY:
        raise ServiceError(_("The message is too long."))
    is_staff = author.is_agent
    if internal and not is_staff:
        raise ServiceError(_("Only support staff can add internal notes."))
    if time_spent and not is_staff:
        raise ServiceError(_("Only support staff can log time."))
    if time_spent < 0 or time_spent > 24 * 60:
        raise ServiceError(_("Time spent must be between 0 and 1440 minutes."))
    if new_status and (not is_staff or new_status not in Status.values):
        raise ServiceError(_("That status cannot be set here."))
    for upload in attachments:
        validate_upload(upload)
    now = timezone.now()
    with transaction.atomic():
        ticket = _locked(ticket)
        if seen_message_id is not None:
            # A double click posts the form twice with the same last-seen id; under the row
            # lock the second post finds the first one's message.
            repeat = (
                Message.objects.filter(
                    ticket=ticket,
                    id__gt=seen_message_id,
                    author=author,
                    is_internal=internal,
                    body=body,
                )
                .order_by("id")
                .first()
            )
            if repeat is not None:
                return repeat
        if ticket.merged_into_id:
            raise ServiceError(
                _("This ticket was merged into #%(n)s.") % {"n": ticket.merged_into_id}
            )
        if ticket.status == Status.CLOSED and not is_staff:
            raise ServiceError(_("This ticket is closed. Please open a new ticket."))
        if seen_message_id is not None and not confirmed:
            newer = Message.objects.filter(ticket=ticket, id__gt=seen_message_id).exclude(
                author=author
            )
            if not is_staff:
                # A customer never sees notes; one must not block (or reveal itself to) them.
                newer = newer.filter(is_internal=False)
            if newer.exists():
                raise ServiceError(_("Someone else replied while you were writing."), "collision")
        message = Message.objects.create(
            ticket=ticket,
            author=author,
            body=body,
            body_html=_render(body, plain_text),
            is_internal=internal,
            is_from_staff=is_staff,
            channel=channel,
            created_at=now,
            message_id=message_id
            or (new_message_id(ticket.pk) if is_staff and not internal else None),
            time_spent_minutes=time_spent,
        )
        _store_attachments(message, attachments)
        fields = {"updated_at": now, "message_count": ticket.message_count + 1}
        old_status = ticket.status
        if is_staff:
            fields["last_agent_activity_at"] = now
            if not internal:
                if ticket.first_response_at is None:
                    fields["first_response_at"] = now
                target = new_status or Status.PENDING
            else:
                target = new_status or old_status
        else:
            fields["last_customer_activity_at"] = now
            target = Status.OPEN if old_status != Status.NEW else Status.NEW
        if target != old_status:
            fields.update(_status_fields(ticket, target, now))
        if not internal or customer_sees_change(old_status, target):
            fields["customer_updated_at"] = now
        if canned_ids and is_staff:
            CannedReply.objects.filter(pk__in=set(canned_ids)).update(
                use_count=F("use_count") + 1, last_used_at=now
            )
        if time_spent:
            fields["time_spent_minutes"] = ticket.time_spent_minutes + time_spent
            TimeEntry.objects.create(
                ticket=ticket, agent=author, minutes=time_spent, created_at=now
            )
        for name, value in fields.items():
            setattr(ticket, name, value)
        ticket.save(update_fields=list(fields))
        _event(
            ticket,
            author,
            TicketEvent.Kind.NOTED if internal else TicketEvent.Kind.REPLIED,
            message=message.pk,
        )
        if target != old_status:
            _event(ticket, author, TicketEvent.Kind.STATUS, old=old_status, new=target)
        if time_spent:
            _event(ticket, author, TicketEvent.Kind.TIME, minutes=time_spent)
        from tickets import tasks

        if is_staff and not internal:
            tasks.notify_on_commit(tasks.notify_customer_of_reply, message.pk)
        elif not is_staff:
            tasks.notify_on_commit(tasks.notify_assignee_of_customer_reply, message.pk)
    return message


def _status_fields(ticket: Ticket, status: str, now) -> dict:
    fields = {"status": status}
    if status == Status.SOLVED:
        fields["solved_at"] = now
    elif status == Status.CLOSED:
        fields["closed_at"] = now
        if ticket.solved_at is None:
            fields["solved_at"] = now
    elif status in ACTIVE_STATUSES and ticket.status in (Status.SOLVED, Status.CLOSED):
        # Reopened: the resolution clock restarts; the statistics see the reopen event.
        fields["solved_at"] = None
        fields["closed_at"] = None
    return fields


def change_status(*, ticket: Ticket, actor, status: str, expected: str | None = None) -> Ticket:
    """Set the status. Customers may only mark their ticket solved (or reopen a solved one).

    `expected` is the status the actor saw; if it changed meanwhile nothing is written.
    """
    if status not in Status.values:
        raise ServiceError(_("Unknown status."))
    if not actor.is_agent:
        if ticket.requester_id != actor.pk:
            raise ServiceError(_("That ticket is not yours."))
        if status not in (Status.SOLVED, Status.OPEN):
            raise ServiceError(_("You can mark a ticket solved or reopen it."))
    now = timezone.now()
    with transaction.atomic():
        ticket = _locked(ticket)
        if expected and ticket.status != expected:
            raise ServiceError(
                _("Someone changed the status to “%(s)s” meanwhile; nothing was changed.")
                % {"s": ticket.get_status_display()},
                "conflict",
            )
        if ticket.status == status:
            return ticket
        if ticket.status == Status.CLOSED and not actor.is_agent:
            raise ServiceError(_("This ticket is closed. Please open a new ticket."))
        if not actor.is_agent and status == Status.OPEN and ticket.status != Status.SOLVED:
            raise ServiceError(_("Only a solved ticket can be reopened."))
        old = ticket.status
        fields = _status_fields(ticket, status, now)
        fields["updated_at"] = now
        if customer_sees_change(old, status):
            fields["customer_updated_at"] = now
        for name, value in fields.items():
            setattr(ticket, name, value)
        ticket.save(update_fields=list(fields))
        _event(ticket, actor, TicketEvent.Kind.STATUS, old=old, new=status)
        if status == Status.SOLVED and actor.is_agent:
            from tickets import tasks

            tasks.notify_on_commit(tasks.notify_customer_solved, ticket.pk)
    return ticket


def change_priority(*, ticket: Ticket, actor, priority: int) -> Ticket:
    _require_agent(actor)
    if int(priority) not in Priority.values:
        raise ServiceError(_("Unknown priority."))
    with transaction.atomic():
        ticket = _locked(ticket)
        if ticket.priority == int(priority):
            return ticket
        old = ticket.priority
        ticket.priority = int(priority)
        ticket.updated_at = timezone.now()
        ticket.save(update_fields=["priority", "updated_at"])
        _event(ticket, actor, TicketEvent.Kind.PRIORITY, old=old, new=ticket.priority)
    return ticket


def assign_ticket(*, ticket: Ticket, actor, assignee) -> Ticket:
    """Assign to an agent, or unassign with None. A new ticket that gets an owner is open."""
    _require_agent(actor)
    if assignee is not None and not assignee.is_agent:
        raise ServiceError(_("Tickets can only be assigned to support staff."))
    with transaction.atomic():
        ticket = _locked(ticket)
        if ticket.assignee_id == (assignee.pk if assignee else None):
            return ticket
        old = ticket.assignee_id
        now = timezone.now()
        ticket.assignee = assignee
        ticket.updated_at = now
        fields = ["assignee", "updated_at"]
        if assignee is not None and ticket.status == Status.NEW:
            ticket.status = Status.OPEN
            fields.append("status")
            _event(ticket, actor, TicketEvent.Kind.STATUS, old=Status.NEW, new=Status.OPEN)
        ticket.save(update_fields=fields)
        _event(
            ticket,
            actor,
            TicketEvent.Kind.ASSIGNED,
            old=old,
            new=assignee.pk if assignee else None,
            name=assignee.display_name if assignee else "",
        )
    return ticket


def claim_ticket(*, ticket: Ticket, actor) -> Ticket:
    """Assign to me."""
    return assign_ticket(ticket=ticket, actor=actor, assignee=actor)


def change_queue(*, ticket: Ticket, actor, queue: Queue) -> Ticket:
    _require_agent(actor)
    with transaction.atomic():
        ticket = _locked(ticket)
        if ticket.queue_id == queue.pk:
            return ticket
        old = ticket.queue_id
        ticket.queue = queue
        ticket.updated_at = timezone.now()
        ticket.save(update_fields=["queue", "updated_at"])
        _event(ticket, actor, TicketEvent.Kind.QUEUE, old=old, new=queue.pk, name=queue.name)
    return ticket


def _normalise_tags(names: Iterable[str]) -> list[str]:
    out = []
    for name in names:
        tag = "-".join(str(name).strip().lower().split())[:50]
        if tag and tag not in out:
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise ServiceError(_("A ticket can have at most 20 tags."))
    return out


def _apply_tags(ticket, actor, names, *, replace):
    wanted = _normalise_tags(names)
    current = set(ticket.tags.values_list("name", flat=True))
    target = set(wanted) if replace else current | set(wanted)
    if target == current:
        return False
    if len(target) > MAX_TAGS:
        raise ServiceError(_("A ticket can have at most 20 tags."))
    existing = {t.name: t for t in Tag.objects.filter(name__in=target)}
    for name in target - existing.keys():
        existing[name], _created = Tag.objects.get_or_create(name=name)
    ticket.tags.set([existing[n] for n in target])
    _event(
        ticket,
        actor,
        TicketEvent.Kind.TAGS,
        added=sorted(target - current),
        removed=sorted(current - target),
    )
    return True


def set_tags(*, ticket: Ticket, actor, tags: Iterable[str]) -> Ticket:
    _require_agent(actor)
    with transaction.atomic():
        ticket = _locked(ticket)
        if _apply_tags(ticket, actor, tags, replace=True):
            ticket.updated_at = timezone.now()
            ticket.save(update_fields=["updated_at"])
    return ticket


def add_tag(*, ticket: Ticket, actor, tag: str) -> Ticket:
    _require_agent(actor)
    with transaction.atomic():
        ticket = _locked(ticket)
        if _apply_tags(ticket, actor, [tag], replace=False):
            ticket.updated_at = timezone.now()
            ticket.save(update_fields=["updated_at"])
    return ticket


PROPERTIES = ("status", "priority", "assignee", "queue", "tags")


def _property_key(field: str, value):
    """A side-panel value in a form that compares equal however it was given."""
    if value is None or field in ("assignee", "queue"):
        return getattr(value, "pk", value)
    if field == "priority":
        return int(value)
    if field == "tags":
        names = value.split(",") if isinstance(value, str) else value
        return frozenset(_normalise_tags(names))
    return str(value)


def _conflict_message(field: str, ticket: Ticket) -> str:
    if field == "status":
        text = _("Someone changed the status to “%(v)s” meanwhile; nothing was changed.")
        value = ticket.get_status_display()
    elif field == "priority":
        text = _("Someone changed the priority to “%(v)s” meanwhile; nothing was changed.")
        value = ticket.get_priority_display()
    elif field == "assignee":
        if ticket.assignee is None:
            return _("Someone unassigned this ticket meanwhile; nothing was changed.")
        text = _("Someone assigned this ticket to %(v)s meanwhile; nothing was changed.")
        value = ticket.assignee.display_name
    elif field == "queue":
        text = _("Someone moved this ticket to %(v)s meanwhile; nothing was changed.")
        value = ticket.queue.name
    else:
        names = ", ".join(sorted(ticket.tags.values_list("name", flat=True)))
        text = _("Someone changed the tags to “%(v)s” meanwhile; nothing was changed.")
        value = names or _("none")
    return text % {"v": value}


def update_properties(*, ticket: Ticket, actor, values: dict, seen: dict | None = None) -> Ticket:
    """Apply the side panel's fields (status, priority, assignee, queue, tags), all or nothing.

    `values` holds the values asked for (assignee a staff user or None, queue a Queue, tags a
    list or a comma-separated string); `seen` holds, per field, what the agent's page showed.
    A field asked for exactly as the page showed it is left alone: the panel may post fields
    the agent did not touch, from a page that is out of date, and writing them back would undo
    another agent's change. A field the agent did change must still be as they saw it (or
    already be what they ask for); if not, nothing at all is written and ServiceError with code
    "conflict" says what it is now. A field without a `seen` value is applied as given.
    """
    _require_agent(actor)
    seen = seen or {}
    if set(values) - set(PROPERTIES):
        raise ServiceError(_("Unknown ticket field."))
    changed = [
        f
        for f in PROPERTIES
        if f in values
        and (f not in seen or _property_key(f, values[f]) != _property_key(f, seen[f]))
    ]
    if not changed:
        return ticket
    with transaction.atomic():
        ticket = _locked(ticket)
        for field in changed:
            if field not in seen:
                continue
            if field == "tags":
                now = frozenset(ticket.tags.values_list("name", flat=True))
            else:
                now = _property_key(field, getattr(ticket, field))
            if now not in (_property_key(field, seen[field]), _property_key(field, values[field])):
                raise ServiceError(_conflict_message(field, ticket), "conflict")
        for field in changed:
            value = values[field]
            if field == "status":
                ticket = change_status(ticket=ticket, actor=actor, status=value)
            elif field == "priority":
                ticket = change_priority(ticket=ticket, actor=actor, priority=value)
            elif field == "assignee":
                ticket = assign_ticket(ticket=ticket, actor=actor, assignee=value)
            elif field == "queue":
                ticket = change_queue(ticket=ticket, actor=actor, queue=value)
            else:
                names = value.split(",") if isinstance(value, str) else value
                ticket = set_tags(ticket=ticket, actor=actor, tags=names)
    return ticket


def log_time(*, ticket: Ticket, agent, minutes: int, note: str = "") -> TimeEntry:
    _require_agent(agent)
    if not 0 < minutes <= 24 * 60:
        raise ServiceError(_("Time spent must be between 1 and 1440 minutes."))
    with transaction.atomic():
        ticket = _locked(ticket)
        entry = TimeEntry.objects.create(
            ticket=ticket, agent=agent, minutes=minutes, note=note[:200]
        )
        Ticket.objects.filter(pk=ticket.pk).update(
            time_spent_minutes=F("time_spent_minutes") + minutes
        )
        _event(ticket, agent, TicketEvent.Kind.TIME, minutes=minutes, note=note[:200])
    return entry


def merge_tickets(*, source: Ticket, target: Ticket, actor) -> Ticket:
    """Move every message of `source` into `target` and close `source` pointing at it."""
    _require_agent(actor)
    if source.pk == target.pk:
        raise ServiceError(_("A ticket cannot be merged into itself."))
    if source.requester_id != target.requester_id:
        # The target's requester would read the other customer's messages.
        raise ServiceError(_("Only tickets from the same customer can be merged."))
    with transaction.atomic():
        first, second = sorted([source.pk, target.pk])
        locked = {
            t.pk: t for t in Ticket.objects.select_for_update().filter(pk__in=[first, second])
        }
        source, target = locked[source.pk], locked[target.pk]
        if source.merged_into_id or target.merged_into_id:
            raise ServiceError(_("One of these tickets was already merged."))
        moved = Message.objects.filter(ticket=source).update(ticket=target)
        Attachment.objects.filter(ticket=source).update(ticket=target)
        TimeEntry.objects.filter(ticket=source).update(ticket=target)
        now = timezone.now()
        note = _("Merged from #%(n)s: %(s)s") % {"n": source.pk, "s": source.subject}
        Message.objects.create(
            ticket=target,
            author=actor,
            body=note,
            body_html=markup.render(note),
            is_internal=True,
            is_from_staff=True,
            created_at=now,
        )
        target.message_count = Message.objects.filter(ticket=target).count()
        target.time_spent_minutes += source.time_spent_minutes
        target.updated_at = target.customer_updated_at = now
        target.save(
            update_fields=[
                "message_count",
                "time_spent_minutes",
                "updated_at",
                "customer_updated_at",
            ]
        )
        target.tags.add(*source.tags.all())
        source.merged_into = target
        old = source.status
        source.status = Status.CLOSED
        source.closed_at = now
        source.message_count = 0
        source.time_spent_minutes = 0
        source.updated_at = source.customer_updated_at = now
        source.save(
            update_fields=[
                "merged_into",
                "status",
                "closed_at",
                "message_count",
                "time_spent_minutes",
                "updated_at",
                "customer_updated_at",
            ]
        )
        _event(source, actor, TicketEvent.Kind.MERGED, into=target.pk)
        _event(source, actor, TicketEvent.Kind.STATUS, old=old, new=Status.CLOSED)
        _event(target, actor, TicketEvent.Kind.MERGED, source=source.pk, messages=moved)
    return target


def auto_close_solved_tickets(*, now=None, days: int | None = None) -> int:
    """Close tickets solved more than `days` ago. Safe to run twice; returns how many closed."""
    now = now or timezone.now()
    days = settings.TICKET_AUTO_CLOSE_DAYS if days is None else days
    cutoff = now - timezone.timedelta(days=days)
    closed = 0
    ids = list(
        Ticket.objects.filter(status=Status.SOLVED, solved_at__lt=cutoff).values_list(
            "pk", flat=True
        )[:5000]
    )
    for pk in ids:
        with transaction.atomic():
            updated = Ticket.objects.filter(pk=pk, status=Status.SOLVED).update(
                status=Status.CLOSED, closed_at=now, updated_at=now, customer_updated_at=now
            )
            if updated:
                TicketEvent.objects.create(
                    ticket_id=pk,
                    actor=None,
                    kind=TicketEvent.Kind.STATUS,
                    data={"old": Status.SOLVED, "new": Status.CLOSED, "auto": True},
                )
                closed += 1
    return closed


BULK_ACTIONS = {"assign", "status", "tag", "close"}


def bulk_update(*, actor, tickets: Sequence[Ticket], action: str, value=None) -> int:
    """Apply one action to many tickets, each through the single-ticket service."""
    _require_agent(actor)
    if action not in BULK_ACTIONS:
        raise ServiceError(_("Unknown bulk action."))
    count = 0
    with transaction.atomic():
        for ticket in tickets:
            if action == "assign":
                assign_ticket(ticket=ticket, actor=actor, assignee=value)
            elif action == "status":
                change_status(ticket=ticket, actor=actor, status=value)
            elif action == "close":
                change_status(ticket=ticket, actor=actor, status=Status.CLOSED)
            elif action == "tag":
                add_tag(ticket=ticket, actor=actor, tag=value)
            count += 1
    return count


def fill_canned_reply(*, canned: CannedReply, ticket: Ticket, agent) -> str:
    """A canned reply's text with its placeholders filled for this ticket. Changes nothing:
    the use is counted when the reply holding it is sent (post_reply's `canned_ids`)."""
    _require_agent(agent)
    from tickets.canned import fill_placeholders

    return fill_placeholders(canned, ticket=ticket, agent=agent)


def review_canned_reply(*, canned: CannedReply, actor) -> CannedReply:
    """Record that an agent checked a canned reply is still right: clears the stale flag."""
    _require_agent(actor)
    canned.last_reviewed_at = timezone.now()
    canned.needs_review = False
    canned.save(update_fields=["last_reviewed_at", "needs_review"])
    return canned
