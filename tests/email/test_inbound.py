"""Inbound email through the services (tasks run inline here; see test_real_parts.py for the
real worker, IMAP server and SMTP server)."""

import io
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from helpdesk.models import Role, User
from tests.email.helpers import build_mail
from tickets import services
from tickets.mailsources import poll_maildir
from tickets.models import InboundEmail, MailReference, Message, Ticket, TicketEvent
from tickets.services.email import process_inbound, reply_address, retry_inbound, store_inbound

ROOT = Path(__file__).resolve().parents[2]
_capture = None


@pytest.fixture(autouse=True)
def _on_commit_runs(django_capture_on_commit_callbacks):
    """Processing is queued with transaction.on_commit; run it inside the test transaction."""
    global _capture
    _capture = django_capture_on_commit_callbacks
    yield


def ingest(raw, queue=None):
    with _capture(execute=True):
        row, _created = store_inbound(raw=raw, source="pipe", queue=queue)
    row.refresh_from_db()
    return row


def run_on_commit(func, *args, **kwargs):
    with _capture(execute=True):
        return func(*args, **kwargs)


def test_new_mail_becomes_ticket_with_customer_and_acknowledgement(support_queue, mailoutbox):
    row = ingest(build_mail(subject="Printer on fire", body="Flames everywhere."), support_queue)
    assert row.status == InboundEmail.Status.PROCESSED
    ticket = row.ticket
    assert ticket.subject == "Printer on fire"
    assert ticket.channel == "email"
    assert ticket.requester.email == "carla@example.com"
    assert ticket.requester.name == "Carla Customer"
    assert ticket.messages.get().body.strip() == "Flames everywhere."
    ack = [m for m in mailoutbox if m.to == ["carla@example.com"]]
    assert len(ack) == 1
    assert f"[#{ticket.pk}]" in ack[0].subject
    assert ack[0].extra_headers["Reply-To"] == reply_address(ticket)
    assert ack[0].extra_headers["In-Reply-To"] == row.header_message_id


def test_same_message_id_twice_creates_nothing_new(support_queue):
    raw = build_mail(message_id="<dup-1@example.com>")
    first = ingest(raw, support_queue)
    row, created = store_inbound(raw=raw, source="imap", queue=support_queue)
    assert not created and row.pk == first.pk
    assert Ticket.objects.count() == 1
    assert InboundEmail.objects.count() == 1


def test_processing_twice_is_harmless(support_queue):
    row = ingest(build_mail(), support_queue)
    process_inbound(row.pk)
    process_inbound(row.pk)
    assert Ticket.objects.count() == 1
    assert Message.objects.count() == 1


def test_reply_threads_by_references_anywhere_in_the_chain(support_queue, agent):
    first = ingest(build_mail(message_id="<m1@example.com>"), support_queue)
    ticket = first.ticket
    services.post_reply(ticket=ticket, author=agent, body="Try turning it off.")
    ingest(
        build_mail(
            message_id="<m2@example.com>", in_reply_to="<m1@example.com>", subject="Re: Help"
        ),
        support_queue,
    )
    # A reply that references only the first message (not the latest) still threads.
    third = ingest(
        build_mail(
            message_id="<m3@example.com>",
            references="<unknown@x> <m1@example.com>",
            subject="totally new subject",
        ),
        support_queue,
    )
    assert third.ticket == ticket
    assert Ticket.objects.count() == 1
    assert ticket.messages.count() == 4
    ticket.refresh_from_db()
    assert ticket.status == "open"  # the customer's reply reopened it from pending


def test_reply_to_signed_plus_address_threads(support_queue):
    ticket = ingest(build_mail(), support_queue).ticket
    row = ingest(build_mail(subject="something else", to=reply_address(ticket)), support_queue)
    assert row.ticket == ticket
    forged = f"support+t{ticket.pk}.000000000000@frontline.localhost"
    row = ingest(
        build_mail(subject="forged", to=forged, sender="mallory@evil.example"), support_queue
    )
    assert row.ticket != ticket


def test_subject_token_from_participant_threads(support_queue):
    ticket = ingest(build_mail(), support_queue).ticket
    row = ingest(build_mail(subject=f"Re: [#{ticket.pk}] Help"), support_queue)
    assert row.status == InboundEmail.Status.PROCESSED
    assert row.ticket == ticket


