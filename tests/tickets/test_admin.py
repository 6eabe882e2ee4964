"""The admin site shows tickets but never changes them behind the services' back."""

from django.urls import reverse

from tickets.models import Ticket


def test_admin_cannot_delete_or_retag_a_ticket(client, admin, ticket):
    client.force_login(admin)
    assert client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).status_code == 200
    delete = reverse("admin:tickets_ticket_delete", args=[ticket.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    response = client.post(
        reverse("admin:tickets_ticket_changelist"),
        {"action": "delete_selected", "_selected_action": [ticket.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302)
    assert Ticket.objects.filter(pk=ticket.pk).exists()
    html = client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()
    assert 'name="tags"' not in html
