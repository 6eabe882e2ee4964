"""Inbound email: store first, then turn the stored message into a ticket or a reply.

Guarantees:
* `store_inbound` writes the raw bytes to storage and an InboundEmail row before anything else;
  the same Message-ID (or, without one, the same bytes) is stored once.
* `process_inbound` runs in one transaction and is safe to run any number of times: a row that
  is no longer RECEIVED is left alone, and a worker killed half-way rolls back to RECEIVED.
* Auto-replies and bounces never create tickets or acknowledgements; a sender over the hourly
  limit is ignored, so two robots cannot mail each other forever.
* A `[#123]` subject token alone is trusted only from a participant (requester, follower) of
  ticket 123; anything else is held for an agent, so guessing a number cannot write into a
  stranger's ticket.
* Mail from a staff address joins a ticket (as a public reply or `#note`) only when it threads
  by In-Reply-To/References or the signed reply address and carries no DMARC failure; a forged
  `From: agent@…` with a subject token is held like any stranger's mail.
"""

import email.parser
import email.policy
import hashlib
import hmac
import logging
import re
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk import search as search_index
from helpdesk.celery import TransientError
from helpdesk.models import User
from helpdesk.services import (
    ServiceError,
    accounts_for,
    create_customer,
    get_or_create_customer,
)
from tickets.models import (
    Attachment,
    Channel,
    InboundEmail,
    Mailbox,
    MailReference,
    Message,
    Queue,
    Ticket,
    TicketEvent,
)

log = logging.getLogger(__name__)

SUBJECT_TOKEN = re.compile(r"\[#(\d{1,12})\]")
PLUS_TOKEN = re.compile(r"\+t(\d{1,12})\.([0-9a-f]{12})@", re.IGNORECASE)
NOTE_MARKER = re.compile(r"\A\s*#note\b[ \t]*\n?", re.IGNORECASE)
DMARC_FAIL = re.compile(r"\bdmarc\s*=\s*fail\b", re.IGNORECASE)
MAX_SENDER_MESSAGES_PER_HOUR = 30


# Addresses ----------------------------------------------------------------------------------


def _split_address(address: str) -> tuple[str, str]:
    local, _, domain = address.rpartition("@")
    return local, domain


def _signature(ticket_id: int) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"reply-to:{ticket_id}".encode(), hashlib.sha256
    ).hexdigest()[:12]


def queue_address(queue: Queue | None) -> str:
    if queue is not None and queue.email_address:
        return queue.email_address
    from email.utils import parseaddr

    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "support@localhost"


def reply_address(ticket: Ticket) -> str:
    """support+t123.<signature>@example.com: a reply to it joins ticket 123, and only it."""
    local, domain = _split_address(queue_address(ticket.queue))
    return f"{local}+t{ticket.pk}.{_signature(ticket.pk)}@{domain}"


def _own_addresses() -> set[str]:
    own = {queue_address(None).lower()}
    own.update(
        a.lower()
        for a in Queue.objects.exclude(email_address="").values_list("email_address", flat=True)
    )
    return own


def _ticket_from_reply_address(recipients) -> Ticket | None:
    for address in recipients:
        match = PLUS_TOKEN.search(address)
        if match and hmac.compare_digest(match.group(2).lower(), _signature(int(match.group(1)))):
            return Ticket.objects.filter(pk=int(match.group(1))).first()
    return None


# Storing -----------------------------------------------------------------------------------


def _normalise_message_id(value: str | None) -> str:
    value = (value or "").strip()
    match = re.search(r"<[^<>\s]+>", value)
    if match:
        return match.group(0)[:255]
    return f"<{value}>"[:255] if value and " " not in value else ""


def _header_peek(raw: bytes) -> dict:
    """Read only the headers we need to store the message; the full parse happens later."""
    try:
        headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
        return {
            "message_id": _normalise_message_id(str(headers.get("Message-ID", "") or "")),
            "from": str(headers.get("From", "") or "")[:255],
            "subject": str(headers.get("Subject", "") or "")[:255],
        }
    except Exception:  # noqa: BLE001 - a broken header must not stop us storing the bytes
        return {"message_id": "", "from": "", "subject": ""}


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def check_inbound_size(size: int) -> None:
    """Raise ServiceError (code "too_large") for a message over INBOUND_MAX_BYTES, so sources
    can refuse it before downloading or reading it."""
    limit = settings.INBOUND_MAX_BYTES
    if size > limit:
        raise ServiceError(
            _("The message is %(size)s; the limit is %(limit)s (INBOUND_MAX_BYTES).")
            % {"size": _megabytes(size), "limit": _megabytes(limit)},
            "too_large",
        )


