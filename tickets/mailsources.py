"""Fetch raw messages from mailboxes. Each source stores a message (services.email.store_inbound)
before it marks, moves or deletes it on the server, so nothing is lost if we crash half-way."""

import contextlib
import imaplib
import logging
import os
import poplib
import re
import ssl
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from helpdesk.celery import TransientError
from helpdesk.services import ServiceError
from tickets.models import Mailbox, Queue
from tickets.services.email import (
    PROCESS_BATCH,
    check_inbound_size,
    is_rejected_inbound,
    queue_batch_processing,
    record_rejected_inbound,
    store_inbound,
)

log = logging.getLogger(__name__)
BATCH = 200
HEAD_BYTES = 64 * 1024  # enough for the headers of a refused message, for its row
REJECTED_FOLDER = ".Rejected"  # a Maildir++ subfolder: mail clients show it as a folder
IMAP_UID = re.compile(rb"\bUID (\d+)")
IMAP_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")


class _ProcessingQueue:
    """Stored rows of one poll, queued for processing PROCESS_BATCH at a time: the worker
    starts on the first batch while the poll goes on, and one task handles many messages.
    `close()` queues the rest (call it in a finally: stored rows must not wait for the
    sweeper)."""

    def __init__(self):
        self.ids: list[int] = []

    def add(self, row, created: bool) -> None:
        if created:
            self.ids.append(row.pk)
        if len(self.ids) >= PROCESS_BATCH:
            self.close()

    def close(self) -> None:
        queue_batch_processing(self.ids)
        self.ids = []


def poll_maildir(path: str | os.PathLike, *, queue: Queue | None = None, mailbox=None) -> int:
    """Store every message in <path>/new, then move each into cur/ with the Maildir "seen"
    flag. A message that cannot be stored (too large, empty) is recorded as a failed row and
    moved to the `.Rejected` Maildir++ folder, so it neither stops the poll nor comes back.
    Returns how many new rows were stored."""
    root = Path(path)
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    stored = 0
    processing = _ProcessingQueue()
    try:
        for entry in sorted((root / "new").iterdir())[: BATCH * 10]:
            if not entry.is_file() or entry.name.startswith("."):
                continue
            base = entry.name.split(":")[0]
            try:
                # Check the size before reading: the file may be far larger than we store.
                check_inbound_size(entry.stat().st_size)
                row, created = store_inbound(
                    raw=entry.read_bytes(),
                    source="maildir",
                    queue=queue,
                    mailbox=mailbox,
                    queue_processing=False,
                )
            except ServiceError as error:
                _reject_maildir_file(root, entry, error, queue=queue, mailbox=mailbox)
                continue
            stored += int(created)
            processing.add(row, created)
            entry.rename(root / "cur" / (base + ":2,S"))
    finally:
        processing.close()
    return stored


def _reject_maildir_file(root: Path, entry: Path, error: ServiceError, *, queue, mailbox):
    with entry.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    record_rejected_inbound(
        source="maildir",
        key=entry.name.split(":")[0],
        reason=f"{error} The file was moved to {REJECTED_FOLDER}/new in the Maildir.",
        head=head,
        size=entry.stat().st_size,
        queue=queue,
        mailbox=mailbox,
    )
    target = root / REJECTED_FOLDER
    for sub in ("new", "cur", "tmp"):
        (target / sub).mkdir(parents=True, exist_ok=True)
    entry.rename(target / "new" / entry.name.split(":")[0])
    log.warning("maildir %s: rejected %s: %s", root, entry.name, error)


def _imap_connect(box: Mailbox):
    port = box.port or (993 if box.security == Mailbox.Security.SSL else 143)
    if box.security == Mailbox.Security.SSL:
        conn = imaplib.IMAP4_SSL(
            box.host, port, ssl_context=ssl.create_default_context(), timeout=30
        )
    else:
        conn = imaplib.IMAP4(box.host, port, timeout=30)
        if box.security == Mailbox.Security.STARTTLS:
            conn.starttls(ssl_context=ssl.create_default_context())
    conn.login(box.username, box.password)
    # Servers announce more after login (Dovecot: MOVE, UIDPLUS); imaplib keeps the greeting's.
    typ, data = conn.capability()
    if typ == "OK" and data and data[-1]:
        conn.capabilities = tuple(data[-1].decode(errors="replace").upper().split())
    return conn


