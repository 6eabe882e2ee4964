"""Email with real parts: Dovecot (IMAP and POP3), an SMTP server and Celery worker processes."""

import imaplib
import signal

import pytest

from tests.email.conftest import wait_for
from tests.email.helpers import build_mail
from tickets.mailsources import poll_mailbox, poll_maildir
from tickets.models import InboundEmail, Mailbox, Message, Queue, Ticket
from tickets.tasks import poll_mailbox as poll_mailbox_task

pytestmark = pytest.mark.worker


@pytest.fixture
def queue_with_imap(transactional_db, dovecot):
    queue = Queue.objects.create(
        name="Support",
        slug="support",
        email_address="support@frontline.localhost",
        send_acknowledgement=False,
    )
    box = Mailbox.objects.create(
        name="Support inbox",
        queue=queue,
        kind=Mailbox.Kind.IMAP,
        host="127.0.0.1",
        port=dovecot.imap_port,
        security=Mailbox.Security.NONE,
        username=dovecot.user,
        password=dovecot.password,
        folder="INBOX",
    )
    return queue, box


def _unseen(dovecot) -> list[bytes]:
    conn = dovecot.imap()
    try:
        conn.select("INBOX")
        return conn.uid("SEARCH", None, "UNSEEN")[1][0].split()
    finally:
        conn.logout()


def test_imap_messages_become_tickets_through_a_real_worker(queue_with_imap, dovecot, start_worker):
    _queue, box = queue_with_imap
    dovecot.append(build_mail(subject="First", message_id="<imap-1@example.com>"))
    dovecot.append(
        build_mail(
            subject="Re: First",
            message_id="<imap-2@example.com>",
            in_reply_to="<imap-1@example.com>",
        )
    )
    dovecot.append(build_mail(subject="Out of office", headers={"Auto-Submitted": "auto-replied"}))
    worker = start_worker()
    poll_mailbox_task.delay(box.pk)
    try:
        wait_for(
            lambda: InboundEmail.objects.exclude(status="received").count() == 3,
            timeout=90,
            message="three processed messages",
        )
    except AssertionError:
        worker.stop()
        raise AssertionError(worker.output()) from None
    assert Ticket.objects.count() == 1
    ticket = Ticket.objects.get()
    assert ticket.messages.count() == 2
    assert InboundEmail.objects.filter(status="ignored").count() == 1
    assert _unseen(dovecot) == []  # marked seen once stored
    # A second poll adds nothing.
    poll_mailbox_task.delay(box.pk)
    wait_for(
        lambda: Mailbox.objects.get(pk=box.pk).last_polled_at is not None,
        timeout=30,
        message="second poll",
    )
    assert InboundEmail.objects.count() == 3
    assert Ticket.objects.count() == 1


def test_imap_move_after_fetch(queue_with_imap, dovecot):
    _queue, box = queue_with_imap
    conn = dovecot.imap()
    conn.create("Processed")
    conn.logout()
    box.after_fetch, box.move_to = Mailbox.AfterFetch.MOVE, "Processed"
    box.save()
    dovecot.append(build_mail(subject="Move me"))
    from helpdesk.celery import app

    app.conf.task_always_eager = True
    assert poll_mailbox(box) == 1
    conn = dovecot.imap()
    assert conn.select("INBOX")[1] == [b"0"]
    assert conn.select("Processed")[1] == [b"1"]
    conn.logout()


def test_imap_wrong_password_is_recorded_on_the_mailbox(queue_with_imap):
    _queue, box = queue_with_imap
    box.password = "wrong"
    box.save()
    with pytest.raises(imaplib.IMAP4.error):
        poll_mailbox(box)
    box.refresh_from_db()
    assert "AUTHENTICATIONFAILED" in box.last_error or "Authentication" in box.last_error


def test_pop3_deletes_only_after_storing(queue_with_imap, dovecot):
    queue, _box = queue_with_imap
    pop = Mailbox.objects.create(
        name="POP",
        queue=queue,
        kind=Mailbox.Kind.POP3,
        host="127.0.0.1",
        port=dovecot.pop3_port,
        security=Mailbox.Security.NONE,
        username=dovecot.user,
        password=dovecot.password,
    )
    dovecot.append(build_mail(subject="By POP3"))
    from helpdesk.celery import app

    app.conf.task_always_eager = True
    assert poll_mailbox(pop) == 1
    assert Ticket.objects.get().subject == "By POP3"
    import poplib

    conn = poplib.POP3("127.0.0.1", dovecot.pop3_port)
    conn.user(dovecot.user)
    conn.pass_(dovecot.password)
    assert conn.stat()[0] == 0
    conn.quit()