def store_inbound(
    *,
    raw: bytes,
    source: str,
    queue: Queue | None = None,
    mailbox=None,
    queue_processing: bool = True,
) -> tuple[InboundEmail, bool]:
    """Store a raw message and queue its processing. Returns (row, created).

    A mailbox poll that stores many messages passes `queue_processing=False` and queues them
    in batches itself (`queue_batch_processing`); the row is stored either way.

    Raises ServiceError for a message that cannot be stored (code "empty" or "too_large"):
    a mailbox source then calls `record_rejected_inbound` and carries on with the next one."""
    if not raw or not raw.strip():
        raise ServiceError(_("The message is empty."), "empty")
    check_inbound_size(len(raw))
    peek = _header_peek(raw)
    digest = hashlib.sha256(raw).hexdigest()
    key = f"mid:{peek['message_id']}" if peek["message_id"] else f"sha:{digest}"
    existing = InboundEmail.objects.filter(dedupe_key=key).first()
    if existing:
        return existing, False
    if queue is None and mailbox is not None:
        queue = mailbox.queue
    path = default_storage.save(f"inbound/{timezone.now():%Y/%m}/{digest}.eml", ContentFile(raw))
    try:
        with transaction.atomic():
            row = InboundEmail.objects.create(
                dedupe_key=key,
                header_message_id=peek["message_id"],
                source=source,
                mailbox=mailbox,
                queue=queue,
                raw=path,
                size=len(raw),
                from_address=_address_of(peek["from"]),
                subject=_decode(peek["subject"])[:255],
            )
            if queue_processing:
                from tickets import tasks

                transaction.on_commit(lambda: tasks.process_inbound_email.delay(row.pk))
    except IntegrityError:
        default_storage.delete(path)
        return InboundEmail.objects.get(dedupe_key=key), False
    return row, True


def _rejected_key(*, source: str, key: str, queue, mailbox) -> str:
    owner = f"m{mailbox.pk}" if mailbox is not None else f"q{queue.pk if queue else ''}"
    return "rejected:" + hashlib.sha256(f"{source}:{owner}:{key}".encode()).hexdigest()


def is_rejected_inbound(*, source: str, key: str, queue: Queue | None = None, mailbox=None) -> bool:
    """Whether `record_rejected_inbound` already recorded this message (for sources like POP3
    that cannot flag a message on the server)."""
    return InboundEmail.objects.filter(
        dedupe_key=_rejected_key(source=source, key=key, queue=queue, mailbox=mailbox)
    ).exists()


def record_rejected_inbound(
    *,
    source: str,
    key: str,
    reason: str,
    head: bytes = b"",
    size: int = 0,
    queue: Queue | None = None,
    mailbox=None,
) -> tuple[InboundEmail, bool]:
    """Record a mailbox message that `store_inbound` refused (too large, empty): a FAILED row
    with the reason and whatever the headers in `head` tell, but no stored bytes. The message
    stays where it is (the source marks or moves it so it is not fetched again); admins see
    the row. `key` names the message within its source (a file name, a UID), so recording the
    same message twice gives one row. Returns (row, created)."""
    peek = _header_peek(head) if head else {"message_id": "", "from": "", "subject": ""}
    dedupe_key = _rejected_key(source=source, key=key, queue=queue, mailbox=mailbox)
    if queue is None and mailbox is not None:
        queue = mailbox.queue
    with transaction.atomic():
        return InboundEmail.objects.get_or_create(
            dedupe_key=dedupe_key,
            defaults={
                "header_message_id": peek["message_id"],
                "source": source,
                "mailbox": mailbox,
                "queue": queue,
                "raw": "",
                "size": size,
                "from_address": _address_of(peek["from"]),
                "subject": _decode(peek["subject"])[:255],
                "status": InboundEmail.Status.FAILED,
                "reason": f"Not stored: {reason}"[:2000],
                "processed_at": timezone.now(),
            },
        )