def _imap_fetch(conn, uid: bytes, item: str) -> bytes | None:
    typ, parts = conn.uid("FETCH", uid, f"({item})")
    if typ != "OK":
        return None
    return next((p[1] for p in parts or [] if isinstance(p, tuple)), None)


def _imap_sizes(conn, uids: list[bytes]) -> dict[bytes, int]:
    """RFC822.SIZE of each message, in one round trip, so a huge one is never downloaded."""
    if not uids:
        return {}
    typ, data = conn.uid("FETCH", b",".join(uids), "(RFC822.SIZE)")
    sizes = {}
    for item in (data or []) if typ == "OK" else []:
        line = item[0] if isinstance(item, tuple) else item
        uid, size = IMAP_UID.search(line or b""), IMAP_SIZE.search(line or b"")
        if uid and size:
            sizes[uid.group(1)] = int(size.group(1))
    return sizes


def poll_imap(box: Mailbox) -> int:
    try:
        conn = _imap_connect(box)
    except (OSError, imaplib.IMAP4.abort) as error:
        raise TransientError(f"IMAP connection failed: {error}") from error
    stored = 0
    processing = _ProcessingQueue()
    try:
        typ, _ = conn.select(box.folder or "INBOX")
        if typ != "OK":
            raise RuntimeError(f"cannot open folder {box.folder!r}")
        validity = (conn.response("UIDVALIDITY")[1] or [b""])[0] or b""
        typ, data = conn.uid("SEARCH", None, "UNSEEN")
        uids = (data[0] or b"").split()[:BATCH]
        sizes = _imap_sizes(conn, uids)
        problems: list[str] = []
        for uid in uids:
            raw = None
            try:
                check_inbound_size(sizes.get(uid, 0))
                # BODY.PEEK leaves \Seen alone until the message is safely stored.
                raw = _imap_fetch(conn, uid, "BODY.PEEK[]")
                if raw is None:
                    continue
                row, created = store_inbound(
                    raw=raw, source="imap", mailbox=box, queue_processing=False
                )
            except ServiceError as error:
                head = raw[:HEAD_BYTES] if raw else _imap_fetch(conn, uid, "BODY.PEEK[HEADER]")
                record_rejected_inbound(
                    source="imap",
                    key=f"{box.folder}:{validity.decode(errors='replace')}:{uid.decode()}",
                    reason=f"{error} It was left in the folder, marked seen.",
                    head=head or b"",
                    size=sizes.get(uid, len(raw or b"")),
                    mailbox=box,
                )
                # Seen, so the UNSEEN search does not return it on every poll.
                conn.uid("STORE", uid, "+FLAGS", "(\\Seen)")
                continue
            stored += int(created)
            processing.add(row, created)
            problem = _imap_after_fetch(conn, box, uid)
            if problem:
                problems.append(problem)
    finally:
        processing.close()
        with contextlib.suppress(Exception):  # the server may already have hung up
            conn.logout()
    if problems:
        # Every message is stored; say so on the mailbox (last_error) rather than succeed.
        raise RuntimeError(
            f"Stored {stored} new message(s), but {len(problems)} could not be moved or "
            f"deleted and were left in the folder, marked seen: {problems[0]}"
        )
    return stored


def _imap_quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _imap_after_fetch(conn, box: Mailbox, uid: bytes) -> str:
    """Mark, move or delete one stored message. Returns "" or what went wrong.

    Only our own message is ever expunged: UID MOVE where the server has it (RFC 6851, e.g.
    Dovecot), else UID COPY, and only when the copy succeeded \\Deleted and UID EXPUNGE
    (UIDPLUS). A plain EXPUNGE would also remove messages a person flagged \\Deleted; without
    UIDPLUS ours stay flagged until a client expunges the folder."""
    capabilities = set(conn.capabilities)
    if box.after_fetch == Mailbox.AfterFetch.MOVE and box.move_to:
        target = _imap_quote(box.move_to)
        if "MOVE" in capabilities:
            typ, data = conn.uid("MOVE", uid, target)
            if typ == "OK":
                return ""
        else:
            typ, data = conn.uid("COPY", uid, target)
            if typ == "OK":
                return _imap_delete(conn, uid, capabilities)
        conn.uid("STORE", uid, "+FLAGS", "(\\Seen)")  # stored: do not fetch it every poll
        detail = b" ".join(d for d in data or [] if isinstance(d, bytes)).decode(errors="replace")
        return f"moving to {box.move_to!r} failed: {typ} {detail}".strip()
    if box.after_fetch == Mailbox.AfterFetch.DELETE:
        return _imap_delete(conn, uid, capabilities)
    conn.uid("STORE", uid, "+FLAGS", "(\\Seen)")
    return ""