def test_subject_token_from_stranger_is_held_not_added(support_queue, agent):
    ticket = ingest(build_mail(), support_queue).ticket
    row = ingest(
        build_mail(
            sender="mallory@evil.example", subject=f"[#{ticket.pk}] let me in", body="secret?"
        ),
        support_queue,
    )
    assert row.status == InboundEmail.Status.HELD
    assert ticket.messages.count() == 1
    assert not ticket.messages.filter(body__contains="secret?").exists()
    assert TicketEvent.objects.filter(ticket=ticket, kind="mail_held").exists()
    # An agent accepts it: the sender becomes a follower and the message joins the ticket.
    from tickets.services.email import accept_held_email

    accept_held_email(row=row, actor=agent)
    row.refresh_from_db()
    assert row.status == InboundEmail.Status.PROCESSED
    assert ticket.followers.filter(email="mallory@evil.example").exists()
    assert ticket.messages.count() == 2


def test_cc_addresses_become_followers_and_receive_public_replies_not_notes(
    support_queue, agent, mailoutbox
):
    ticket = ingest(
        build_mail(cc="Boss <boss@example.com>, support@frontline.localhost"), support_queue
    ).ticket
    assert list(ticket.followers.values_list("email", flat=True)) == ["boss@example.com"]
    mailoutbox.clear()
    run_on_commit(
        services.post_reply, ticket=ticket, author=agent, body="Internal only", internal=True
    )
    run_on_commit(services.post_reply, ticket=ticket, author=agent, body="Public answer")
    assert len(mailoutbox) == 1
    assert set(mailoutbox[0].to) == {"carla@example.com", "boss@example.com"}
    assert "Internal only" not in mailoutbox[0].body


@pytest.mark.parametrize(
    "headers,sender",
    [
        ({"Auto-Submitted": "auto-replied"}, "carla@example.com"),
        ({"X-Autoreply": "yes"}, "carla@example.com"),
        ({"Precedence": "bulk"}, "carla@example.com"),
        ({}, "MAILER-DAEMON@example.com"),
    ],
)
def test_auto_replies_and_bounces_make_no_ticket_and_no_acknowledgement(
    support_queue, mailoutbox, headers, sender
):
    row = ingest(build_mail(headers=headers, sender=sender, subject="Out of office"), support_queue)
    assert row.status == InboundEmail.Status.IGNORED
    assert Ticket.objects.count() == 0
    assert mailoutbox == []


def test_sender_rate_limit_stops_mail_loops(support_queue, monkeypatch, mailoutbox):
    from tickets.services import email as email_service

    monkeypatch.setattr(email_service, "MAX_SENDER_MESSAGES_PER_HOUR", 3)
    rows = [ingest(build_mail(subject=f"Loop {i}"), support_queue) for i in range(5)]
    assert [r.status for r in rows] == ["processed"] * 3 + ["ignored"] * 2
    assert "loop" in rows[-1].reason


def test_mail_from_our_own_address_is_ignored(support_queue):
    row = ingest(build_mail(sender="support@frontline.localhost"), support_queue)
    assert row.status == InboundEmail.Status.IGNORED


def test_agent_replies_by_email_and_note_marker_makes_internal_note(
    support_queue, agent, mailoutbox
):
    ticket = ingest(build_mail(message_id="<c1@example.com>"), support_queue).ticket
    mailoutbox.clear()
    ingest(
        build_mail(
            sender=f"Alex <{agent.email}>",
            in_reply_to="<c1@example.com>",
            body="Public from my mail client",
        ),
        support_queue,
    )
    ingest(
        build_mail(
            sender=f"Alex <{agent.email}>",
            in_reply_to="<c1@example.com>",
            body="#note\nThe customer is on the old plan.",
        ),
        support_queue,
    )
    public, note = ticket.messages.order_by("id")[1:]
    assert public.is_from_staff and not public.is_internal
    assert note.is_internal and note.body == "The customer is on the old plan."
    assert [m.to for m in mailoutbox] == [["carla@example.com"]]  # the note was not mailed


def test_reply_to_closed_ticket_opens_follow_up(support_queue, agent):
    ticket = ingest(build_mail(message_id="<c9@example.com>"), support_queue).ticket
    services.change_status(ticket=ticket, actor=agent, status="closed")
    row = ingest(build_mail(in_reply_to="<c9@example.com>", body="It broke again"), support_queue)
    assert row.ticket != ticket
    assert f"#{ticket.pk}" in row.ticket.messages.get().body


def test_attachments_are_kept(support_queue):
    row = ingest(
        build_mail(
            attachments=[
                ("log.txt", "text/plain", b"line 1\nline 2\n"),
                ("shot.png", "image/png", b"\x89PNG fake"),
            ]
        ),
        support_queue,
    )
    names = sorted(row.ticket.attachments.values_list("filename", "size"))
    assert names == [("log.txt", 14), ("shot.png", 9)]