def _address_of(header: str) -> str:
    from email.utils import parseaddr

    return parseaddr(header)[1].lower()[:255]


def _decode(value: str) -> str:
    from email.header import decode_header, make_header

    try:
        return str(make_header(decode_header(value)))
    except Exception:  # noqa: BLE001
        return value


# Processing --------------------------------------------------------------------------------


PROCESS_BATCH = 50  # stored messages per processing task and transaction


def queue_batch_processing(inbound_ids) -> None:
    """After the current transaction commits, queue processing for stored rows, one task per
    PROCESS_BATCH rows (a mailbox poll stores hundreds at a time)."""
    from tickets import tasks

    ids = list(inbound_ids)
    for start in range(0, len(ids), PROCESS_BATCH):
        chunk = ids[start : start + PROCESS_BATCH]
        transaction.on_commit(lambda chunk=chunk: tasks.process_inbound_batch.delay(chunk))


def process_inbound(inbound_id: int) -> InboundEmail | None:
    """Turn a stored message into a ticket or reply (or ignore/hold it). Idempotent.

    A failure is recorded on the row as FAILED, except a database that is busy for a moment
    (OperationalError: "database is locked", a deadlock, a serialization failure, a dropped
    connection): then everything rolls back, the row stays RECEIVED and TransientError tells
    the task to retry."""
    rows = _process_rows([inbound_id], skip_locked=False)
    return rows[0] if rows else None


def process_inbound_batch(inbound_ids) -> list[InboundEmail]:
    """`process_inbound` for many stored messages in one transaction (one commit, and the
    tickets' search entries and notifications handled together after it).

    Each message runs in a savepoint of its own: one that fails is marked FAILED with its
    reason and the others go on. A busy database rolls the whole batch back to RECEIVED
    (TransientError, retried), as does a worker killed half-way. Rows another worker has
    locked are skipped: that worker processes them."""
    return _process_rows(list(inbound_ids), skip_locked=True)