def _imap_delete(conn, uid: bytes, capabilities: set) -> str:
    typ, data = conn.uid("STORE", uid, "+FLAGS", "(\\Deleted \\Seen)")
    if typ != "OK":
        return f"flagging as deleted failed: {typ} {data!r}"
    if "UIDPLUS" in capabilities:
        typ, data = conn.uid("EXPUNGE", uid)
        if typ != "OK":
            return f"UID EXPUNGE failed: {typ} {data!r}"
    return ""


def _pop3_numbers(conn, command) -> dict[int, bytes]:
    """`LIST` or `UIDL` as {message number: value}; {} when the server refuses."""
    try:
        _resp, lines, _octets = command()
    except poplib.error_proto:
        return {}
    out = {}
    for line in lines:
        number, _, value = line.partition(b" ")
        if number.isdigit():
            out[int(number)] = value.strip()
    return out


def poll_pop3(box: Mailbox) -> int:
    port = box.port or (995 if box.security == Mailbox.Security.SSL else 110)
    try:
        if box.security == Mailbox.Security.SSL:
            conn = poplib.POP3_SSL(box.host, port, context=ssl.create_default_context(), timeout=30)
        else:
            conn = poplib.POP3(box.host, port, timeout=30)
            if box.security == Mailbox.Security.STARTTLS:
                conn.stls(context=ssl.create_default_context())
        conn.user(box.username)
        conn.pass_(box.password)
    except (OSError, poplib.error_proto) as error:
        raise TransientError(f"POP3 connection failed: {error}") from error
    stored = handled = 0
    processing = _ProcessingQueue()
    try:
        count, _size = conn.stat()
        sizes = {n: int(v) for n, v in _pop3_numbers(conn, conn.list).items() if v.isdigit()}
        uidls = _pop3_numbers(conn, conn.uidl)
        for number in range(1, count + 1):
            # POP3 cannot flag a message: one we refused stays on the server (nothing is
            # deleted unless stored) and is skipped by its UIDL from then on. Without UIDL
            # the message number stands in, which holds as long as only we delete.
            key = (uidls.get(number) or f"#{number}".encode()).decode(errors="replace")
            if is_rejected_inbound(source="pop3", key=key, mailbox=box):
                continue
            if handled >= BATCH:
                break
            handled += 1
            raw = None
            try:
                check_inbound_size(sizes.get(number, 0))
                _resp, lines, _octets = conn.retr(number)
                raw = b"\r\n".join(lines) + b"\r\n"
                row, created = store_inbound(
                    raw=raw, source="pop3", mailbox=box, queue_processing=False
                )
            except ServiceError as error:
                record_rejected_inbound(
                    source="pop3",
                    key=key,
                    reason=f"{error} It was left on the server.",
                    head=raw[:HEAD_BYTES] if raw else _pop3_head(conn, number),
                    size=sizes.get(number, len(raw or b"")),
                    mailbox=box,
                )
                continue
            stored += int(created)
            processing.add(row, created)
            conn.dele(number)  # only after the message is stored
    finally:
        processing.close()
        conn.quit()  # deletions take effect here
    return stored


def _pop3_head(conn, number: int) -> bytes:
    try:
        _resp, lines, _octets = conn.top(number, 0)
    except poplib.error_proto:
        return b""
    return b"\r\n".join(lines) + b"\r\n"


def poll_mailbox(box: Mailbox) -> int:
    try:
        if box.kind == Mailbox.Kind.IMAP:
            stored = poll_imap(box)
        elif box.kind == Mailbox.Kind.POP3:
            stored = poll_pop3(box)
        else:
            stored = poll_maildir(box.path, mailbox=box)
    except Exception as error:
        Mailbox.objects.filter(pk=box.pk).update(
            last_error=f"{error.__class__.__name__}: {error}"[:2000], last_polled_at=timezone.now()
        )
        raise
    Mailbox.objects.filter(pk=box.pk).update(last_error="", last_polled_at=timezone.now())
    return stored


def poll_embedded_inbox() -> int:
    """The embedded default: var/inbox is a Maildir feeding the first queue."""
    if not settings.INBOUND_MAILDIR:
        return 0
    return poll_maildir(
        settings.INBOUND_MAILDIR, queue=Queue.objects.order_by("order", "pk").first()
    )
