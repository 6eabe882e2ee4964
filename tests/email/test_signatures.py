"""The ticket shows a mail without its signature; the full original keeps it for agents."""

from django.urls import reverse

from tests.email.helpers import build_mail
from tickets.services.email import store_inbound

SIGNED = (
    "The invoice total is wrong.\n\nBest regards,\nCarla Customer\nCustomer Corp\n+1 555 0199\n"
)


def test_ticket_shows_mail_without_signature_and_original_keeps_it(
    client, support_queue, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        row, _ = store_inbound(raw=build_mail(body=SIGNED), source="pipe", queue=support_queue)
    row.refresh_from_db()
    message = row.ticket.messages.get()
    assert message.body == "The invoice total is wrong.\n\nBest regards,\nCarla Customer"
    assert "555 0199" not in message.body_html
    client.force_login(agent)
    original = client.get(reverse("tickets:original-email", args=[row.ticket.pk, row.pk]))
    assert original.status_code == 200
    assert b"+1 555 0199" in original.content