def test_outbound_reply_reaches_a_real_smtp_server_with_threading_headers(
    transactional_db, smtp_server, agent
):
    from helpdesk.celery import app
    from tickets import services
    from tickets.services.email import store_inbound

    app.conf.task_always_eager = True
    queue = Queue.objects.create(
        name="Support", slug="support", email_address="support@frontline.localhost"
    )
    row, _ = store_inbound(
        raw=build_mail(message_id="<smtp-1@example.com>", subject="Where is my order?"),
        source="pipe",
        queue=queue,
    )
    ticket = InboundEmail.objects.get(pk=row.pk).ticket
    reply = services.post_reply(ticket=ticket, author=agent, body="It ships *today*.")
    received = smtp_server.parsed()
    to_customer = [m for m in received if "carla@example.com" in m["To"]]
    ack, answer = to_customer
    assert ack["Auto-Submitted"] == "auto-generated"
    assert answer["Message-ID"] == reply.message_id
    assert answer["In-Reply-To"] in (ack["Message-ID"], "<smtp-1@example.com>")
    assert "<smtp-1@example.com>" in answer["References"]
    assert answer["Subject"] == f"[#{ticket.pk}] Re: Where is my order?"
    assert answer["Reply-To"].startswith("support+t")
    assert answer.get_body(("plain",)).get_content().startswith("It ships *today*.")
    assert "<em>today</em>" in answer.get_body(("html",)).get_content()
    # The customer's reply to that mail threads back onto the ticket.
    store_inbound(
        raw=build_mail(in_reply_to=answer["Message-ID"], subject="Re: thanks", body="Thanks!"),
        source="pipe",
        queue=queue,
    )
    assert Message.objects.filter(ticket=ticket, body__startswith="Thanks!").exists()


def test_worker_killed_mid_processing_loses_nothing_and_duplicates_nothing(
    transactional_db, tmp_path, start_worker
):
    from tickets.services.email import PROCESS_BATCH

    queue = Queue.objects.create(name="Support", slug="support", send_acknowledgement=False)
    # Several batches, so the kill lands while the worker is inside one (a batch commits whole).
    count = PROCESS_BATCH * 6
    (tmp_path / "new").mkdir()
    for i in range(count):
        (tmp_path / "new" / f"{i:03}.eml").write_bytes(
            build_mail(sender=f"user{i}@example.com", subject=f"Crash test {i}")
        )
    from helpdesk.celery import app

    app.conf.task_always_eager = False
    assert poll_maildir(tmp_path, queue=queue) == count  # stored; tasks queued
    worker = start_worker()
    wait_for(
        lambda: InboundEmail.objects.filter(status="processed").count() >= PROCESS_BATCH,
        timeout=90,
        message="a first batch processed",
    )
    worker.proc.send_signal(signal.SIGKILL)
    worker.proc.wait(timeout=20)
    assert InboundEmail.objects.filter(status="processed").count() < count, "killed too late"
    # A new worker picks up what is left; the sweeper re-queues rows whose task was lost.
    start_worker()
    from tickets.tasks import requeue_stuck_inbound

    requeue_stuck_inbound.delay(0)
    wait_for(
        lambda: InboundEmail.objects.filter(status="processed").count() == count,
        timeout=120,
        message="all processed",
    )
    assert Ticket.objects.count() == count
    assert Message.objects.count() == count
    assert sorted(Ticket.objects.values_list("requester__email", flat=True)) == sorted(
        f"user{i}@example.com" for i in range(count)
    )


def _big_mail(subject):
    return build_mail(subject=subject, attachments=[("scan.tiff", "image/tiff", b"\x00" * 8000)])


def test_imap_oversized_message_is_recorded_seen_and_the_poll_goes_on(
    queue_with_imap, dovecot, settings
):
    _queue, box = queue_with_imap
    settings.INBOUND_MAX_BYTES = 4000
    dovecot.append(_big_mail("Too big for us"))
    dovecot.append(build_mail(subject="Fits"))
    assert poll_mailbox(box) == 1
    assert Ticket.objects.get().subject == "Fits"
    big = InboundEmail.objects.get(status="failed")
    assert big.subject == "Too big for us" and "limit is" in big.reason
    assert _unseen(dovecot) == []  # not fetched again
    assert poll_mailbox(box) == 0
    assert InboundEmail.objects.count() == 2
    box.refresh_from_db()
    assert box.last_error == ""


