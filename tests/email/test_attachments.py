"""Attachments of inbound mail, including Outlook's winmail.dat (TNEF)."""

from tests.email.helpers import build_mail, build_tnef


def _attachments(ticket):
    return sorted(ticket.attachments.values_list("filename", "content_type", "size"))


def test_files_inside_winmail_dat_are_stored_instead_of_the_container(support_queue, ingest):
    winmail = build_tnef([("report.pdf", b"%PDF-1.4 fake"), ("notes.txt", b"hello")])
    row = ingest(
        build_mail(attachments=[("winmail.dat", "application/ms-tnef", winmail)]), support_queue
    )
    assert _attachments(row.ticket) == [
        ("notes.txt", "text/plain", 5),
        ("report.pdf", "application/pdf", 13),
    ]
    pdf = row.ticket.attachments.get(filename="report.pdf")
    assert pdf.file.read() == b"%PDF-1.4 fake"


def test_files_inside_winmail_dat_on_a_reply_are_stored(support_queue, ingest):
    ticket = ingest(build_mail(message_id="<w1@example.com>"), support_queue).ticket
    winmail = build_tnef([("photo.jpg", b"\xff\xd8\xff fake")])
    ingest(
        build_mail(
            in_reply_to="<w1@example.com>",
            attachments=[("winmail.dat", "application/vnd.ms-tnef", winmail)],
        ),
        support_queue,
    )
    assert _attachments(ticket) == [("photo.jpg", "image/jpeg", 8)]


def test_unreadable_winmail_dat_is_kept_as_it_is(support_queue, ingest):
    row = ingest(
        build_mail(attachments=[("winmail.dat", "application/ms-tnef", b"not tnef at all")]),
        support_queue,
    )
    assert _attachments(row.ticket) == [("winmail.dat", "application/ms-tnef", 15)]
