"""Mail sources keep going past a message they cannot store (the IMAP and POP3 cases, against
a real Dovecot, are in test_real_parts.py)."""

import pytest

from helpdesk.celery import app as celery_app
from helpdesk.services import ServiceError
from tests.email.helpers import build_mail
from tickets import tasks
from tickets.mailsources import poll_maildir
from tickets.models import InboundEmail, Mailbox, Ticket
from tickets.services.email import retry_inbound


def _big_mail(subject="Huge scan"):
    return build_mail(
        subject=subject,
        attachments=[("scan.tiff", "image/tiff", b"\x00" * 8000)],
    )


def test_oversized_and_empty_maildir_files_are_rejected_and_the_rest_stored(
    support_queue, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.INBOUND_MAX_BYTES = 4000
    new = tmp_path / "new"
    new.mkdir()
    (new / "1.eml").write_bytes(build_mail(subject="Small one"))
    (new / "2.eml").write_bytes(_big_mail())
    (new / "3.eml").write_bytes(b"")
    (new / "4.eml").write_bytes(build_mail(subject="Small two"))
    with django_capture_on_commit_callbacks(execute=True):
        assert poll_maildir(tmp_path, queue=support_queue) == 2
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["Small one", "Small two"]
    big = InboundEmail.objects.get(subject="Huge scan")
    assert big.status == InboundEmail.Status.FAILED
    assert "limit is" in big.reason and ".Rejected" in big.reason
    assert big.from_address == "carla@example.com" and not big.raw
    assert InboundEmail.objects.filter(status="failed").count() == 2  # the empty one too
    assert list(new.iterdir()) == []
    assert sorted(p.name for p in (tmp_path / ".Rejected" / "new").iterdir()) == ["2.eml", "3.eml"]
    # Nothing comes back on the next poll.
    assert poll_maildir(tmp_path, queue=support_queue) == 0
    assert InboundEmail.objects.count() == 4


def test_refused_message_cannot_be_retried(support_queue, settings, tmp_path, agent):
    settings.INBOUND_MAX_BYTES = 4000
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "1.eml").write_bytes(_big_mail())
    poll_maildir(tmp_path, queue=support_queue)
    row = InboundEmail.objects.get()
    with pytest.raises(ServiceError, match="nothing to retry"):
        retry_inbound(row=row, actor=agent)


def test_failing_embedded_inbox_does_not_hold_up_mailboxes(
    support_queue, settings, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    box_dir = tmp_path / "box"
    (box_dir / "new").mkdir(parents=True)
    (box_dir / "new" / "1.eml").write_bytes(build_mail(subject="Via the mailbox"))
    Mailbox.objects.create(
        name="Local", queue=support_queue, kind=Mailbox.Kind.MAILDIR, path=str(box_dir)
    )

    def broken_inbox():
        raise PermissionError("var/inbox/new: permission denied")

    monkeypatch.setattr("tickets.mailsources.poll_embedded_inbox", broken_inbox)
    # As with a real worker: a failing task is recorded, it does not fail its caller.
    celery_app.conf.task_eager_propagates = False
    with django_capture_on_commit_callbacks(execute=True):
        tasks.poll_mailboxes()
    assert Ticket.objects.get().subject == "Via the mailbox"