def test_unparseable_mail_is_stored_and_marked_failed_then_retried(
    support_queue, agent, monkeypatch
):
    from tickets import mailparse

    def boom(raw):
        raise ValueError("parser exploded")

    monkeypatch.setattr(mailparse, "parse_message", boom)
    row = ingest(build_mail(), support_queue)
    assert row.status == InboundEmail.Status.FAILED
    assert "parser exploded" in row.reason
    assert row.raw.read()  # nothing lost
    monkeypatch.undo()
    run_on_commit(retry_inbound, row=row, actor=agent)
    row.refresh_from_db()
    assert row.status == InboundEmail.Status.PROCESSED


def test_outbound_staff_reply_headers_thread(support_queue, agent, mailoutbox):
    ticket = ingest(build_mail(message_id="<t1@example.com>"), support_queue).ticket
    mailoutbox.clear()
    reply = run_on_commit(services.post_reply, ticket=ticket, author=agent, body="**Fixed**")
    mail = mailoutbox[0]
    assert mail.extra_headers["Message-ID"] == reply.message_id
    assert "<t1@example.com>" in mail.extra_headers["References"]
    assert mail.subject.startswith(f"[#{ticket.pk}]")
    assert mail.alternatives and "<strong>Fixed</strong>" in mail.alternatives[0][0]
    assert MailReference.objects.filter(ticket=ticket, message_id=reply.message_id).exists()


# Sources -----------------------------------------------------------------------------------


def test_maildir_source_stores_and_moves_to_cur(support_queue, tmp_path):
    (tmp_path / "new").mkdir(parents=True)
    for i in range(3):
        (tmp_path / "new" / f"{i}.eml").write_bytes(build_mail(subject=f"maildir {i}"))
    assert run_on_commit(poll_maildir, tmp_path, queue=support_queue) == 3
    assert list((tmp_path / "new").iterdir()) == []
    assert len(list((tmp_path / "cur").iterdir())) == 3
    assert Ticket.objects.count() == 3
    assert poll_maildir(tmp_path, queue=support_queue) == 0


def test_pipe_command_stores_and_exits_zero(support_queue, monkeypatch, capsys):
    raw = build_mail(subject="From the MTA")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    run_on_commit(call_command, "ingest_email", "--queue", "support")
    assert "stored" in capsys.readouterr().out
    assert Ticket.objects.get().subject == "From the MTA"


def test_pipe_command_unknown_queue_fails_cleanly(db, settings):
    from tests.email.conftest import test_db_env

    result = subprocess.run(
        [sys.executable, "manage.py", "ingest_email", "--queue", "nope"],
        cwd=ROOT,
        input=build_mail(),
        capture_output=True,
        timeout=60,
        env=test_db_env(settings),
    )
    assert result.returncode != 0
    assert b"No queue named" in result.stderr


def test_webhook_requires_queue_token(client, support_queue):
    url = reverse("tickets:inbound-webhook", args=["support"])
    raw = build_mail(subject="Via webhook")
    assert client.post(url, raw, content_type="message/rfc822").status_code == 403
    assert (
        client.post(
            url, raw, content_type="message/rfc822", HTTP_X_FRONTLINE_TOKEN="wrong"
        ).status_code
        == 403
    )
    response = run_on_commit(
        client.post,
        url,
        raw,
        content_type="message/rfc822",
        HTTP_X_FRONTLINE_TOKEN="t0ken-for-tests",
    )
    assert response.status_code == 202
    assert Ticket.objects.get().subject == "Via webhook"
    again = client.post(
        url, raw, content_type="message/rfc822", HTTP_X_FRONTLINE_TOKEN="t0ken-for-tests"
    )
    assert again.status_code == 200 and again.json()["stored"] is False
    empty = client.post(
        url, b"", content_type="message/rfc822", HTTP_X_FRONTLINE_TOKEN="t0ken-for-tests"
    )
    assert empty.status_code == 400


def test_original_email_visible_to_agents_only(client, support_queue, agent):
    row = ingest(build_mail(body="Full original text"), support_queue)
    url = reverse("tickets:original-email", args=[row.ticket.pk, row.pk])
    client.force_login(row.ticket.requester)
    assert client.get(url).status_code == 404
    client.force_login(agent)
    response = client.get(url)
    assert response.status_code == 200
    assert b"Full original text" in response.content


def test_admin_lists_failed_messages(client, admin, support_queue):
    InboundEmail.objects.create(
        dedupe_key="sha:x",
        source="imap",
        raw="inbound/x.eml",
        status="failed",
        reason="broken",
        from_address="a@b.c",
    )
    client.force_login(admin)
    response = client.get(
        reverse("admin:tickets_inboundemail_changelist") + "?status__exact=failed"
    )
    assert response.status_code == 200
    assert b"broken" in response.content


def test_user_roles_unchanged_by_mail(support_queue, agent):
    ingest(build_mail(sender=f"<{agent.email}>"), support_queue)
    assert User.objects.get(pk=agent.pk).role == Role.AGENT