class _Batch:
    """What every message of a batch looks up the same way: our own addresses, the queues,
    the senders' accounts, how many messages each sender had processed in the last hour, and
    which of the batch's Message-IDs (its own and those it answers) are already known.
    Read once per batch; what a message adds is kept, unless its savepoint rolls back
    (`forget_failed()`)."""

    def __init__(self, rows):
        from tickets.mailparse import parse_message

        # Parsed before the lookups, so that one query answers for every message's ids. A
        # message that cannot be read or parsed fails on its turn, as it would alone.
        self.parsed: dict[int, tuple[bytes, object] | Exception] = {}
        for row in rows:
            try:
                raw = _read_raw(row)
                self.parsed[row.pk] = (raw, parse_message(raw))
            except Exception as error:  # noqa: BLE001 - recorded on the row on its turn
                self.parsed[row.pk] = error
        # What every message of the batch names: its own Message-ID, the ids it answers, and
        # the addresses that may need an account (senders and Cc'd addresses).
        own_ids, ref_ids = set(), set()
        senders = {r.from_address for r in rows if r.from_address}
        addresses = set(senders)
        for item in self.parsed.values():
            if isinstance(item, tuple):
                parsed = item[1]
                own_ids.add(_normalise_message_id(parsed.message_id))
                ref_ids.update(_normalise_message_id(i) for i in _referenced_ids(parsed))
                named = [parsed.from_address, *(parsed.cc or [])]
                addresses.update(a.strip().lower() for a in named if a)
        own_ids.discard("")
        addresses.discard("")
        self.stored_ids = set(
            Message.objects.filter(message_id__in=own_ids).values_list("message_id", flat=True)
        )
        # Message-ID -> (order, ticket): the newest reference wins, as it did per message.
        self.references: dict[str, tuple[int, Ticket]] = {}
        tickets: dict[int, Ticket] = {}
        for ref in MailReference.objects.filter(
            message_id__in=(own_ids | ref_ids) - {""}
        ).select_related("ticket"):
            ticket = tickets.setdefault(ref.ticket_id, ref.ticket)
            self.references[ref.message_id] = (ref.pk, ticket)
        self._order = max((o for o, _t in self.references.values()), default=0)
        self._new_refs: dict[str, MailReference] = {}
        self._undo: list = []
        self.users = accounts_for(addresses)
        self._checked_users = addresses
        self._new_users: dict[str, User] = {}
        self.hour_ago = timezone.now() - timedelta(hours=1)
        self._own = None
        self._default_queue = None
        self.mailboxes = Mailbox.objects.in_bulk({r.mailbox_id for r in rows if r.mailbox_id})
        queue_ids = {r.queue_id for r in rows} | {m.queue_id for m in self.mailboxes.values()}
        self.queues = Queue.objects.in_bulk([q for q in queue_ids if q])
        self.recent = dict.fromkeys(senders, 0)
        self.recent.update(
            InboundEmail.objects.filter(
                from_address__in=senders,
                received_at__gte=self.hour_ago,
                status=InboundEmail.Status.PROCESSED,
            )
            .values("from_address")
            .annotate(n=Count("id"))
            .values_list("from_address", "n")
        )

    @property
    def own(self) -> set[str]:
        if self._own is None:
            self._own = _own_addresses()
        return self._own

    def queue_for(self, row) -> Queue | None:
        mailbox = self.mailboxes.get(row.mailbox_id)
        queue_id = row.queue_id or (mailbox.queue_id if mailbox else None)
        if queue_id:
            return self.queues.get(queue_id) or Queue.objects.filter(pk=queue_id).first()
        if self._default_queue is None:
            self._default_queue = Queue.objects.order_by("order", "pk").first()
        return self._default_queue

    def recent_from(self, sender: str) -> int:
        if sender not in self.recent:
            self.recent[sender] = InboundEmail.objects.filter(
                from_address=sender,
                received_at__gte=self.hour_ago,
                status=InboundEmail.Status.PROCESSED,
            ).count()
        return self.recent[sender]

    def customer(self, address: str, name: str = "") -> User:
        """The account for an address, created without a password if new."""
        address = address.strip().lower()
        user = self.users.get(address) or self._new_users.get(address)
        if user is None:
            if address in self._checked_users:  # read with the batch: it has no account
                user, created = create_customer(email=address, name=name), True
            else:
                user, created = get_or_create_customer(email=address, name=name)
            (self._new_users if created else self.users)[address] = user
        return user

    def take(self, row) -> tuple[bytes, object]:
        """The raw bytes and parsed message of a row (raises what reading or parsing raised)."""
        item = self.parsed.pop(row.pk)
        if isinstance(item, Exception):
            raise item
        return item

    # Every message's own id and the ids it answers were read with the batch, so these
    # answer from memory.

    def message_stored(self, message_id: str) -> bool:
        """Whether a message with this Message-ID is already on a ticket."""
        return message_id in self.stored_ids

    def add_stored(self, message_id: str) -> None:
        if message_id not in self.stored_ids:
            self.stored_ids.add(message_id)
            self._undo.append(lambda: self.stored_ids.discard(message_id))

    def reference(self, message_ids: list[str]) -> Ticket | None:
        """The ticket of the newest known reference among `message_ids` (None if none)."""
        found = [self.references[i] for i in message_ids if i in self.references]
        return max(found, key=lambda f: f[0])[1] if found else None

    def add_reference(self, message_id: str, ticket: Ticket) -> None:
        """Remember that `message_id` belongs to `ticket` (a known id keeps its ticket); the
        rows are written together by `finish()`."""
        if message_id in self.references:
            return
        self._order += 1
        self.references[message_id] = (self._order, ticket)
        self._new_refs[message_id] = MailReference(message_id=message_id, ticket=ticket)

        def undo():
            self.references.pop(message_id, None)
            self._new_refs.pop(message_id, None)

        self._undo.append(undo)

    def finish(self, rows) -> None:
        """Write what the batch's messages left for the end: their references (one INSERT ...
        ON CONFLICT DO NOTHING) and every row's outcome (one UPDATE)."""
        if self._new_refs:
            MailReference.objects.bulk_create(self._new_refs.values(), ignore_conflicts=True)
        _write_outcomes(rows)

    def commit_message(self) -> None:
        """A message's savepoint was released: what it added stays."""
        self.users.update(self._new_users)
        self._new_users.clear()
        self._undo.clear()

    def forget_failed(self) -> None:
        """A message's savepoint rolled back: accounts, ids and references it added are gone."""
        self._new_users.clear()
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()

    def count_processed(self, row) -> None:
        if row.status == InboundEmail.Status.PROCESSED and row.received_at >= self.hour_ago:
            self.recent[row.from_address] = self.recent_from(row.from_address) + 1