def test_pop3_oversized_message_stays_on_the_server_and_is_skipped(
    queue_with_imap, dovecot, settings
):
    import poplib

    queue, _box = queue_with_imap
    pop = Mailbox.objects.create(
        name="POP",
        queue=queue,
        kind=Mailbox.Kind.POP3,
        host="127.0.0.1",
        port=dovecot.pop3_port,
        security=Mailbox.Security.NONE,
        username=dovecot.user,
        password=dovecot.password,
    )
    settings.INBOUND_MAX_BYTES = 4000
    dovecot.append(_big_mail("Too big by POP3"))
    dovecot.append(build_mail(subject="Fits by POP3"))
    assert poll_mailbox(pop) == 1
    assert poll_mailbox(pop) == 0
    assert Ticket.objects.get().subject == "Fits by POP3"
    assert list(InboundEmail.objects.values_list("subject", "status").order_by("pk")) == [
        ("Too big by POP3", "failed"),
        ("Fits by POP3", "processed"),
    ]
    conn = poplib.POP3("127.0.0.1", dovecot.pop3_port)
    conn.user(dovecot.user)
    conn.pass_(dovecot.password)
    assert conn.stat()[0] == 1  # refused, so not deleted
    conn.quit()


def _imap_count(dovecot, folder):
    conn = dovecot.imap()
    try:
        return int(conn.select(folder)[1][0])
    finally:
        conn.logout()


def _append_deleted_by_a_person(dovecot):
    """A message someone flagged \\Deleted in their mail client but did not expunge."""
    conn = dovecot.imap()
    try:
        typ, _ = conn.append(
            "INBOX", "(\\Seen \\Deleted)", None, build_mail(subject="Deleted by a person")
        )
        assert typ == "OK"
    finally:
        conn.logout()


@pytest.fixture
def without_move(monkeypatch):
    """An IMAP server without RFC 6851 MOVE (UID COPY + UID EXPUNGE instead)."""
    from tickets import mailsources

    connect = mailsources._imap_connect

    def connect_without_move(box):
        conn = connect(box)
        conn.capabilities = tuple(c for c in conn.capabilities if c != "MOVE")
        return conn

    monkeypatch.setattr(mailsources, "_imap_connect", connect_without_move)


@pytest.mark.parametrize("has_move", [True, False], ids=["uid-move", "uid-copy-expunge"])
def test_imap_move_leaves_messages_a_person_deleted(queue_with_imap, dovecot, request, has_move):
    if not has_move:
        request.getfixturevalue("without_move")
    _queue, box = queue_with_imap
    conn = dovecot.imap()
    conn.create("Processed")
    conn.logout()
    box.after_fetch, box.move_to = Mailbox.AfterFetch.MOVE, "Processed"
    box.save()
    _append_deleted_by_a_person(dovecot)
    dovecot.append(build_mail(subject="Move me"))
    if has_move:  # Dovecot announces MOVE once logged in
        from tickets.mailsources import _imap_connect

        probe = _imap_connect(box)
        assert {"MOVE", "UIDPLUS"} <= set(probe.capabilities)
        probe.logout()
    assert poll_mailbox(box) == 1
    assert _imap_count(dovecot, "Processed") == 1
    assert _imap_count(dovecot, "INBOX") == 1  # the person's deleted message is still there


def test_imap_delete_leaves_messages_a_person_deleted(queue_with_imap, dovecot):
    _queue, box = queue_with_imap
    box.after_fetch = Mailbox.AfterFetch.DELETE
    box.save()
    _append_deleted_by_a_person(dovecot)
    dovecot.append(build_mail(subject="Delete me"))
    assert poll_mailbox(box) == 1
    assert _imap_count(dovecot, "INBOX") == 1
    assert Ticket.objects.get().subject == "Delete me"


@pytest.mark.parametrize("has_move", [True, False], ids=["uid-move", "uid-copy-expunge"])
def test_imap_failed_move_keeps_the_message_and_reports_it(
    queue_with_imap, dovecot, request, has_move
):
    if not has_move:
        request.getfixturevalue("without_move")
    _queue, box = queue_with_imap
    box.after_fetch, box.move_to = Mailbox.AfterFetch.MOVE, "No Such Folder"
    box.save()
    dovecot.append(build_mail(subject="Cannot move me"))
    with pytest.raises(RuntimeError, match="No Such Folder"):
        poll_mailbox(box)
    assert Ticket.objects.get().subject == "Cannot move me"  # stored all the same
    assert _imap_count(dovecot, "INBOX") == 1  # not deleted
    assert _unseen(dovecot) == []  # and not fetched again on every poll
    box.refresh_from_db()
    assert "could not be moved" in box.last_error
