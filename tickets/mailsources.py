"""Fetch raw messages from mailboxes. Each source stores a message (services.email.store_inbound)
before it marks, moves or deletes it on the server, so nothing is lost if we crash half-way."""

import contextlib
import imaplib
import logging
import os
import poplib
import ssl
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from helpdesk.celery import TransientError
from tickets.models import Mailbox, Queue
from tickets.services.email import store_inbound

log = logging.getLogger(__name__)
BATCH = 200


def poll_maildir(path: str | os.PathLike, *, queue: Queue | None = None, mailbox=None) -> int:
    """Store every message in <path>/new (and stray ones in cur/), then move each into cur/
    with the Maildir "seen" flag. Returns how many new rows were stored."""
    root = Path(path)
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    stored = 0
    for entry in sorted((root / "new").iterdir())[: BATCH * 10]:
        if not entry.is_file() or entry.name.startswith("."):
            continue
        raw = entry.read_bytes()
        if not raw.strip():
            continue
        _row, created = store_inbound(raw=raw, source="maildir", queue=queue, mailbox=mailbox)
        stored += int(created)
        entry.rename(root / "cur" / (entry.name.split(":")[0] + ":2,S"))
    return stored


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
    return conn


def poll_imap(box: Mailbox) -> int:
    try:
        conn = _imap_connect(box)
    except (OSError, imaplib.IMAP4.abort) as error:
        raise TransientError(f"IMAP connection failed: {error}") from error
    stored = 0
    try:
        typ, _ = conn.select(box.folder or "INBOX")
        if typ != "OK":
            raise RuntimeError(f"cannot open folder {box.folder!r}")
        typ, data = conn.uid("SEARCH", None, "UNSEEN")
        uids = (data[0] or b"").split()[:BATCH]
        for uid in uids:
            # BODY.PEEK leaves \\Seen alone until the message is safely stored.
            typ, parts = conn.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((p[1] for p in parts if isinstance(p, tuple)), None)
            if typ != "OK" or raw is None:
                continue
            _row, created = store_inbound(raw=raw, source="imap", mailbox=box)
            stored += int(created)
            if box.after_fetch == Mailbox.AfterFetch.MOVE and box.move_to:
                conn.uid("COPY", uid, box.move_to)
                conn.uid("STORE", uid, "+FLAGS", "(\\Deleted \\Seen)")
            elif box.after_fetch == Mailbox.AfterFetch.DELETE:
                conn.uid("STORE", uid, "+FLAGS", "(\\Deleted \\Seen)")
            else:
                conn.uid("STORE", uid, "+FLAGS", "(\\Seen)")
        if box.after_fetch in (Mailbox.AfterFetch.MOVE, Mailbox.AfterFetch.DELETE):
            conn.expunge()
    finally:
        with contextlib.suppress(Exception):  # the server may already have hung up
            conn.logout()
    return stored


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
    stored = 0
    try:
        count, _size = conn.stat()
        for number in range(1, min(count, BATCH) + 1):
            _resp, lines, _octets = conn.retr(number)
            raw = b"\r\n".join(lines) + b"\r\n"
            _row, created = store_inbound(raw=raw, source="pop3", mailbox=box)
            stored += int(created)
            conn.dele(number)  # only after the message is stored
    finally:
        conn.quit()  # deletions take effect here
    return stored


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