def _process_rows(ids: list[int], *, skip_locked: bool) -> list[InboundEmail]:
    from tickets import tasks

    try:
        with transaction.atomic():
            # No joins here: Postgres cannot lock the nullable side of an outer join.
            rows = list(
                InboundEmail.objects.select_for_update(skip_locked=skip_locked)
                .filter(pk__in=ids)
                .order_by("pk")
            )
            todo = [row for row in rows if row.status == InboundEmail.Status.RECEIVED]
            if not todo:
                return rows
            batch = _Batch(todo)
            with search_index.indexed_together(), tasks.notifications_together():
                for row in todo:
                    _process_one(row, batch)
                batch.finish(todo)
    except OperationalError as error:
        log.warning("inbound email %s: database busy, will retry: %s", ids, error)
        raise TransientError(f"Database busy while processing inbound email: {error}") from error
    return rows


PROCESSED_FIELDS = [
    "attempts",
    "status",
    "reason",
    "ticket",
    "result_message",
    "processed_at",
    "from_address",
    "subject",
]


def _write_outcomes(rows) -> None:
    """Every row's PROCESSED_FIELDS as one executemany of a plain UPDATE (pipelined by
    psycopg, a loop in C on SQLite). QuerySet.bulk_update builds a CASE per field and row,
    which cost more than the rest of the batch's writes together."""
    fields = [InboundEmail._meta.get_field(name) for name in PROCESSED_FIELDS]
    quote = connection.ops.quote_name
    # Only model metadata is formatted in; every value is a parameter.
    sql = "UPDATE {} SET {} WHERE {} = %s".format(  # noqa: S608
        quote(InboundEmail._meta.db_table),
        ", ".join(f"{quote(f.column)} = %s" for f in fields),
        quote(InboundEmail._meta.pk.column),
    )
    params = [
        [f.get_db_prep_save(getattr(row, f.attname), connection) for f in fields] + [row.pk]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _process_one(row: InboundEmail, batch: _Batch) -> None:
    row.attempts += 1
    try:
        with transaction.atomic():
            _process(row, batch)
        batch.commit_message()
    except OperationalError:
        raise  # out of the outer transaction too: it may be unusable now
    except Exception as error:  # noqa: BLE001 - recorded on the row for admins to retry
        log.exception("inbound email %s failed", row.pk)
        row.status = InboundEmail.Status.FAILED
        row.reason = f"{error.__class__.__name__}: {error}"[:2000]
        row.ticket = row.result_message = None
        batch.forget_failed()
    row.processed_at = timezone.now()  # written with the batch's other rows (_Batch.finish)
    batch.count_processed(row)


def _read_raw(row: InboundEmail) -> bytes:
    with row.raw.open("rb") as handle:
        return handle.read()


def _finish(row, status, reason="", ticket=None, message=None):
    row.status = status
    row.reason = reason
    row.ticket = ticket
    row.result_message = message


def _process(row: InboundEmail, batch: _Batch) -> None:
    raw, parsed = batch.take(row)
    sender = (parsed.from_address or "").lower()
    row.from_address = sender[:255]
    row.subject = (parsed.subject or "")[:255]
    if getattr(parsed, "is_bounce", False):
        return _finish(row, InboundEmail.Status.IGNORED, "Bounce or delivery status notification.")
    if parsed.is_auto_reply:
        return _finish(
            row,
            InboundEmail.Status.IGNORED,
            "Automatic reply (out of office, auto-responder or list).",
        )
    if not sender or "@" not in sender:
        return _finish(row, InboundEmail.Status.FAILED, "The message has no usable sender address.")
    own = batch.own
    if (
        sender in own
        or _split_address(sender)[0].split("+")[0] + "@" + _split_address(sender)[1] in own
    ):
        return _finish(
            row, InboundEmail.Status.IGNORED, "Sent from one of our own addresses (mail loop)."
        )
    if batch.recent_from(sender) >= MAX_SENDER_MESSAGES_PER_HOUR:
        return _finish(
            row,
            InboundEmail.Status.IGNORED,
            f"More than {MAX_SENDER_MESSAGES_PER_HOUR} messages from this sender in an hour (loop protection).",
        )

    message_id = _normalise_message_id(parsed.message_id) or None
    if message_id and batch.message_stored(message_id):
        return _finish(row, InboundEmail.Status.IGNORED, "This message is already on a ticket.")

    ticket, how = _find_ticket(parsed, batch)
    author = batch.customer(sender, parsed.from_name or "")
    hold = _hold_reason(ticket, author, how, raw) if ticket is not None else ""
    if hold:
        _finish(row, InboundEmail.Status.HELD, hold, ticket=ticket)
        TicketEvent.objects.create(
            ticket=ticket,
            actor=None,
            kind=TicketEvent.Kind.MAIL_HELD,
            data={"inbound": row.pk, "from": sender},
        )
        return None
    if ticket is not None and ticket.merged_into_id:
        ticket = ticket.merged_into
    if ticket is not None:
        # Staff mail got here only by answering our mail (see _hold_reason).
        may_add_followers = author.is_agent or _is_participant(ticket, author)
        message = _reply_from_email(ticket, author, parsed, message_id)
        if message is not None:
            _remember_references(ticket, parsed, message_id, batch)
            if may_add_followers:
                _add_followers(ticket, author, parsed, own, customer=batch.customer)
            return _finish(row, InboundEmail.Status.PROCESSED, "", ticket=ticket, message=message)
    queue = batch.queue_for(row)
    if queue is None:
        return _finish(row, InboundEmail.Status.FAILED, "No queue exists to put the ticket in.")
    ticket, first = _ticket_from_email(queue, author, parsed, message_id, follow_up=ticket)
    _remember_references(ticket, parsed, message_id, batch)
    _add_followers(ticket, author, parsed, own, customer=batch.customer)
    if queue.send_acknowledgement:
        from tickets import tasks

        tasks.notify_on_commit(tasks.send_acknowledgement, ticket.pk)
    return _finish(row, InboundEmail.Status.PROCESSED, "", ticket=ticket, message=first)


def _referenced_ids(parsed) -> list[str]:
    return [
        i
        for i in ([parsed.in_reply_to] if parsed.in_reply_to else [])
        + list(parsed.references or [])
        if i
    ]


def _find_ticket(parsed, batch: _Batch) -> tuple[Ticket | None, str]:
    ids = [i for i in (_normalise_message_id(i) for i in _referenced_ids(parsed)) if i]
    if ids:
        ticket = batch.reference(ids)
        if ticket is not None:
            return ticket, "references"
    recipients = (
        list(parsed.to or [])
        + list(parsed.cc or [])
        + list(getattr(parsed, "delivered_to", []) or [])
    )
    ticket = _ticket_from_reply_address(recipients)
    if ticket:
        return ticket, "address"
    match = SUBJECT_TOKEN.search(parsed.subject or "")
    if match:
        ticket = Ticket.objects.filter(pk=int(match.group(1))).first()
        if ticket:
            return ticket, "token"
    return None, ""


def _author_for(address: str, name: str) -> User:
    user, _created = get_or_create_customer(email=address, name=name or "")
    return user


def _is_participant(ticket: Ticket, user: User) -> bool:
    """The requester or a follower. Staff are not participants by address alone: anyone can
    write an agent's address into From."""
    return ticket.requester_id == user.pk or ticket.followers.filter(pk=user.pk).exists()


def _dmarc_failed(raw: bytes) -> bool:
    """A receiving server (ours, or one on the way) recorded `dmarc=fail` for this message.
    A forger can add headers but cannot remove our server's, so any failing one counts."""
    try:
        headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
        values = [str(v) for v in headers.get_all("Authentication-Results") or []]
    except Exception:  # noqa: BLE001 - unreadable headers: no evidence either way
        return False
    return any(DMARC_FAIL.search(v) for v in values)


def _hold_reason(ticket: Ticket, author: User, how: str, raw: bytes) -> str:
    """Why a message that names `ticket` must wait for an agent, or "" to let it join.

    Mail from a staff address becomes a public reply mailed to the customer (or, with
    `#note`, an internal note), so it must prove it answers our mail: In-Reply-To/References
    or the signed reply address, and no DMARC failure. A subject token is a guessable number.
    """
    if author.is_agent:
        if _dmarc_failed(raw):
            return (
                f"Sent from a staff address to ticket #{ticket.pk}, but the receiving server "
                "recorded a DMARC failure: the From address may be forged."
            )
        if how == "token":
            return (
                f"Subject names ticket #{ticket.pk} and the sender is a staff address, but the "
                "mail answers none of the ticket's messages: staff replies by email must reply "
                "to a notification."
            )
        return ""
    if how == "token" and not _is_participant(ticket, author):
        return f"Subject names ticket #{ticket.pk}, but the sender is not one of its participants."
    return ""


def _body(parsed) -> str:
    """What the ticket shows: quotes and a trailing signature trimmed (the original keeps both)."""
    text = (parsed.shown_text or parsed.body_text or "").strip()
    return text or "(no text)"


def _reply_from_email(ticket, author, parsed, message_id) -> Message | None:
    from tickets.services.core import post_reply

    body = _body(parsed)
    internal = False
    if author.is_agent and NOTE_MARKER.match(body):
        internal = True
        body = NOTE_MARKER.sub("", body, count=1).strip() or "(no text)"
    try:
        message = post_reply(
            ticket=ticket,
            author=author,
            body=body,
            internal=internal,
            channel=Channel.EMAIL,
            message_id=message_id,
            plain_text=True,
        )
    except ServiceError:
        return None  # closed ticket: the caller opens a follow-up ticket instead
    _store_email_attachments(message, parsed)
    return message


def _ticket_from_email(queue, author, parsed, message_id, follow_up=None) -> tuple[Ticket, Message]:
    from tickets.services.core import create_ticket

    subject = SUBJECT_TOKEN.sub("", parsed.subject or "").strip() or "(no subject)"
    subject = (
        re.sub(r"^((re|aw|fwd?|wg)\s*:\s*)+", "", subject, flags=re.IGNORECASE).strip() or subject
    )
    body = _body(parsed)
    if follow_up is not None:
        body = f"Follow-up to closed ticket #{follow_up.pk}.\n\n{body}"
    ticket = create_ticket(
        requester=author,
        subject=subject[:200],
        body=body,
        queue=queue,
        channel=Channel.EMAIL,
        message_id=message_id,
        plain_text=True,
    )
    message = ticket.first_message  # set by create_ticket
    _store_email_attachments(message, parsed)
    return ticket, message


def _attachment_files(parsed):
    """The files to keep: a winmail.dat (TNEF) is replaced by the files unpacked from it,
    which agents can open; one we could not unpack stays as it came (the raw original is
    always kept as well)."""
    for part in parsed.attachments or []:
        extracted = getattr(part, "extracted", None) or []
        yield from extracted or [part]


def _store_email_attachments(message: Message, parsed) -> None:
    import secrets

    for part in _attachment_files(parsed):
        payload = getattr(part, "payload", b"") or b""
        if not payload or len(payload) > settings.UPLOAD_MAX_BYTES:
            continue
        name = (part.filename or "attachment").replace("/", "_").replace("\\", "_")[:200]
        att = Attachment(
            message=message,
            ticket_id=message.ticket_id,
            token=secrets.token_hex(20),
            filename=name,
            content_type=(part.content_type or "application/octet-stream")[:120],
            size=len(payload),
        )
        att.file.save(att.token, ContentFile(payload), save=False)
        att.save()


def _remember_references(ticket, parsed, message_id, batch: _Batch | None = None) -> None:
    """Remember the message's id for its ticket (the message carrying it is stored too)."""
    if not message_id:
        return
    if batch is not None:
        batch.add_reference(message_id, ticket)
        batch.add_stored(message_id)
        return
    # One statement (INSERT ... ON CONFLICT DO NOTHING): a known id keeps its ticket.
    MailReference.objects.bulk_create(
        [MailReference(message_id=message_id, ticket=ticket)], ignore_conflicts=True
    )


def _customer(address: str, name: str = "") -> User:
    return get_or_create_customer(email=address, name=name)[0]


def _add_followers(ticket, author, parsed, own, customer=_customer) -> None:
    """Cc'd addresses on a participant's mail follow the ticket (staff and our own addresses
    excepted); only the newly added ones are recorded."""
    added = []
    for address in list(parsed.cc or []):
        address = address.lower()
        if not address or address == author.email or address in own or PLUS_TOKEN.search(address):
            continue
        user = customer(address)
        if (
            user.is_agent
            or user.pk == ticket.requester_id
            or ticket.followers.filter(pk=user.pk).exists()
        ):
            continue
        ticket.followers.add(user)
        added.append(address)
    if added:
        TicketEvent.objects.create(
            ticket=ticket, actor=author, kind=TicketEvent.Kind.FOLLOWERS, data={"added": added}
        )


# Admin actions -----------------------------------------------------------------------------


def retry_inbound(*, row: InboundEmail, actor) -> InboundEmail:
    """Put a failed (or ignored) message back in line; the stored bytes are parsed again."""
    if not actor.is_agent:
        raise ServiceError(_("Only staff can retry messages."))
    if row.status == InboundEmail.Status.PROCESSED:
        raise ServiceError(_("This message is already processed."))
    if not row.raw:
        raise ServiceError(
            _("This message was refused before it was stored; there is nothing to retry.")
        )
    InboundEmail.objects.filter(pk=row.pk).update(status=InboundEmail.Status.RECEIVED, reason="")
    from tickets import tasks

    transaction.on_commit(lambda: tasks.process_inbound_email.delay(row.pk))
    row.refresh_from_db()
    return row


def accept_held_email(*, row: InboundEmail, actor, as_new_ticket: bool = False) -> InboundEmail:
    """An agent decides about a held message: add it to the ticket it named (the sender becomes
    a follower) or open a new ticket from it."""
    if not actor.is_agent:
        raise ServiceError(_("Only staff can accept held messages."))
    with transaction.atomic():
        row = InboundEmail.objects.select_for_update().get(pk=row.pk)
        if row.status != InboundEmail.Status.HELD:
            raise ServiceError(_("This message is not held."))
        from tickets.mailparse import parse_message

        parsed = parse_message(_read_raw(row))
        author = _author_for(parsed.from_address.lower(), parsed.from_name)
        message_id = _normalise_message_id(parsed.message_id) or None
        if as_new_ticket or row.ticket is None:
            queue = row.queue or Queue.objects.order_by("order", "pk").first()
            ticket, message = _ticket_from_email(queue, author, parsed, message_id)
        else:
            ticket = row.ticket
            if not author.is_agent:  # followers receive customer mail; staff have the queue
                ticket.followers.add(author)
            message = _reply_from_email(ticket, author, parsed, message_id)
            if message is None:
                raise ServiceError(_("The ticket is closed; open it as a new ticket instead."))
        _remember_references(ticket, parsed, message_id)
        _finish(
            row,
            InboundEmail.Status.PROCESSED,
            f"Accepted by {actor.display_name}.",
            ticket=ticket,
            message=message,
        )
        row.processed_at = timezone.now()
        row.save()
    return row


def ignore_held_email(*, row: InboundEmail, actor) -> InboundEmail:
    """An agent decides a held message belongs nowhere: it is kept (the raw mail stays
    stored), marked ignored with who decided, and nothing reaches the ticket it named."""
    if not actor.is_agent:
        raise ServiceError(_("Only staff can decide about held messages."))
    with transaction.atomic():
        row = InboundEmail.objects.select_for_update().get(pk=row.pk)
        if row.status != InboundEmail.Status.HELD:
            raise ServiceError(_("This message is not held."))
        row.status = InboundEmail.Status.IGNORED
        row.reason = f"Ignored by {actor.display_name}. Held because: {row.reason}"[:2000]
        row.processed_at = timezone.now()
        row.save(update_fields=["status", "reason", "processed_at"])
    return row
